"""Benchmarks: a generated corpus of Chinese department records, and matching runs on it."""
