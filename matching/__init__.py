"""Standardization and probabilistic matching for Chinese customer records.

A pure library: department records in; standardized records, candidate pairs,
scored and explained decisions and clusters out. No database, no network.
"""

from __future__ import annotations

from matching.record import Identifier, PartyType, RecordError, SourceRecord, parse_record
from matching.types import (
    Flag,
    PhoneKind,
    StandardAddress,
    StandardName,
    StandardPhone,
    StandardRecord,
    Standardized,
)

__all__ = [
    "Flag",
    "Identifier",
    "PartyType",
    "PhoneKind",
    "RecordError",
    "SourceRecord",
    "StandardAddress",
    "StandardName",
    "StandardPhone",
    "StandardRecord",
    "Standardized",
    "parse_record",
]
