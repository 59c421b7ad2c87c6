"""Departments submitting at the same moment: one customer stays one golden record."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db.engine import session_factory
from hub.db.models import CrossReference, GoldenRecord
from hub.services.records import submit_records
from hub.uow import in_transaction

SAME_COMPANY: dict[str, Any] = {
    "party_type": "organization",
    "name": "苏州恒通机械制造有限公司",
    "uscc": "91320506MA1N6T8W3G",
    "phones": ["0512-65231234"],
}


async def test_parallel_submitters_of_one_new_customer_end_with_one_golden_record(
    committed_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committed_engine)
    departments = ["finance", "sales", "web", "logistics", "callcenter", "service"]

    async def submit(source: str) -> None:
        record = SAME_COMPANY | {"source_key": f"{source}-1"}
        await in_transaction(
            sessions, lambda session: submit_records(session, source, [record], actor=source)
        )

    await asyncio.gather(*(submit(source) for source in departments))

    async with sessions() as session:
        active = (
            await session.execute(
                select(func.count())
                .select_from(GoldenRecord)
                .where(GoldenRecord.status == "active")
            )
        ).scalar_one()
        linked = (
            await session.execute(select(func.count(func.distinct(CrossReference.golden_id))))
        ).scalar_one()
    assert active == 1
    assert linked == 1


async def test_parallel_batches_of_different_customers_do_not_block_each_other_into_errors(
    committed_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committed_engine)

    async def submit(source: str, offset: int) -> int:
        records = [
            {
                "source_key": f"{source}-{i}",
                "party_type": "person",
                "name": f"测试客户{offset + i}",
                "phones": [f"1390000{offset + i:04d}"],
            }
            for i in range(20)
        ]
        result = await in_transaction(
            sessions, lambda session: submit_records(session, source, records, actor=source)
        )
        return result.created

    created = await asyncio.gather(submit("sales", 0), submit("web", 1000), submit("crm", 2000))
    assert created == [20, 20, 20]
