"""The Chinese numbering plan read without phonenumbers' per-call look-ups gives its answers."""

from __future__ import annotations

import random

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.standardize.phones import cn_number_type


def _library_type(national: str) -> int:
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(national))
    return phonenumbers.number_type(number)


def _numbers_under_every_prefix() -> list[str]:
    """Every three-digit prefix at every length the plan knows, with seeded random digits."""
    rng = random.Random(20261125)
    numbers: list[str] = []
    for prefix in range(100, 1000):
        for length in range(5, 14):
            for _ in range(4):
                rest = "".join(rng.choice("0123456789") for _ in range(length - 3))
                numbers.append(f"{prefix}{rest}")
    return numbers


def test_every_prefix_and_length_gets_the_type_phonenumbers_gives() -> None:
    mismatches = [
        national
        for national in _numbers_under_every_prefix()
        if cn_number_type(national) != _library_type(national)
    ]
    assert mismatches == []


def test_every_kind_of_number_is_among_the_generated_ones() -> None:
    # The comparison above only proves something for the types it meets.
    kinds = {cn_number_type(national) for national in _numbers_under_every_prefix()}
    assert {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.UNKNOWN,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
    } <= kinds


@settings(max_examples=500, deadline=None)
@given(st.from_regex(r"[1-9][0-9]{0,14}", fullmatch=True))
def test_any_national_number_gets_the_type_phonenumbers_gives(national: str) -> None:
    assert cn_number_type(national) == _library_type(national)
