"""The source-record contract: what a department submits about one customer.

A record arrives as a JSON object (or a CSV row with the same column names, list
fields ``;``-separated). :func:`parse_record` checks it against the contract and
returns an immutable :class:`SourceRecord`; a violation raises
:class:`RecordError` naming the record and the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol

from matching.fastpickle import pickled_by_fields

__all__ = [
    "LIST_FIELDS",
    "RECORD_FIELDS",
    "Identifier",
    "PartyType",
    "RecordError",
    "SourceRecord",
    "parse_record",
    "record_to_dict",
]

MAX_TEXT_LENGTH = 2_000
MAX_LIST_LENGTH = 50


class PartyType(StrEnum):
    """Whether the customer is an organization or a natural person."""

    ORGANIZATION = "organization"
    PERSON = "person"


class RecordError(ValueError):
    """A record violates the input contract.

    ``field`` names the offending field (``None`` for the record as a whole);
    ``record`` identifies the record (its ``source_key`` or position) when known.
    """

    def __init__(self, field: str | None, message: str, *, record: str | None = None) -> None:
        self.field = field
        self.message = message
        self.record = record
        where = f"record {record}: " if record is not None else ""
        what = f"field '{field}': " if field is not None else ""
        super().__init__(f"{where}{what}{message}")


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Identifier:
    """An identifier in a scheme other than USCC and resident id (passport, DUNS, ...)."""

    type: str
    value: str


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One department's view of one customer, exactly as submitted (raw values)."""

    source: str
    source_key: str
    party_type: PartyType
    name: str
    name_en: str | None = None
    uscc: str | None = None
    national_id: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    address: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    postal_code: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    contact_name: str | None = None
    industry: str | None = None
    ownership: str | None = None
    category: str | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


_TEXT_FIELDS = (
    "name_en",
    "uscc",
    "national_id",
    "address",
    "province",
    "city",
    "district",
    "postal_code",
    "gender",
    "contact_name",
    "industry",
    "ownership",
    "category",
)
LIST_FIELDS = ("identifiers", "phones", "emails")
RECORD_FIELDS = (
    "source",
    "source_key",
    "party_type",
    "name",
    *_TEXT_FIELDS,
    *LIST_FIELDS,
    "birth_date",
    "updated_at",
)
_KNOWN_FIELDS = frozenset(RECORD_FIELDS)


def parse_record(
    obj: object, *, source: str | None = None, position: int | None = None
) -> SourceRecord:
    """Check ``obj`` against the contract and return the record it describes.

    ``source``, when given, is the submitting department: it fills a missing
    ``source`` field and must agree with a present one. ``position`` names the
    record in errors until its ``source_key`` is known.
    """
    label = str(position) if position is not None else None
    if not isinstance(obj, Mapping):
        raise RecordError(None, f"expected a JSON object, got {_kind(obj)}", record=label)
    raw: Mapping[str, Any] = obj
    key_value = raw.get("source_key")
    if isinstance(key_value, str | int) and not isinstance(key_value, bool):
        label = str(key_value) if position is None else f"{position} ({key_value})"

    def fail(field_name: str | None, message: str) -> RecordError:
        return RecordError(field_name, message, record=label)

    record_source = _optional_text(raw, "source", fail)
    if source is not None:
        if record_source is not None and record_source != source:
            raise fail("source", f"is '{record_source}' but the batch is for '{source}'")
        record_source = source
    if record_source is None:
        raise fail("source", "is required")
    source_key = _required_key(raw, fail)
    party_type = _party_type(raw, fail)
    name = _optional_text(raw, "name", fail)
    if name is None:
        raise fail("name", "is required")

    # A record fills a few of the optional fields: only those present are checked.
    texts: dict[str, str | None] = dict.fromkeys(_TEXT_FIELDS)
    for name_ in _TEXT_FIELDS:
        value = raw.get(name_)
        if value is not None:
            texts[name_] = _text_value(value, name_, fail)
    extra = {k: v for k, v in raw.items() if k not in _KNOWN_FIELDS}
    for extra_key in extra:
        if not isinstance(extra_key, str):
            raise fail(None, f"attribute names must be text, got {_kind(extra_key)}")
    return SourceRecord(
        source=record_source,
        source_key=source_key,
        party_type=party_type,
        name=name,
        identifiers=_identifiers(raw, fail),
        phones=_text_list(raw, "phones", fail),
        emails=_text_list(raw, "emails", fail),
        birth_date=_date(raw, fail),
        updated_at=_timestamp(raw, fail),
        extra=extra,
        **texts,
    )


def record_to_dict(record: SourceRecord) -> dict[str, Any]:
    """The record as a JSON-ready object in the contract's shape (absent fields omitted)."""
    out: dict[str, Any] = {
        "source": record.source,
        "source_key": record.source_key,
        "party_type": record.party_type.value,
        "name": record.name,
    }
    for name_ in _TEXT_FIELDS:
        value = getattr(record, name_)
        if value is not None:
            out[name_] = value
    if record.identifiers:
        out["identifiers"] = [{"type": i.type, "value": i.value} for i in record.identifiers]
    if record.phones:
        out["phones"] = list(record.phones)
    if record.emails:
        out["emails"] = list(record.emails)
    if record.birth_date is not None:
        out["birth_date"] = record.birth_date.isoformat()
    if record.updated_at is not None:
        out["updated_at"] = record.updated_at.isoformat()
    out.update(record.extra)
    return out


class _Fail(Protocol):
    def __call__(self, field_name: str | None, message: str) -> RecordError: ...


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "a list"
    return type(value).__name__


def _clean_text(value: str, field_name: str, fail: _Fail) -> str | None:
    if _unacceptable(value):
        raise _text_error(value, field_name, fail)
    stripped = value.strip()
    return stripped or None


