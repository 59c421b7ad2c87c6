"""Romanization reads text as pypinyin does, without pypinyin's converter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT
from pypinyin.seg.mmseg import seg as pypinyin_segmenter

from matching.standardize.text import _phrases, romanize_syllables, tone_readings

# Phrases of pypinyin's table, whole and cut short, so that examples reach its
# segmentation (longest phrase, prefixes that end in no phrase, heteronyms).
_PHRASES = sorted(PHRASES_DICT)[::50]
_PIECES = st.sampled_from(_PHRASES).flatmap(
    lambda phrase: st.integers(1, len(phrase)).map(lambda end: phrase[:end])
)
_OTHER = st.sampled_from(["a", "Ab", " ", "1", "·", "(", "-", "〇", "\U00020001", "ß", "\n"])
_TEXT = st.lists(_PIECES | _OTHER, max_size=8).map("".join) | st.text(max_size=30)


@settings(max_examples=400, deadline=None)
@given(text=_TEXT)
def test_tone_readings_are_those_of_lazy_pinyin(text: str) -> None:
    assert tone_readings(text) == lazy_pinyin(text, style=Style.TONE)


@settings(max_examples=200, deadline=None)
@given(run=st.lists(_PIECES, min_size=1, max_size=6).map("".join))
def test_han_runs_are_cut_into_the_phrases_pypinyin_cuts(run: str) -> None:
    assert list(_phrases(run)) == list(pypinyin_segmenter.cut(run))


@pytest.mark.parametrize(
    ("text", "syllables"),
    [
        ("重庆银行", ("chong", "qing", "yin", "hang")),
        ("华为技术有限公司", ("hua", "wei", "ji", "shu", "you", "xian", "gong", "si")),
        ("绿地ABC", ("lu", "di", "abc")),
        ("", ()),
    ],
)
def test_heteronyms_take_the_reading_of_their_phrase(text: str, syllables: tuple[str, ...]) -> None:
    assert romanize_syllables(text) == syllables
