"""Departments submitting at the same moment: one customer stays one golden record."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.db.engine import session_factory
from hub.db.models import CrossReference, GoldenRecord, SourceRecord
from hub.services import records
from hub.services.records import submit_records
from hub.uow import in_transaction

SAME_COMPANY: dict[str, Any] = {
    "party_type": "organization",
    "name": "苏州恒通机械制造有限公司",
    "uscc": "91320506MA1N6T8W3G",
    "phones": ["0512-65231234"],
}
ANOTHER_COMPANY: dict[str, Any] = {
    "party_type": "organization",
    "name": "成都蓝海物流有限公司",
    "uscc": "91510100MA61R2XK7B",
    "phones": ["028-86671234"],
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


async def test_parallel_batches_holding_one_new_customer_end_with_one_golden_record(
    committed_engine: AsyncEngine,
) -> None:
    # Batches of more than one record score their candidates before they lock
    # the keys: under the locks they still see what the others committed.
    sessions = session_factory(committed_engine)
    departments = ["finance", "sales", "web", "logistics"]

    async def submit(source: str, offset: int) -> None:
        batch = [
            SAME_COMPANY | {"source_key": f"{source}-1"},
            {
                "source_key": f"{source}-2",
                "party_type": "person",
                "name": f"测试客户{offset}",
                "phones": [f"1390000{offset:04d}"],
            },
        ]
        await in_transaction(
            sessions, lambda session: submit_records(session, source, batch, actor=source)
        )

    await asyncio.gather(*(submit(source, k) for k, source in enumerate(departments)))

    assert await goldens_of(sessions, [f"{source}-1" for source in departments]) == 1
    assert await active_goldens(sessions) == 1 + len(departments)


async def test_a_customer_stored_while_a_batch_scores_unlocked_is_joined_under_the_locks(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = session_factory(committed_engine)
    between_read_and_lock(monkeypatch, sessions, "sales", SAME_COMPANY | {"source_key": "sales-1"})

    await in_transaction(
        sessions,
        lambda session: submit_records(
            session,
            "finance",
            [
                SAME_COMPANY | {"source_key": "finance-1"},
                ANOTHER_COMPANY | {"source_key": "finance-2"},
            ],
            actor="finance",
        ),
    )

    assert await goldens_of(sessions, ["sales-1", "finance-1"]) == 1
    assert await active_goldens(sessions) == 2


async def test_a_candidate_changed_while_a_batch_scores_unlocked_is_scored_again(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = session_factory(committed_engine)
    # Shares the phone, nothing else: a candidate the batch scores as another customer.
    before = SAME_COMPANY | {
        "source_key": "sales-1",
        "name": "杭州星河食品有限公司",
        "uscc": None,
        "updated_at": "2026-09-01T08:00:00Z",
    }
    await in_transaction(
        sessions, lambda session: submit_records(session, "sales", [before], actor="sales")
    )
    # Its new version, stored after the batch scored the old one, is the same customer.
    between_read_and_lock(
        monkeypatch,
        sessions,
        "sales",
        SAME_COMPANY | {"source_key": "sales-1", "updated_at": "2026-09-02T08:00:00Z"},
    )

    await in_transaction(
        sessions,
        lambda session: submit_records(
            session,
            "finance",
            [
                SAME_COMPANY | {"source_key": "finance-1"},
                ANOTHER_COMPANY | {"source_key": "finance-2"},
            ],
            actor="finance",
        ),
    )

    assert await goldens_of(sessions, ["sales-1", "finance-1"]) == 1


def between_read_and_lock(
    monkeypatch: pytest.MonkeyPatch,
    sessions: async_sessionmaker[AsyncSession],
    source: str,
    record: dict[str, Any],
) -> None:
    """Commit ``record`` of ``source`` once, just before the next batch locks its keys."""
    lock = records.lock_blocking_keys
    pending = [record]

    async def commit_first(session: AsyncSession, keys: Sequence[str]) -> None:
        if pending:
            item = pending.pop()
            await in_transaction(
                sessions, lambda other: submit_records(other, source, [item], actor=source)
            )
        await lock(session, keys)

    monkeypatch.setattr(records, "lock_blocking_keys", commit_first)


async def goldens_of(sessions: async_sessionmaker[AsyncSession], source_keys: list[str]) -> int:
    """How many golden records the records of ``source_keys`` are in."""
    async with sessions() as session:
        return (
            await session.execute(
                select(func.count(func.distinct(CrossReference.golden_id)))
                .join(SourceRecord, SourceRecord.id == CrossReference.source_record_id)
                .where(SourceRecord.source_key.in_(source_keys))
            )
        ).scalar_one()


async def active_goldens(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(GoldenRecord)
                .where(GoldenRecord.status == "active")
            )
        ).scalar_one()
