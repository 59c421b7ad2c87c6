"""The standardized record as JSON (the hub keeps it in a JSONB column) and back, exactly."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson

from matching.record import PartyType
from matching.standardize.text import romanize
from matching.types import (
    Flag,
    PhoneKind,
    StandardAddress,
    StandardName,
    StandardPhone,
    StandardRecord,
)

__all__ = ["standard_record_from_dict", "standard_record_json", "standard_record_to_dict"]

_NAME_TEXT_FIELDS = ("raw", "normalized", "core", "trade", "pinyin", "trade_pinyin")
_NAME_OPTIONAL_FIELDS = ("industry_term", "legal_form", "region", "branch")
_ADDRESS_FIELDS = ("province", "city", "district", "detail", "region", "postal_code")
# Added later: records stored before them read as None.
_ADDRESS_LATER_FIELDS = ("locality", "state", "postcode")
# By value: calling an enum class is a slow lookup, and a hub reads back
# thousands of stored records per submitted batch.
_PARTY_TYPES = {party.value: party for party in PartyType}
_PHONE_KINDS = {kind.value: kind for kind in PhoneKind}


def standard_record_to_dict(record: StandardRecord) -> dict[str, Any]:
    """A JSON-safe object holding every field of ``record``."""
    return {
        "source": record.source,
        "source_key": record.source_key,
        "party_type": record.party_type.value,
        "name": _name_to_dict(record.name),
        "name_en": _name_to_dict(record.name_en) if record.name_en is not None else None,
        "uscc": record.uscc,
        "national_id": record.national_id,
        "identifiers": [[kind, value] for kind, value in record.identifiers],
        "phones": [{"e164": phone.e164, "kind": phone.kind.value} for phone in record.phones],
        "emails": list(record.emails),
        "address": {
            key: getattr(record.address, key) for key in _ADDRESS_FIELDS + _ADDRESS_LATER_FIELDS
        },
        "birth_date": record.birth_date.isoformat() if record.birth_date is not None else None,
        "gender": record.gender,
        "contact_name": record.contact_name,
        "contact_pinyin": record.contact_pinyin,
        "industry": record.industry,
        "flags": [
            {"field": flag.field, "code": flag.code, "message": flag.message}
            for flag in record.flags
        ],
    }


def standard_record_json(record: StandardRecord) -> bytes:
    """:func:`standard_record_to_dict` of ``record`` as JSON (UTF-8), its keys in field order.

    The same object, written straight from the dataclasses (several times
    faster); only the order of its keys differs, which a JSONB column drops.
    """
    return orjson.dumps(record)


def standard_record_from_dict(data: Mapping[str, Any]) -> StandardRecord:
    """The record :func:`standard_record_to_dict` wrote; ``KeyError`` if a field is missing.

    The hub reads back thousands of stored records per submitted batch: each
    value is built with its fields in declaration order (no keyword dicts to
    unpack), and empty lists become the empty tuple without a loop.
    """
    birth_date = data["birth_date"]
    name_en = data["name_en"]
    contact = data["contact_name"]
    identifiers = data["identifiers"]
    phones = data["phones"]
    flags = data["flags"]
    return StandardRecord(
        data["source"],
        data["source_key"],
        _PARTY_TYPES[data["party_type"]],
        _name_from_dict(data["name"]),
        _name_from_dict(name_en) if name_en is not None else None,
        data["uscc"],
        data["national_id"],
        tuple([(kind, value) for kind, value in identifiers]) if identifiers else (),
        tuple([StandardPhone(phone["e164"], _PHONE_KINDS[phone["kind"]]) for phone in phones])
        if phones
        else (),
        tuple(data["emails"]),
        _address_from_dict(data["address"]),
        date.fromisoformat(birth_date) if birth_date is not None else None,
        data["gender"],
        contact,
        tuple([Flag(flag["field"], flag["code"], flag["message"]) for flag in flags])
        if flags
        else (),
        # Added later: a record stored before it gets it computed.
        data["contact_pinyin"]
        if "contact_pinyin" in data
        else (romanize(contact) if contact else None),
        # Added later: a record stored before it reads as having none.
        data.get("industry"),
    )


def _address_from_dict(data: Mapping[str, Any]) -> StandardAddress:
    # locality, state and postcode were added later: records stored before them read as None.
    return StandardAddress(
        data["province"],
        data["city"],
        data["district"],
        data["detail"],
        data["region"],
        data["postal_code"],
        data.get("locality"),
        data.get("state"),
        data.get("postcode"),
    )


def _name_to_dict(name: StandardName) -> dict[str, Any]:
    out: dict[str, Any] = {key: getattr(name, key) for key in _NAME_TEXT_FIELDS}
    out["tokens"] = list(name.tokens)
    out.update({key: getattr(name, key) for key in _NAME_OPTIONAL_FIELDS})
    out["is_latin"] = name.is_latin
    return out


def _name_from_dict(data: Mapping[str, Any]) -> StandardName:
    return StandardName(
        data["raw"],
        data["normalized"],
        data["core"],
        data["trade"],
        data["pinyin"],
        data["trade_pinyin"],
        tuple(data["tokens"]),
        data["industry_term"],
        data["legal_form"],
        data["region"],
        data["branch"],
        bool(data["is_latin"]),
    )
