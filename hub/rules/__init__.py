"""Versioned rule files (survivorship, classification, credit policy)."""
