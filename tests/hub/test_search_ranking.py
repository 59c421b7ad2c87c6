"""Candidates are ranked in one batch, on the names stored when they were indexed,
exactly as one comparison at a time of their raw names ranks them."""

from __future__ import annotations

import random

import pytest
from rapidfuzz import fuzz

from hub.services.search import _Query, _ranks, searched_names
from matching.standardize.text import normalize_text, romanize

NAMES = [
    "北京星河智能科技有限公司",
    "北京星和智能科技有限公司",
    "苏州恒通机械制造有限公司",
    "重庆银行股份有限公司",
    "李娜",
    "Xinghe Intelligent Technology",
    "星河(北京)数据服务中心",
    "",
]
ENGLISH = ["Beijing Xinghe Intelligent Technology Co., Ltd.", "Hengtong Machinery", ""]


def _one_at_a_time(
    query: _Query, name: object, name_en: object, exact_hit: bool
) -> tuple[float, str]:
    """The reference: each candidate compared on its own."""
    if exact_hit:
        return 1.0, "identifier or contact"
    best, matched_on = 0.0, "name"
    if isinstance(name, str):
        target = normalize_text(name)
        best = fuzz.WRatio(query.text, target) / 100
        pinyin_score = fuzz.WRatio(query.pinyin, romanize(target)) / 100
        if pinyin_score > best:
            best, matched_on = pinyin_score, "pinyin"
    if isinstance(name_en, str):
        english = fuzz.WRatio(query.text, normalize_text(name_en)) / 100
        if english > best:
            best, matched_on = english, "English name"
    return round(best, 4), matched_on


@pytest.mark.parametrize("seed", range(8))
def test_batch_ranking_matches_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    for text in ["星河", "xinghe", "Xinghe Intelligent", "恒通机械", "chongqing yinhang", "李"]:
        query = _Query.of(text)
        candidates: list[tuple[object, object, bool]] = [
            (
                rng.choice([*NAMES, None]),
                rng.choice([*ENGLISH, None, 42]),
                rng.random() < 0.1,
            )
            for _ in range(rng.randint(1, 40))
        ]
        indexed = [
            (searched_names({"name": name, "name_en": name_en}), exact)
            for name, name_en, exact in candidates
        ]
        assert _ranks(query, indexed) == [
            _one_at_a_time(query, name, name_en, exact) for name, name_en, exact in candidates
        ]


def test_pinyin_and_english_names_say_what_matched() -> None:
    ranks = _ranks(
        _Query.of("xinghe"),
        [
            (searched_names({"name": "北京星河智能科技有限公司"}), False),
            (searched_names({"name_en": "Xinghe Technology"}), False),
        ],
    )
    assert [matched_on for _, matched_on in ranks] == ["pinyin", "English name"]
    assert _ranks(_Query.of("xinghe"), [(searched_names({}), True)]) == [
        (1.0, "identifier or contact")
    ]
