"""Listing customers: every filter keeps exactly the active customers that meet it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Classification, CreditProfile, GoldenRecord
from hub.services.customers import (
    CustomerFilter,
    CustomerOrder,
    count_customers,
    list_customers,
)
from hub.services.records import submit_records

RECORDS: dict[str, list[dict[str, Any]]] = {
    "sales": [
        {
            "source_key": "S-1",
            "party_type": "organization",
            "name": "杭州绿源物流有限公司",
            "address": "浙江省杭州市西湖区文三路90号",
            "category": "wholesale",
        },
        {"source_key": "S-2", "party_type": "person", "name": "王芳", "phones": ["13800138000"]},
    ],
    "finance": [
        {
            "source_key": "F-1",
            "party_type": "organization",
            "name": "北京星河智能科技有限公司",
            "address": "北京市海淀区中关村大街27号",
            "ownership": "private",
        },
    ],
}


async def stored(session: AsyncSession) -> list[dict[str, Any]]:
    """Every active customer with what the filters look at, read plainly."""
    rows = await session.execute(
        select(GoldenRecord, Classification, CreditProfile)
        .outerjoin(Classification, Classification.golden_id == GoldenRecord.id)
        .outerjoin(CreditProfile, CreditProfile.golden_id == GoldenRecord.id)
        .where(GoldenRecord.status == "active")
    )
    return [
        {
            "id": golden.id,
            "party_type": golden.party_type,
            "region": golden.region,
            "industry": golden.industry,
            "category": golden.attributes.get("category"),
            "ownership": golden.attributes.get("ownership"),
            "updated_at": golden.updated_at,
            "tier": classified.tier if classified else None,
            "lifecycle": classified.lifecycle if classified else None,
            "credit_rating": credit.rating if credit else None,
        }
        for golden, classified, credit in rows
    ]


async def test_each_filter_keeps_exactly_the_customers_that_meet_it(
    session: AsyncSession,
) -> None:
    async with session.begin_nested():
        for source, records in RECORDS.items():
            await submit_records(session, source, records, actor="t")
    customers = await stored(session)
    assert len(customers) == 3
    sources = {"sales": set(), "finance": set()}
    for customer in customers:
        # Which department's records each customer holds, from what was submitted.
        sources["finance" if customer["ownership"] == "private" else "sales"].add(customer["id"])
    checked = 0
    for name in (
        "party_type",
        "region",
        "industry",
        "category",
        "ownership",
        "tier",
        "lifecycle",
        "credit_rating",
    ):
        for value in {c[name] for c in customers if c[name] is not None}:
            wanted = CustomerFilter(**{name: value})
            expected = sorted(c["id"] for c in customers if c[name] == value)
            page = await list_customers(session, first=10, wanted=wanted)
            assert [c.golden_id for c in page.items] == expected, (name, value)
            assert page.total_count == len(expected)
            checked += 1
    assert checked >= 8
    for source, ids in sources.items():
        page = await list_customers(session, first=10, wanted=CustomerFilter(source=source))
        assert [c.golden_id for c in page.items] == sorted(ids)
    latest = max(c["updated_at"] for c in customers)
    since = CustomerFilter(updated_since=latest)
    assert await count_customers(session, since) == sum(
        1 for c in customers if c["updated_at"] >= latest
    )
    later = CustomerFilter(updated_since=datetime.now(UTC) + timedelta(days=1))
    assert await count_customers(session, later) == 0
    both = CustomerFilter(party_type="organization", source="finance")
    assert [c.golden_id for c in (await list_customers(session, first=10, wanted=both)).items] == (
        sorted(sources["finance"])
    )


async def test_pages_follow_one_another_in_every_order(session: AsyncSession) -> None:
    async with session.begin_nested():
        for source, records in RECORDS.items():
            await submit_records(session, source, records, actor="t")
    for order in CustomerOrder:
        whole = await list_customers(session, first=10, order=order)
        seen = []
        after = None
        while True:
            page = await list_customers(session, first=1, after=after, order=order)
            seen += [c.golden_id for c in page.items]
            if not page.has_next_page:
                break
            after = page.cursors[-1]
        assert seen == [c.golden_id for c in whole.items], order
        assert len(seen) == 3
