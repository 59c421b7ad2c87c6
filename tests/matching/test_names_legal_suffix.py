"""Legal terms leave an English name exactly as cleanco's own suffix walk leaves it."""

from __future__ import annotations

import pytest
from cleanco.clean import custom_basename, get_unique_terms
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.standardize.names import _CLEANCO_TERMS, without_legal_suffix

_TERMS = sorted(get_unique_terms())
_WORDS = ["Huawei", "Beijing", "Trading", "&", "Sons", "co", "CO.", "Ltd", "ltd.", "GmbH", "AG"]
_PUNCTUATION = ["", ",", ".", ", ", "-", " (", ") ", " & "]


def _cleanco(name: str) -> str:
    base: str = custom_basename(name, _CLEANCO_TERMS, suffix=True)
    return base


@pytest.mark.parametrize(
    "name",
    [
        "Huawei Technologies Co., Ltd.",
        "huawei technologies co., ltd",
        "Acme Ltd Ltd",
        "Acme Co Co Co",
        "Société Générale S.A.",
        "Ltd",
        "",
        "   ",
        "Bosch GmbH & Co. KG",
        "Daddy & Sons, Ltd.",
        "x co. ltd. inc. llc plc",
    ],
)
def test_known_names_lose_what_cleanco_removes(name: str) -> None:
    assert without_legal_suffix(name) == _cleanco(name)


def test_every_term_after_a_trade_name_goes_as_cleanco_removes_it() -> None:
    names = [f"Huawei {term}" for term in _TERMS] + [
        f"Acme {a} {b}" for a in _TERMS for b in _TERMS[::17]
    ]
    assert [without_legal_suffix(name) for name in names] == [_cleanco(name) for name in names]


_PART = st.sampled_from(_TERMS) | st.sampled_from(_WORDS) | st.text(max_size=4)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(_PART, st.sampled_from(_PUNCTUATION)), max_size=6))
def test_any_name_loses_what_cleanco_removes(parts: list[tuple[str, str]]) -> None:
    name = " ".join(word + mark for word, mark in parts)
    assert without_legal_suffix(name) == _cleanco(name)
