"""Search finds customers however a person types them, best match first."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import Invalid
from hub.services.records import submit_records
from hub.services.search import search_customers, search_page

XINGHE: dict[str, Any] = {
    "source_key": "F-1",
    "party_type": "organization",
    "name": "北京星河智能科技有限公司",
    "name_en": "Beijing Xinghe Intelligent Technology Co., Ltd.",
    "uscc": "91110108MA01C2X37M",
    "phones": ["+86 138 0013 8000"],
    "emails": ["contact@xinghetech.cn"],
}
HENGTONG: dict[str, Any] = {
    "source_key": "F-2",
    "party_type": "organization",
    "name": "苏州恒通机械制造有限公司",
    "phones": ["0512-65231234"],
}
LI_NA: dict[str, Any] = {
    "source_key": "F-3",
    "party_type": "person",
    "name": "李娜",
    "national_id": "310104199007211527",
}


@pytest.fixture
async def customers(session: AsyncSession) -> dict[str, int]:
    async with session.begin_nested():
        result = await submit_records(session, "finance", [XINGHE, HENGTONG, LI_NA], actor="t")
    return {o.source_key: o.golden_id for o in result.outcomes if o.golden_id is not None}


@pytest.mark.parametrize(
    "text",
    [
        "星河",
        "星河智能",
        "北京星河智能科技",
        "星河智能科技(北京)",
        "xinghe",
        "XingHe Zhineng",
        "Xinghe Intelligent",
        "13800138000",
        "+86 138-0013-8000",
        "contact@XINGHETECH.cn",
        "91110108MA01C2X37M",
        "北京星河智能科技有限公司",
    ],
)
async def test_one_customer_is_found_however_it_is_typed(
    session: AsyncSession, customers: dict[str, int], text: str
) -> None:
    hits = await search_customers(session, text)
    assert hits, f"nothing found for {text!r}"
    assert hits[0].customer.golden_id == customers["F-1"]


async def test_exact_identifiers_score_one(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    hits = await search_customers(session, "91110108MA01C2X37M")
    assert hits[0].score == 1.0
    assert hits[0].matched_on == "identifier or contact"


async def test_an_old_15_digit_resident_id_finds_the_person(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    hits = await search_customers(session, "310104900721152")
    assert hits[0].customer.golden_id == customers["F-3"]


async def test_party_type_narrows_the_search(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    assert await search_customers(session, "李娜", party_type="organization") == []
    persons = await search_customers(session, "李娜", party_type="person")
    assert [h.customer.golden_id for h in persons] == [customers["F-3"]]


async def test_better_matches_rank_first(session: AsyncSession, customers: dict[str, int]) -> None:
    hits = await search_customers(session, "恒通机械")
    assert hits[0].customer.golden_id == customers["F-2"]
    assert all(h.score <= hits[0].score for h in hits)


async def test_a_merged_away_customer_is_no_longer_found(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    from hub.services.stewardship import merge_customers

    async with session.begin_nested():
        await merge_customers(session, [customers["F-1"], customers["F-2"]], actor="steward")
    hits = await search_customers(session, "苏州恒通")
    assert customers["F-2"] not in {h.customer.golden_id for h in hits}


async def test_an_empty_search_is_invalid(session: AsyncSession) -> None:
    with pytest.raises(Invalid, match="must not be empty"):
        await search_customers(session, "  ")


async def _search_names(session: AsyncSession) -> dict[int, tuple[str, str, str]]:
    rows = await session.execute(text("SELECT golden_id, name, pinyin, name_en FROM search_name"))
    return {row.golden_id: (row.name, row.pinyin, row.name_en) for row in rows}


async def test_an_indexed_customer_keeps_its_names_as_search_ranks_them(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    stored = await _search_names(session)
    assert stored[customers["F-1"]] == (
        "北京星河智能科技有限公司",
        "beijingxinghezhinengkejiyouxiangongsi",
        "beijing xinghe intelligent technology co., ltd.",
    )
    assert stored[customers["F-3"]] == ("李娜", "lina", "")


async def test_a_renamed_customer_is_found_by_its_new_name_and_pinyin(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    async with session.begin_nested():
        renamed = HENGTONG | {"name": "苏州华宇机械制造有限公司"}
        await submit_records(session, "finance", [renamed], actor="t")
    stored = await _search_names(session)
    assert stored[customers["F-2"]][:2] == (
        "苏州华宇机械制造有限公司",
        "suzhouhuayujixiezhizaoyouxiangongsi",
    )
    hits = await search_customers(session, "huayu jixie")
    assert hits[0].customer.golden_id == customers["F-2"]


async def test_a_merged_away_customer_loses_its_search_names(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    from hub.services.stewardship import merge_customers

    async with session.begin_nested():
        survivor = await merge_customers(
            session, [customers["F-1"], customers["F-2"]], actor="steward"
        )
    absorbed = ({customers["F-1"], customers["F-2"]} - {survivor}).pop()
    stored = await _search_names(session)
    assert survivor in stored
    assert absorbed not in stored


async def test_every_searchable_customer_has_its_search_names_and_party_type(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    """A search ranks from ``search_name`` alone: a record with tokens has its row."""
    rows = await session.execute(
        text(
            "SELECT DISTINCT t.golden_id, n.party_type FROM search_token t"
            " LEFT JOIN search_name n ON n.golden_id = t.golden_id"
        )
    )
    assert {row.golden_id: row.party_type for row in rows} == {
        customers["F-1"]: "organization",
        customers["F-2"]: "organization",
        customers["F-3"]: "person",
    }


# Cities of the customers that share every token of "星河贸易有限公司" with the one searched for.
CITIES = ("上海", "广州", "杭州", "南京", "成都", "武汉", "天津", "重庆")


async def test_a_customer_is_found_by_its_rare_tokens_among_older_ones_sharing_common_ones(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Among millions, 贸易 and 公司 are held by more customers than a token's postings read.

    Eight older customers hold every common token of the name searched for;
    the one searched for is found by the tokens only it holds (深圳, 圳星,
    "shenzhenxin") though a common token's postings read stop before it.
    """
    monkeypatch.setattr("hub.services.search.POSTINGS_PER_TOKEN", 4)
    monkeypatch.setattr("hub.services.search.CANDIDATES", 3)
    older = [
        {"source_key": f"C-{i}", "party_type": "organization", "name": f"{city}星河贸易有限公司"}
        for i, city in enumerate(CITIES)
    ]
    searched = {"source_key": "C-SZ", "party_type": "organization", "name": "深圳星河贸易有限公司"}
    async with session.begin_nested():
        await submit_records(session, "finance", older, actor="t")
        result = await submit_records(session, "finance", [searched], actor="t")
    (target,) = [o.golden_id for o in result.outcomes]
    hits = await search_customers(session, "深圳星河贸易有限公司")
    assert hits[0].customer.golden_id == target


async def test_hits_come_with_their_lineage_only_when_asked(
    session: AsyncSession, customers: dict[str, int]
) -> None:
    with_lineage = await search_page(session, "星河", first=1)
    without = await search_page(session, "星河", first=1, with_lineage=False)
    assert with_lineage.hits[0].customer.lineage["name"]["source"] == "finance"
    assert without.hits[0].customer.lineage == {}
    # Everything else is the same, hit for hit.
    assert [replace(hit.customer, lineage={}) for hit in with_lineage.hits] == [
        hit.customer for hit in without.hits
    ]
    assert [(h.score, h.matched_on) for h in with_lineage.hits] == [
        (h.score, h.matched_on) for h in without.hits
    ]
