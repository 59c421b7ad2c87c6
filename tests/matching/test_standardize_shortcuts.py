"""Each shortcut of standardization answers exactly as the plain rule it skips."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.standardize import addresses, names, text
from matching.standardize.divisions import (
    Level,
    division_table,
    locate,
    lookup_division,
    may_start_place,
)
from matching.standardize.text import has_han


def _premises_by_every_rewrite(detail: str) -> str:
    rewritten = addresses._BUILDING_WORD.sub("栋", detail)
    rewritten = addresses._DASHED_UNIT.sub(r"\1栋\2单元\3", rewritten)
    rewritten = addresses._DASHED_ROOM.sub(r"\1栋\2", rewritten)
    return addresses._ROOM_WORD.sub("", rewritten)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789ab-号楼幢座栋单元室路\n ", max_size=16))
def test_premises_skip_only_rewrites_that_cannot_apply(detail: str) -> None:
    assert addresses.canonical_premises(detail) == _premises_by_every_rewrite(detail)


def _legal_form_by_scan(name: str) -> tuple[str, str | None]:
    form = next((f for f in names._LEGAL_FORMS if name.endswith(f) and len(name) > len(f)), None)
    return (name, None) if form is None else (name[: -len(form)], form)


_LEGAL_FORM_PARTS = st.sampled_from(names._LEGAL_FORMS) | st.text(
    alphabet="华为集团有限公司厂(", max_size=3
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_LEGAL_FORM_PARTS, max_size=4).map("".join))
def test_legal_form_by_length_is_the_longest_form_the_name_ends_with(name: str) -> None:
    assert names._split_legal_form(name) == _legal_form_by_scan(name)


def _suffix_region_by_every_lookup(body: str) -> tuple[str, str | None]:
    for size in range(min(len(body) - 2, 8), 1, -1):
        place = body[-size:]
        found = lookup_division(place, Level.CITY) or lookup_division(place, Level.PROVINCE)
        if found is not None and has_han(place):
            return body[:-size], names._region_of(found)
    return body, None


_PLACES = sorted({*division_table().cities, *division_table().provinces})[::5]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(_PLACES) | st.text(alphabet="华为科技 shenzhenbeijing", max_size=4),
        max_size=4,
    ).map("".join)
)
def test_suffix_region_skips_only_tails_that_name_no_place(body: str) -> None:
    assert names._take_suffix_region(body) == _suffix_region_by_every_lookup(body)


def test_every_mark_the_punctuation_table_rewrites_is_noticed() -> None:
    for code in text._PUNCTUATION:
        assert text._ANY_PUNCTUATION.search(f"a{chr(code)}b") is not None


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet='华為（）【】「」、，。“”‘’"`[]{}–—·•ab ', max_size=12))
def test_text_without_those_marks_is_translated_to_itself(sample: str) -> None:
    if text._ANY_PUNCTUATION.search(sample) is None:
        assert sample.translate(text._PUNCTUATION) == sample
    assert (
        text.normalize_text(sample)
        == re.sub(
            r"\s+",
            " ",
            text.to_simplified(unicodedata.normalize("NFKC", sample)).translate(text._PUNCTUATION),
        )
        .strip()
        .lower()
    )


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(_PLACES) | st.text(alphabet="省市区县路号中山南京分行8-", max_size=4),
        max_size=4,
    ).map("".join),
    st.booleans(),
)
def test_a_text_no_place_name_can_start_holds_no_place(sample: str, free_text: bool) -> None:
    if not may_start_place(sample):
        assert locate(sample, free_text=free_text).end == 0
