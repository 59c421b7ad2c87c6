"""Steward operations: merges that keep ids meaningful, splits that restore, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import AuditEntry, ChangeEvent, MatchReview, PairDecision
from hub.errors import Conflict, Invalid, NotFound
from hub.matcher import Matcher
from hub.services.customers import get_customer, source_records_of
from hub.services.records import submit_records
from hub.services.stewardship import (
    ExpectedVersion,
    merge_customers,
    override_attribute,
    resolve_review,
    split_record,
)
from matching.decide import Thresholds
from matching.model import default_model

ORG_A: dict[str, Any] = {
    "source_key": "A-1",
    "party_type": "organization",
    "name": "杭州绿源物流有限公司",
    "uscc": "91330106MA2H4Q7R5Q",
    "phones": ["0571-88231234"],
    "address": "浙江省杭州市西湖区文三路90号",
    "updated_at": "2026-05-10T09:00:00+08:00",
}
ORG_B: dict[str, Any] = {
    "source_key": "B-1",
    "party_type": "organization",
    "name": "绿源冷链",
    "phones": ["13957123456"],
    "emails": ["ops@lvyuan-cold.cn"],
    "city": "宁波",
    "updated_at": "2026-09-28T14:00:00+08:00",
}


async def submit(
    session: AsyncSession, source: str, record: dict[str, Any], matcher: Matcher | None = None
) -> int:
    async with session.begin_nested():
        result = await submit_records(session, source, [record], actor="test", matcher=matcher)
    golden_id = result.outcomes[0].golden_id
    assert golden_id is not None
    return golden_id


def without_times(lineage: dict[str, Any]) -> dict[str, Any]:
    return {name: {k: v for k, v in entry.items() if k != "at"} for name, entry in lineage.items()}


async def two_customers(session: AsyncSession) -> tuple[int, int]:
    a = await submit(session, "finance", ORG_A)
    b = await submit(session, "sales", ORG_B)
    assert a != b
    return a, b


async def test_merge_keeps_the_older_id_and_the_retired_id_resolves_to_it(
    session: AsyncSession,
) -> None:
    a, b = await two_customers(session)
    async with session.begin_nested():
        survivor = await merge_customers(session, [b, a], actor="steward")
    assert survivor == min(a, b)
    followed = await get_customer(session, max(a, b))
    assert followed.golden_id == survivor
    assert followed.requested_id == max(a, b)
    refs = (await source_records_of(session, [survivor]))[survivor]
    assert {r.source_key for r in refs} == {"A-1", "B-1"}
    merged = await get_customer(session, survivor)
    assert merged.attributes["name"] == "杭州绿源物流有限公司"
    assert "ops@lvyuan-cold.cn" in merged.attributes["emails"]


async def test_merge_then_split_restores_every_value_and_the_lineage(
    session: AsyncSession,
) -> None:
    a, b = await two_customers(session)
    before_a = await get_customer(session, a)
    before_b = await get_customer(session, b)
    async with session.begin_nested():
        survivor = await merge_customers(session, [a, b], actor="steward")
    async with session.begin_nested():
        origin, new = await split_record(session, "sales", "B-1", actor="steward")
    assert origin == survivor == a
    after_a = await get_customer(session, a)
    after_b = await get_customer(session, new)
    assert after_a.attributes == before_a.attributes
    assert after_b.attributes == before_b.attributes
    # Same records, versions and rules behind every value; only the times are new.
    assert without_times(after_a.lineage) == without_times(before_a.lineage)
    assert without_times(after_b.lineage) == without_times(before_b.lineage)


async def test_a_split_record_is_never_relinked_automatically(session: AsyncSession) -> None:
    a = await submit(session, "finance", ORG_A)
    twin = ORG_A | {"source_key": "W-1", "name_en": "Hangzhou Lvyuan Logistics Co., Ltd."}
    assert await submit(session, "web", twin) == a
    async with session.begin_nested():
        _, moved_to = await split_record(session, "web", "W-1", actor="steward")
    decisions = (await session.execute(select(PairDecision.decision))).scalars().all()
    assert decisions == ["not_match"]
    # The web department sends the record again, changed: it must not return to A.
    again = await submit(session, "web", twin | {"emails": ["info@lvyuan.cn"]})
    assert again == moved_to != a


async def test_as_of_returns_the_record_as_it_was(session: AsyncSession) -> None:
    a = await submit(session, "finance", ORG_A)
    between = datetime.now(UTC)
    async with session.begin_nested():
        await override_attribute(session, a, "name", "绿源物流（杭州）", actor="steward")
    assert (await get_customer(session, a)).attributes["name"] == "绿源物流（杭州）"
    then = await get_customer(session, a, as_of=between)
    assert then.attributes["name"] == "杭州绿源物流有限公司"
    assert then.version == 1


async def test_as_of_before_the_customer_existed_is_not_found(session: AsyncSession) -> None:
    a = await submit(session, "finance", ORG_A)
    with pytest.raises(NotFound, match="did not exist yet"):
        await get_customer(session, a, as_of=datetime(2000, 1, 1, tzinfo=UTC))


async def test_override_pins_a_value_and_lineage_names_the_steward(
    session: AsyncSession,
) -> None:
    a = await submit(session, "finance", ORG_A)
    async with session.begin_nested():
        await override_attribute(session, a, "industry", "logistics", actor="steward-li")
    customer = await get_customer(session, a)
    assert customer.attributes["industry"] == "logistics"
    assert customer.lineage["industry"]["rule"] == "override"
    assert customer.lineage["industry"]["set_by"] == "steward-li"
    async with session.begin_nested():
        await override_attribute(session, a, "industry", None, actor="steward-li")
    assert "industry" not in (await get_customer(session, a)).attributes


async def test_unknown_attributes_cannot_be_overridden(session: AsyncSession) -> None:
    a = await submit(session, "finance", ORG_A)
    with pytest.raises(Invalid, match="'credit_limit' cannot be overridden"):
        await override_attribute(session, a, "credit_limit", 1, actor="steward")


async def test_a_stale_version_is_a_conflict(session: AsyncSession) -> None:
    a, b = await two_customers(session)
    seen = (await get_customer(session, a)).version
    async with session.begin_nested():
        await override_attribute(session, a, "industry", "logistics", actor="first steward")
    with pytest.raises(Conflict, match="changed"):
        await merge_customers(
            session, [a, b], actor="second steward", expected=[ExpectedVersion(a, seen)]
        )


async def test_every_steward_operation_is_audited(session: AsyncSession) -> None:
    a, b = await two_customers(session)
    async with session.begin_nested():
        await merge_customers(session, [a, b], actor="steward", note="same company")
    async with session.begin_nested():
        await split_record(session, "sales", "B-1", actor="steward")
    async with session.begin_nested():
        await override_attribute(session, a, "category", "key", actor="steward")
    entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    assert [e.action for e in entries] == ["mergeCustomers", "splitRecord", "overrideAttribute"]
    assert entries[0].before is not None
    assert entries[0].after is not None
    assert entries[0].after["note"] == "same company"


async def test_merge_and_split_are_change_events(session: AsyncSession) -> None:
    a, b = await two_customers(session)
    async with session.begin_nested():
        await merge_customers(session, [a, b], actor="steward")
    async with session.begin_nested():
        await split_record(session, "sales", "B-1", actor="steward")
    kinds = (await session.execute(select(ChangeEvent.kind).order_by(ChangeEvent.seq))).scalars()
    # The split event names both customers, the new one included.
    assert list(kinds) == ["created", "created", "merged", "split"]


# Thresholds no pair reaches for auto-linking: what is similar goes to review.
REVIEW_EVERYTHING = Matcher(model=default_model(), thresholds=Thresholds(lower=-40.0, upper=900.0))


async def open_review(session: AsyncSession) -> MatchReview:
    await submit(
        session,
        "finance",
        {
            "source_key": "F-1",
            "party_type": "organization",
            "name": "宁波恒通机械制造有限公司",
            "phones": ["0574-87001234"],
        },
    )
    await submit(
        session,
        "sales",
        {
            "source_key": "S-1",
            "party_type": "organization",
            "name": "恒通机械",
            "city": "宁波",
            "contact_name": "周杰",
        },
        REVIEW_EVERYTHING,
    )
    return (await session.execute(select(MatchReview))).scalar_one()


async def test_resolving_a_review_as_match_merges_the_two_customers(
    session: AsyncSession,
) -> None:
    review = await open_review(session)
    async with session.begin_nested():
        merged = await resolve_review(session, review.id, "match", actor="steward")
    assert merged is not None
    refs = (await source_records_of(session, [merged]))[merged]
    assert {r.source_key for r in refs} == {"F-1", "S-1"}
    await session.refresh(review)
    assert review.status == "matched"


async def test_resolving_a_review_as_not_match_is_remembered(session: AsyncSession) -> None:
    review = await open_review(session)
    async with session.begin_nested():
        await resolve_review(session, review.id, "not_match", actor="steward", note="other city")
    decision = (await session.execute(select(PairDecision))).scalar_one()
    assert decision.decision == "not_match"
    with pytest.raises(Conflict, match="already not_matched"):
        await resolve_review(session, review.id, "match", actor="steward")
