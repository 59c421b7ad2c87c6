"""Phones: E.164 with China as the default region, mobile or landline."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat

from matching.standardize import standardize_phone
from matching.standardize.phones import _kind, _plain_landline, area_code_of
from matching.types import PhoneKind, StandardPhone


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


def _parsed_in_full(text: str) -> StandardPhone | None:
    """The number phonenumbers' parser finds in ``text``, as the full path keeps it."""
    try:
        number = phonenumbers.parse(text, "CN")
    except NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    return StandardPhone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        kind=_kind(number),
    )


_AREA_CODES = ["10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "311", "351"]
_AREA_CODES += ["371", "411", "451", "531", "571", "591", "592", "731", "755", "898", "999"]


@settings(max_examples=2_000, deadline=None)
@given(
    prefix=st.sampled_from(["", "0", "+86", "+86 ", "0086", "0086-", "+860", "+86 0", "86"]),
    area=st.sampled_from(_AREA_CODES) | st.from_regex(r"[0-9]{1,4}", fullmatch=True),
    number=st.from_regex(r"[0-9]{3,9}", fullmatch=True),
    separator=st.sampled_from(["", "-", " ", ")", "－"]),
    bracketed=st.booleans(),
)
def test_a_landline_read_without_the_parser_is_the_one_the_parser_reads(
    prefix: str, area: str, number: str, separator: str, bracketed: bool
) -> None:
    head = f"{prefix}{area}"
    text = f"({head}{separator}{number}" if bracketed else f"{head}{separator}{number}"
    fast = _plain_landline(text)
    if fast is not None:
        assert fast.flags == ()
        assert fast.value == _parsed_in_full(text)
    # Whichever path it takes, the answer is that of the parser's path.
    full = standardize_phone.__wrapped__(text)  # type: ignore[attr-defined]
    if full.value is not None and not full.flags:
        assert full.value == _parsed_in_full(text)


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0371-39855958", "+8637139855958"),
        ("(0451)44293034", "+8645144293034"),
        ("057142459992", "+8657142459992"),
        ("+86 411 5761 3944", "+8641157613944"),
        ("0086-731-86444985", "+8673186444985"),
        ("0592-3871 740", "+865923871740"),
    ],
)
def test_landlines_with_their_area_code_take_the_fast_path(text: str, e164: str) -> None:
    found = _plain_landline(text)
    assert found is not None
    assert found.value == StandardPhone(e164=e164, kind=PhoneKind.LANDLINE)
    assert found.value == _parsed_in_full(text)


@pytest.mark.parametrize("text", ["2437843", "0000-1234567", "010-1234", "4008123123"])
def test_local_invalid_and_service_numbers_leave_the_fast_path_to_the_parser(text: str) -> None:
    assert _plain_landline(text) is None
