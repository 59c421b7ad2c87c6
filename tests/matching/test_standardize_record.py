"""Whole records: every field standardized, flags collected, JSON round trip."""

from __future__ import annotations

import json
import pickle
from datetime import date
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.record import PartyType, parse_record
from matching.standardize import (
    standard_record_from_dict,
    standard_record_json,
    standard_record_to_dict,
    standardize_record,
)
from matching.types import PhoneKind, StandardRecord

VALID_USCC = "91110000600037341L"
VALID_RESIDENT_ID = "11010519491231002X"  # born 1949-12-31, female


def standardize(**fields: Any) -> StandardRecord:
    return standardize_record(parse_record({"source": "crm", "source_key": "k1", **fields}))


def flag_codes(record: StandardRecord) -> list[tuple[str, str]]:
    return [(flag.field, flag.code) for flag in record.flags]


def test_organization_record_is_standardized_field_by_field() -> None:
    record = standardize(
        party_type="organization",
        name="華為技術（北京）有限公司",
        name_en="Beijing Huawei Technologies Co., Ltd.",
        uscc="91110000600037341l",
        phones=["010-12345678", "+86 138 0013 8000", "010 1234 5678"],
        emails=[" Info@Huawei.COM "],
        address="北京市海淀区中关村大街1号",
        postal_code="100080",
        identifiers=[{"type": "DUNS", "value": "15-048-3782"}],
    )
    assert record.key == ("crm", "k1")
    assert record.party_type is PartyType.ORGANIZATION
    assert (record.name.region, record.name.trade, record.name.trade_pinyin) == (
        "北京",
        "华为",
        "huawei",
    )
    assert record.name_en is not None
    assert record.name_en.trade_pinyin == "huawei"
    assert record.uscc == VALID_USCC
    assert [(p.e164, p.kind) for p in record.phones] == [
        ("+861012345678", PhoneKind.LANDLINE),
        ("+8613800138000", PhoneKind.MOBILE),
    ]
    assert record.emails == ("info@huawei.com",)
    assert (record.address.province, record.address.district, record.address.region) == (
        "北京",
        "海淀区",
        "华北",
    )
    assert record.identifiers == (("duns", "150483782"),)
    assert record.flags == ()


def test_person_record_takes_birth_date_and_gender_from_resident_id() -> None:
    record = standardize(party_type="person", name="王偉", national_id="110105491231002")
    assert record.name.tokens == ("wang", "wei")
    assert record.national_id == VALID_RESIDENT_ID
    assert (record.birth_date, record.gender) == (date(1949, 12, 31), "female")
    assert flag_codes(record) == [("national_id", "converted_from_15")]


def test_conflict_between_given_and_derived_values_is_flagged() -> None:
    record = standardize(
        party_type="person",
        name="王伟",
        national_id=VALID_RESIDENT_ID,
        birth_date="1950-01-01",
        gender="男",
    )
    assert (record.birth_date, record.gender) == (date(1950, 1, 1), "male")
    assert flag_codes(record) == [
        ("birth_date", "conflicts_with_national_id"),
        ("gender", "conflicts_with_national_id"),
    ]


def test_invalid_values_are_flagged_with_their_field_and_left_out() -> None:
    record = standardize(
        party_type="organization",
        name="某某科技有限公司",
        uscc="91110000600037341A",
        phones=["13800138000", "12345"],
        emails=["not-an-email"],
        postal_code="12",
    )
    assert record.uscc is None
    assert [p.e164 for p in record.phones] == ["+8613800138000"]
    assert record.emails == ()
    assert flag_codes(record) == [
        ("uscc", "invalid_checksum"),
        ("postal_code", "invalid"),
        ("phones[1]", "invalid"),
        ("emails[0]", "invalid"),
    ]


def test_local_landline_takes_the_area_code_of_the_records_city() -> None:
    record = standardize(
        party_type="organization", name="某某物流有限公司", phones=["5345 7609"], city="上海"
    )
    assert [p.e164 for p in record.phones] == ["+862153457609"]
    assert flag_codes(record) == [("phones[0]", "area_code_added")]


def test_local_landline_without_a_known_city_stays_invalid() -> None:
    record = standardize(party_type="organization", name="某某物流有限公司", phones=["53457609"])
    assert record.phones == ()
    assert flag_codes(record) == [("phones[0]", "invalid")]


def test_uscc_given_only_among_identifiers_fills_its_slot() -> None:
    record = standardize(
        party_type="organization",
        name="某某科技有限公司",
        identifiers=[{"type": "uscc", "value": VALID_USCC}],
    )
    assert record.uscc == VALID_USCC


def test_name_without_letters_keeps_an_empty_name_and_a_flag() -> None:
    record = standardize(party_type="organization", name="\u200b\u200b")
    assert (record.name.raw, record.name.trade) == ("\u200b\u200b", "")
    assert flag_codes(record) == [("name", "empty")]


def test_person_latin_name_uses_the_person_rules() -> None:
    record = standardize(party_type="person", name="王伟", name_en="WEI WANG")
    assert record.name_en is not None
    assert record.name_en.tokens == record.name.tokens


