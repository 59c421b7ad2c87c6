"""Industries: a department's industry field and a name's industry words as one sector."""

from __future__ import annotations

import pytest

from matching.standardize.industries import SECTORS, name_sectors, standardize_industry


@pytest.mark.parametrize(
    ("text", "sector"),
    [
        ("汽车", "automotive"),
        ("汽车行业", "automotive"),
        ("批发零售", "trading"),
        ("批发和零售业", "trading"),
        ("信息技术", "technology"),
        ("Information Technology", "technology"),
        ("建筑业", "construction"),
        ("综合", "conglomerate"),
        ("家電", "appliance"),
        ("汽车/机械", "automotive"),
    ],
)
def test_industry_fields_name_one_sector(text: str, sector: str) -> None:
    result = standardize_industry(text)
    assert result.value == sector
    assert result.flags == ()


def test_an_unknown_industry_is_flagged_and_left_out() -> None:
    result = standardize_industry("星际旅行")
    assert result.value is None
    assert [(flag.field, flag.code) for flag in result.flags] == [("industry", "unknown")]


def test_every_sector_answers_to_its_own_names() -> None:
    for sector, names in SECTORS.items():
        assert {standardize_industry(name).value for name in names} == {sector}


def test_a_names_industry_words_give_their_sectors() -> None:
    assert name_sectors("automotive parts") == {"automotive"}
    assert name_sectors("network technology") == {"technology"}
    assert name_sectors("services") == frozenset()
    assert name_sectors(None) == frozenset()
