"""Masking of personal identifiers for callers without PII access."""

from __future__ import annotations


def mask_national_id(value: str) -> str:
    """``110105198503124136`` → ``1101**********4136``."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """``+8613800138000`` → ``+86138****8000``: carrier and last digits stay readable."""
    digits = len(value)
    if digits <= 7:
        return "*" * digits
    return value[: digits - 8] + "****" + value[-4:]


def mask_email(value: str) -> str:
    """``li.na@example.cn`` → ``l***@example.cn``."""
    local, at, domain = value.partition("@")
    if not at:
        return "***"
    return (local[:1] or "*") + "***@" + domain