def test_round_trip_through_json_is_exact() -> None:
    record = standardize(
        party_type="person",
        name="王先生",
        name_en="Mr Wang",
        national_id="110105491231002",
        phones=["010 1234 5678 转 8"],
        emails=["w@example.com"],
        address="广东省深圳市南山区科技园",
        postal_code="518057",
        identifiers=[{"type": "passport", "value": "E1234"}],
        contact_name="李 四",
    )
    data = json.loads(json.dumps(standard_record_to_dict(record)))
    assert standard_record_from_dict(data) == record
    assert record.flags  # the round trip covers flags too


def test_contact_name_is_romanised_and_older_stored_records_get_it_on_reading() -> None:
    record = standardize(party_type="organization", name="华为技术有限公司", contact_name="張偉")
    assert (record.contact_name, record.contact_pinyin) == ("张伟", "zhangwei")
    stored = standard_record_to_dict(record)
    del stored["contact_pinyin"]  # written before the field existed
    assert standard_record_from_dict(stored) == record


_TEXT = st.text(max_size=60)
_OPTIONAL = st.none() | _TEXT


@settings(max_examples=60, deadline=None)
@given(
    party_type=st.sampled_from(["organization", "person"]),
    name=st.text(min_size=1, max_size=60).filter(lambda s: s.strip() and "\x00" not in s),
    name_en=_OPTIONAL,
    phones=st.lists(_TEXT, max_size=3),
    address=_OPTIONAL,
    province=_OPTIONAL,
    postal_code=_OPTIONAL,
)
def test_any_record_round_trips(
    party_type: str,
    name: str,
    name_en: str | None,
    phones: list[str],
    address: str | None,
    province: str | None,
    postal_code: str | None,
) -> None:
    fields = {
        "party_type": party_type,
        "name": name,
        "name_en": name_en,
        "phones": [p for p in phones if "\x00" not in p],
        "address": address,
        "province": province,
        "postal_code": postal_code,
    }
    cleaned = {k: v for k, v in fields.items() if not (isinstance(v, str) and "\x00" in v)}
    record = standardize(**cleaned)
    data = json.loads(json.dumps(standard_record_to_dict(record)))
    assert standard_record_from_dict(data) == record


# Text JSON can carry (no lone surrogates: neither writer takes them).
_JSON_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(
    party_type=st.sampled_from(["organization", "person"]),
    name=_JSON_TEXT.filter(lambda s: s.strip() and "\x00" not in s),
    name_en=st.none() | _JSON_TEXT,
    phones=st.lists(_JSON_TEXT, max_size=3),
    address=st.none() | _JSON_TEXT,
    contact_name=st.none() | _JSON_TEXT,
    national_id=st.sampled_from([None, VALID_RESIDENT_ID, "12345"]),
)
def test_json_written_from_the_dataclasses_is_the_dict(
    party_type: str,
    name: str,
    name_en: str | None,
    phones: list[str],
    address: str | None,
    contact_name: str | None,
    national_id: str | None,
) -> None:
    fields = {
        "party_type": party_type,
        "name": name,
        "name_en": name_en,
        "phones": phones,
        "address": address,
        "contact_name": contact_name,
        "national_id": national_id,
        "birth_date": "1990-02-03",
        "identifiers": [{"type": "passport", "value": "E1234"}],
        "emails": ["w@example.com"],
    }
    cleaned = {k: v for k, v in fields.items() if not (isinstance(v, str) and "\x00" in v)}
    record = standardize(
        **{k: [p for p in v if "\x00" not in p] if k == "phones" else v for k, v in cleaned.items()}
    )
    assert orjson.loads(standard_record_json(record)) == standard_record_to_dict(record)


def test_records_survive_pickling_between_processes() -> None:
    record = standardize(
        party_type="person",
        name="王伟",
        national_id=VALID_RESIDENT_ID,
        phones=["13800138000", "12345"],
        identifiers=[{"type": "passport", "value": "E12345678"}],
        city="北京",
    )
    assert pickle.loads(pickle.dumps(record)) == record


def test_reference_tables_load_ahead_of_the_first_record() -> None:
    from matching.standardize import load_reference_tables
    from matching.standardize.divisions import division_table
    from matching.standardize.phones import _area_codes
    from matching.standardize.text import _single_readings

    for cached in (division_table, _area_codes, _single_readings):
        cached.cache_clear()
    standardize(party_type="organization", name="华为技术有限公司", city="北京")  # cached values
    load_reference_tables()
    assert [c.cache_info().currsize for c in (division_table, _area_codes, _single_readings)] == [
        1,
        1,
        1,
    ]


def test_industry_field_becomes_a_sector_and_older_stored_records_read_without_it() -> None:
    record = standardize(party_type="organization", name="沃佳", industry="汽车行业")
    assert record.industry == "automotive"
    stored = standard_record_to_dict(record)
    assert standard_record_from_dict(stored) == record
    del stored["industry"]  # written before the field existed
    assert standard_record_from_dict(stored).industry is None
