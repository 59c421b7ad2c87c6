"""Stored standardized records read back: every field, and the fields added after them."""

from __future__ import annotations

import json
from datetime import date

import pytest

from matching.record import PartyType, parse_record
from matching.standardize import (
    standard_record_from_dict,
    standard_record_to_dict,
    standardize_record,
)
from matching.types import Flag, PhoneKind, StandardAddress, StandardPhone, StandardRecord


def stored_form(record: StandardRecord) -> dict[str, object]:
    """What the hub's JSONB column gives back."""
    data: dict[str, object] = json.loads(json.dumps(standard_record_to_dict(record)))
    return data


def a_person() -> StandardRecord:
    return standardize_record(
        parse_record(
            {
                "source": "crm",
                "source_key": "p1",
                "party_type": "person",
                "name": "王伟先生",
                "name_en": "Wang Wei",
                "national_id": "11010519491231002X",
                "identifiers": [{"type": "passport", "value": "e1234567"}],
                "phones": ["+86 138 0013 8000", "010 1234 5678 转 8"],
                "emails": ["Wang.Wei@Example.com"],
                "address": "Flat 2, 6 Tullaroop Street",
                "city": "Willaroo",
                "postal_code": "SW1A 1AA",
                "contact_name": "李四",
            }
        )
    )


def test_every_field_reads_back_as_it_was_written() -> None:
    record = a_person()
    read = standard_record_from_dict(stored_form(record))
    assert read == record
    assert read.party_type is PartyType.PERSON
    assert read.birth_date == date(1949, 12, 31)
    assert read.phones[0] == StandardPhone("+8613800138000", PhoneKind.MOBILE)
    assert read.identifiers == (("passport", "E1234567"),)
    assert read.name_en is not None
    assert read.name_en.is_latin
    assert read.flags
    assert all(isinstance(flag, Flag) for flag in read.flags)


def test_an_address_stored_before_its_foreign_parts_existed_reads_them_as_none() -> None:
    record = a_person()
    data = stored_form(record)
    address = data["address"]
    assert isinstance(address, dict)
    for later in ("locality", "state", "postcode"):
        del address[later]
    read = standard_record_from_dict(data)
    assert read.address == StandardAddress(
        province=record.address.province,
        city=record.address.city,
        district=record.address.district,
        detail=record.address.detail,
        region=record.address.region,
        postal_code=record.address.postal_code,
    )


def test_a_record_missing_a_field_it_always_had_is_refused() -> None:
    data = stored_form(a_person())
    del data["uscc"]
    with pytest.raises(KeyError):
        standard_record_from_dict(data)