def _unacceptable(value: str) -> bool:
    """Whether a text value is too long or holds a NUL character."""
    return len(value) > MAX_TEXT_LENGTH or "\x00" in value


def _text_error(value: str, field_name: str, fail: _Fail) -> RecordError:
    """Why :func:`_unacceptable` refuses ``value``."""
    if len(value) > MAX_TEXT_LENGTH:
        return fail(field_name, f"is {len(value)} characters long; the limit is {MAX_TEXT_LENGTH}")
    return fail(field_name, "contains a NUL character")


def _optional_text(raw: Mapping[str, Any], field_name: str, fail: _Fail) -> str | None:
    value = raw.get(field_name)
    return None if value is None else _text_value(value, field_name, fail)


def _text_value(value: object, field_name: str, fail: _Fail) -> str | None:
    """A present text field's value, stripped (``None`` when blank)."""
    if not isinstance(value, str):
        raise fail(field_name, f"must be text, got {_kind(value)}")
    return _clean_text(value, field_name, fail)


def _required_key(raw: Mapping[str, Any], fail: _Fail) -> str:
    value = raw.get("source_key")
    if value is None:
        raise fail("source_key", "is required")
    # Departments often export numeric ids; an integer key is read as its digits.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise fail("source_key", f"must be text, got {_kind(value)}")
    if len(value) > 200:
        raise fail("source_key", "is longer than 200 characters")
    cleaned = _clean_text(value, "source_key", fail)
    if cleaned is None:
        raise fail("source_key", "is required")
    return cleaned


def _party_type(raw: Mapping[str, Any], fail: _Fail) -> PartyType:
    value = raw.get("party_type")
    if value is None:
        raise fail("party_type", "is required ('organization' or 'person')")
    if not isinstance(value, str):
        raise fail("party_type", f"must be text, got {_kind(value)}")
    party_type = _PARTY_TYPES.get(value.strip().lower())
    if party_type is None:
        raise fail("party_type", f"'{value}' is not 'organization' or 'person'")
    return party_type


# By value: calling the enum class is a slow lookup, made for every record.
_PARTY_TYPES = {party.value: party for party in PartyType}


def _list_items(raw: Mapping[str, Any], field_name: str, fail: _Fail) -> list[Any]:
    value = raw.get(field_name)
    if value is None:
        return []
    if isinstance(value, str):
        # CSV carries lists as ';'-separated text.
        return [part for part in value.split(";") if part.strip()]
    if isinstance(value, Mapping) or not isinstance(value, Sequence):
        raise fail(field_name, f"must be a list, got {_kind(value)}")
    if len(value) > MAX_LIST_LENGTH:
        raise fail(field_name, f"has {len(value)} items; the limit is {MAX_LIST_LENGTH}")
    return list(value)


def _text_list(raw: Mapping[str, Any], field_name: str, fail: _Fail) -> tuple[str, ...]:
    out: list[str] = []
    for i, given in enumerate(_list_items(raw, field_name, fail)):
        # Spreadsheets turn phone numbers into integers; their digits are the number.
        phone_number = isinstance(given, int) and not isinstance(given, bool)
        item = str(given) if phone_number and field_name == "phones" else given
        if not isinstance(item, str):
            raise fail(f"{field_name}[{i}]", f"must be text, got {_kind(item)}")
        if _unacceptable(item):
            # The item's field name is only spelt out for the error.
            raise _text_error(item, f"{field_name}[{i}]", fail)
        cleaned = item.strip()
        if cleaned and cleaned not in out:
            out.append(cleaned)
    return tuple(out)


def _identifiers(raw: Mapping[str, Any], fail: _Fail) -> tuple[Identifier, ...]:
    out: list[Identifier] = []
    for i, given in enumerate(_list_items(raw, "identifiers", fail)):
        where = f"identifiers[{i}]"
        item = given
        if isinstance(given, str):
            # CSV form: "type:value".
            scheme, sep, value = given.partition(":")
            if not sep:
                raise fail(where, f"'{given}' is not in the form type:value")
            item = {"type": scheme, "value": value}
        if not isinstance(item, Mapping):
            raise fail(where, f"must be an object with 'type' and 'value', got {_kind(item)}")
        scheme_raw, value_raw = item.get("type"), item.get("value")
        if not isinstance(scheme_raw, str) or not scheme_raw.strip():
            raise fail(f"{where}.type", "must be non-empty text")
        if isinstance(value_raw, int) and not isinstance(value_raw, bool):
            value_raw = str(value_raw)
        if not isinstance(value_raw, str):
            raise fail(f"{where}.value", f"must be text, got {_kind(value_raw)}")
        scheme_text = _clean_text(scheme_raw, f"{where}.type", fail)
        value_text = _clean_text(value_raw, f"{where}.value", fail)
        if scheme_text is None or value_text is None:
            raise fail(where, "needs both a type and a value")
        identifier = Identifier(type=scheme_text.lower(), value=value_text)
        if identifier not in out:
            out.append(identifier)
    return tuple(out)


def _date(raw: Mapping[str, Any], fail: _Fail) -> date | None:
    value = _optional_text(raw, "birth_date", fail)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail("birth_date", f"'{value}' is not an ISO date (YYYY-MM-DD)") from None


def _timestamp(raw: Mapping[str, Any], fail: _Fail) -> datetime | None:
    value = raw.get("updated_at")
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise fail("updated_at", "is not a finite number")
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise fail("updated_at", f"{value} is not a valid epoch timestamp") from None
    text = _optional_text(raw, "updated_at", fail)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise fail("updated_at", f"'{text}' is not an ISO timestamp") from None
    # A zone-less timestamp is read as UTC so that timestamps from different
    # departments stay comparable.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
