"""Phones: E.164 with China as the default region, mobile or landline."""

from __future__ import annotations

import pytest

from matching.standardize import standardize_phone
from matching.standardize.phones import area_code_of
from matching.types import PhoneKind


@pytest.mark.parametrize(
    "text",
    [
        "+86 138 0013 8000",
        "86 138 0013 8000",
        "8613800138000",
        "0086 13800138000",
        "13800138000",
        "138-0013-8000",
        "＋８６ １３８００１３８０００",
    ],
)
def test_mobile_formats_normalise(text: str) -> None:
    result = standardize_phone(text)
    assert result.value is not None
    assert (result.value.e164, result.value.kind) == ("+8613800138000", PhoneKind.MOBILE)
    assert result.flags == ()


@pytest.mark.parametrize(
    "text",
    [
        "(010)12345678",
        "010-12345678",
        "010 1234 5678",
        "（０１０）１２３４５６７８",
        "+86 10 1234 5678",
    ],
)
def test_landline_formats_normalise(text: str) -> None:
    result = standardize_phone(text)
    assert result.value is not None
    assert (result.value.e164, result.value.kind) == ("+861012345678", PhoneKind.LANDLINE)


@pytest.mark.parametrize(
    "text",
    ["010 1234 5678 转 123", "010-12345678分机123", "010-12345678 ext. 123", "010-12345678#123"],
)
def test_extension_is_dropped_and_flagged(text: str) -> None:
    result = standardize_phone(text)
    assert result.value is not None
    assert result.value.e164 == "+861012345678"
    assert [flag.code for flag in result.flags] == ["extension_dropped"]


def test_service_number_is_other() -> None:
    result = standardize_phone("400-812-3123")
    assert result.value is not None
    assert result.value.kind is PhoneKind.OTHER


def test_foreign_number_with_country_code_keeps_it() -> None:
    result = standardize_phone("+1 650 253 0000")
    assert result.value is not None
    assert result.value.e164 == "+16502530000"


@pytest.mark.parametrize(
    ("text", "code"), [("12345", "invalid"), ("abc", "unparseable"), ("", "unparseable")]
)
def test_invalid_number_is_flagged_without_value(text: str, code: str) -> None:
    result = standardize_phone(text)
    assert result.value is None
    assert [flag.code for flag in result.flags] == [code]


@pytest.mark.parametrize(
    ("city", "code"), [("厦门", "592"), ("北京", "10"), ("哈尔滨", "451"), ("重庆", "23")]
)
def test_area_code_of_a_city_comes_from_the_numbering_plan(city: str, code: str) -> None:
    assert area_code_of(city) == code


def test_unknown_city_has_no_area_code() -> None:
    assert area_code_of("不存在市") is None
    assert area_code_of(None) is None


@pytest.mark.parametrize("text", ["2437843", "243 7843", "243-7843"])
def test_local_number_takes_the_given_area_code_and_is_flagged(text: str) -> None:
    result = standardize_phone(text, area_code="592")
    assert result.value is not None
    assert (result.value.e164, result.value.kind) == ("+865922437843", PhoneKind.LANDLINE)
    assert [flag.code for flag in result.flags] == ["area_code_added"]


def test_a_number_with_its_own_area_code_ignores_the_given_one() -> None:
    result = standardize_phone("010-12345678", area_code="592")
    assert result.value is not None
    assert result.value.e164 == "+861012345678"
    assert result.flags == ()


def test_a_mobile_is_never_read_as_a_local_number() -> None:
    result = standardize_phone("13800138000", area_code="592")
    assert result.value is not None
    assert result.value.e164 == "+8613800138000"
