"""Phones: E.164 with China as the default region, mobile or landline."""

from __future__ import annotations

import pytest

from matching.standardize import standardize_phone
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
