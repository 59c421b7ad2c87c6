"""Identifiers: USCC, resident id (15 and 18 digits), other schemes, gender."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric, uscc

from matching.standardize import (
    standardize_gender,
    standardize_identifier,
    standardize_national_id,
    standardize_uscc,
)

VALID_USCC = "91110000600037341L"
VALID_RESIDENT_ID = "11010519491231002X"  # born 1949-12-31, female


def test_fixtures_are_valid_for_stdnum() -> None:
    assert uscc.is_valid(VALID_USCC)
    assert ric.is_valid(VALID_RESIDENT_ID)


@pytest.mark.parametrize(
    "text",
    [
        VALID_USCC,
        "91110000600037341l",
        " 9111 0000-6000 3734 1L ",
        "９１１１００００６０００３７３４１Ｌ",
    ],
)
def test_uscc_is_compacted_and_upper_cased(text: str) -> None:
    assert standardize_uscc(text).value == VALID_USCC


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("91110000600037341A", "invalid_checksum"),
        ("9111000060003734", "invalid_length"),
        ("9111000O600037341L", "invalid_format"),
        ("", "empty"),
    ],
)
def test_invalid_uscc_is_flagged_and_never_returned(text: str, code: str) -> None:
    result = standardize_uscc(text)
    assert result.value is None
    assert [flag.code for flag in result.flags] == [code]


def test_resident_id_gives_birth_date_and_gender() -> None:
    resident = standardize_national_id(VALID_RESIDENT_ID).value
    assert resident is not None
    assert (resident.number, resident.birth_date, resident.gender) == (
        VALID_RESIDENT_ID,
        date(1949, 12, 31),
        "female",
    )


def test_lower_case_check_digit_x_is_accepted() -> None:
    resident = standardize_national_id(VALID_RESIDENT_ID.lower()).value
    assert resident is not None
    assert resident.number == VALID_RESIDENT_ID


def test_odd_sequence_digit_is_male() -> None:
    body = "11010519800101001"  # 17th digit 1: odd
    number = body + ric.calc_check_digit(body + "0")
    resident = standardize_national_id(number).value
    assert resident is not None
    assert resident.gender == "male"


def test_old_15_digit_resident_id_converts_to_18() -> None:
    result = standardize_national_id("110105491231002")
    assert result.value is not None
    assert result.value.number == VALID_RESIDENT_ID
    assert result.value.converted_from_15
    assert result.value.birth_date == date(1949, 12, 31)
    assert [flag.code for flag in result.flags] == ["converted_from_15"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("110105194912310021", "invalid_checksum"),
        ("1101051949123100", "invalid_length"),
        ("11010519491231002Y", "invalid_checksum"),
        ("abcdefghijklmnopqr", "invalid_format"),
    ],
)
def test_invalid_resident_id_is_flagged_and_never_returned(text: str, code: str) -> None:
    result = standardize_national_id(text)
    assert result.value is None
    assert [flag.code for flag in result.flags] == [code]


def test_resident_id_with_impossible_birth_date_is_invalid() -> None:
    body = "11010519491331002"  # month 13
    result = standardize_national_id(body + ric.calc_check_digit(body + "0"))
    assert result.value is None
    assert [flag.code for flag in result.flags] == ["invalid_component"]


@pytest.mark.parametrize(
    ("scheme", "value", "expected"),
    [
        ("passport_no", " e1234 5678 ", ("passport", "E12345678")),
        ("Passport Number", "E12345678", ("passport", "E12345678")),
        ("DUNS", "15-048-3782", ("duns", "150483782")),
        ("tax_id", "91110000600037341l", ("tax", "91110000600037341L")),
        ("frequent_flyer", "ca-123", ("frequent_flyer", "CA123")),
        ("uscc", "91110000600037341l", ("uscc", VALID_USCC)),
        ("resident_id", "110105491231002", ("national_id", VALID_RESIDENT_ID)),
    ],
)
def test_identifier_type_and_value_are_canonical(
    scheme: str, value: str, expected: tuple[str, str]
) -> None:
    assert standardize_identifier(scheme, value).value == expected


def test_identifier_of_checked_scheme_is_validated() -> None:
    result = standardize_identifier("uscc", "91110000600037341A")
    assert result.value is None
    assert [flag.code for flag in result.flags] == ["invalid_checksum"]


def test_empty_identifier_value_is_flagged() -> None:
    result = standardize_identifier("passport", " - ")
    assert result.value is None
    assert [flag.code for flag in result.flags] == ["empty"]


@pytest.mark.parametrize(
    ("text", "gender"),
    [("男", "male"), ("M", "male"), ("Male", "male"), ("女", "female"), ("f", "female")],
)
def test_gender_spellings(text: str, gender: str) -> None:
    assert standardize_gender(text).value == gender


def test_unknown_gender_is_flagged() -> None:
    result = standardize_gender("unknown")
    assert result.value is None
    assert [flag.code for flag in result.flags] == ["unknown_gender"]


def test_resident_id_of_someone_born_before_1983_is_valid() -> None:
    # stdnum wants the region code to exist in the birth year; its history
    # starts in 1983 for most provinces, so these real-looking ids failed.
    result = standardize_national_id("370102195305269321")
    assert result.value is not None
    assert result.value.birth_date.year == 1953
    old = standardize_national_id("370102530526932")
    assert old.value is not None
    assert old.value.number == "370102195305269321"


def test_resident_id_with_an_unknown_region_is_invalid() -> None:
    body = "99999919530526932"
    result = standardize_national_id(body + ric.calc_check_digit(body + "0"))
    assert result.value is None
    assert result.flags[0].code == "invalid_component"
