"""Departments submitting at the same moment: one customer stays one golden record."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.db.engine import session_factory
from hub.db.models import (
    CrossReference,
    GoldenRecord,
    GoldenRecordVersion,
    MatchReview,
    SourceRecord,
)
from hub.matcher import PairVerdict
from hub.services import records
from hub.services.golden import Linked
from hub.services.records import submit_records
from hub.services.stewardship import merge_customers
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


# One customer known by two records a steward merged: its name in Suzhou, its
# logistics arm in Chengdu. Each newcomer below shares keys with one of them only.
SUZHOU = SAME_COMPANY | {"source_key": "sales-1"}
CHENGDU = ANOTHER_COMPANY | {"source_key": "sales-2", "uscc": None}
# The web knows the Suzhou name, the finance batch the Chengdu arm: they lock no key in common.
WEB_SUZHOU = SAME_COMPANY | {"source_key": "web-1", "phones": [], "emails": ["sales@hengtong.cn"]}
FINANCE_BATCH = [
    CHENGDU | {"source_key": "finance-1", "emails": ["ar@lanhai-logistics.cn"]},
    {
        "source_key": "finance-2",
        "party_type": "person",
        "name": "测试客户7",
        "phones": ["13900000007"],
    },
]


async def test_a_record_linked_while_a_batch_places_is_kept_in_the_golden_record_it_refreshes(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = session_factory(committed_engine)
    customer = await customer_of_two_records(sessions)
    # The web's record links to the customer and commits after the finance
    # batch read the customer's members, before it locks the customer.
    before_linking(monkeypatch, sessions, "web", WEB_SUZHOU)

    await in_transaction(
        sessions,
        lambda session: submit_records(session, "finance", FINANCE_BATCH, actor="finance"),
    )

    await assert_holds_web_and_finance(sessions, customer)


async def test_a_record_linked_while_a_batch_waits_to_lock_its_golden_record_is_kept_in_it(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The statement that waits for the customer's lock reads the other tables
    # as they were when it began: the refresh reads the members after it.
    sessions = session_factory(committed_engine)
    customer = await customer_of_two_records(sessions)
    while_linking(monkeypatch, committed_engine, "web", WEB_SUZHOU)

    await in_transaction(
        sessions,
        lambda session: submit_records(session, "finance", FINANCE_BATCH, actor="finance"),
    )

    await assert_holds_web_and_finance(sessions, customer)


async def test_a_pair_two_batches_open_at_once_has_one_open_review(
    committed_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committed_engine)
    low, high = await two_stored_records(sessions)
    async with sessions() as first, sessions() as second:
        await records._open_reviews(first, [(low, high, verdict(4.0))])
        # The second batch meets the pair the other way round before the
        # first commits: it waits on the first one's review, then rescores it.
        opening = asyncio.create_task(records._open_reviews(second, [(high, low, verdict(5.0))]))
        await until_a_lock_is_waited_for(committed_engine, asyncio.Event())
        await first.commit()
        await opening
        await second.commit()
    assert await open_reviews(sessions) == [(low, high, 5.0)]


async def test_a_pair_named_twice_in_one_batch_opens_one_review_with_its_last_score(
    committed_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committed_engine)
    low, high = await two_stored_records(sessions)
    async with sessions() as session, session.begin():
        await records._open_reviews(session, [(low, high, verdict(4.0)), (high, low, verdict(6.0))])
    assert await open_reviews(sessions) == [(high, low, 6.0)]


def verdict(score: float) -> PairVerdict:
    return PairVerdict(
        score=score,
        decision="review",
        cannot_link=False,
        explanation={"score": score},
        disagrees=False,
        shares_own=False,
    )


async def two_stored_records(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session, session.begin():
        await submit_records(
            session,
            "sales",
            [{"source_key": "S-1", **SAME_COMPANY}, {"source_key": "S-2", **ANOTHER_COMPANY}],
            actor="sales",
        )
    async with sessions() as session:
        ids = (await session.execute(select(SourceRecord.id).order_by(SourceRecord.id))).scalars()
        low, high = ids
    return low, high


async def open_reviews(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[int, int, float]]:
    async with sessions() as session:
        rows = await session.execute(
            select(MatchReview.left_record_id, MatchReview.right_record_id, MatchReview.score)
            .where(MatchReview.status == "open")
            .order_by(MatchReview.id)
        )
        return [tuple(row) for row in rows]


async def customer_of_two_records(sessions: async_sessionmaker[AsyncSession]) -> int:
    """The golden record of :data:`SUZHOU` and :data:`CHENGDU`, merged by a steward."""
    await in_transaction(
        sessions,
        lambda session: submit_records(session, "sales", [SUZHOU, CHENGDU], actor="sales"),
    )
    goldens = await golden_ids_of(sessions, ["sales-1", "sales-2"])
    return await in_transaction(
        sessions, lambda session: merge_customers(session, goldens, actor="steward")
    )


async def assert_holds_web_and_finance(
    sessions: async_sessionmaker[AsyncSession], customer: int
) -> None:
    """The customer's values, lineage and members include the web's and finance's records."""
    assert await golden_ids_of(sessions, ["web-1", "finance-1"]) == [customer]
    async with sessions() as session:
        golden = await session.get_one(GoldenRecord, customer)
        members = (
            await session.execute(
                select(GoldenRecordVersion.members).where(
                    GoldenRecordVersion.golden_id == customer,
                    GoldenRecordVersion.version == golden.version,
                )
            )
        ).scalar_one()
        holders = (
            await session.execute(
                select(SourceRecord.source_key).where(SourceRecord.id.in_(members))
            )
        ).scalars()
        assert sorted(holders) == ["finance-1", "sales-1", "sales-2", "web-1"]
    assert sorted(golden.attributes["emails"]) == ["ar@lanhai-logistics.cn", "sales@hengtong.cn"]
    assert {entry["source_key"] for entry in golden.lineage["emails"]["from"]} == {
        "web-1",
        "finance-1",
    }


def before_linking(
    monkeypatch: pytest.MonkeyPatch,
    sessions: async_sessionmaker[AsyncSession],
    source: str,
    record: dict[str, Any],
) -> None:
    """Commit ``record`` of ``source`` once, just before the next batch links its records
    and locks the golden records it refreshes."""
    link = records.create_and_link
    pending = [record]

    async def commit_first(session: AsyncSession, *args: Any, **kwargs: Any) -> Linked:
        if pending:
            item = pending.pop()
            await in_transaction(
                sessions, lambda other: submit_records(other, source, [item], actor=source)
            )
        return await link(session, *args, **kwargs)

    monkeypatch.setattr(records, "create_and_link", commit_first)


def while_linking(
    monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine, source: str, record: dict[str, Any]
) -> None:
    """Submit ``record`` of ``source`` once, when the next batch links its records: it
    locks its golden record first and commits once that batch waits for the lock."""
    sessions = session_factory(engine)
    link = records.create_and_link
    pending = [record]
    locked, waited = asyncio.Event(), asyncio.Event()

    async def submit(item: dict[str, Any]) -> None:
        await in_transaction(
            sessions, lambda other: submit_records(other, source, [item], actor=source)
        )

    async def link_second(session: AsyncSession, *args: Any, **kwargs: Any) -> Linked:
        if not pending:
            # The other submission's own linking: it holds the golden record until it commits.
            linked = await link(session, *args, **kwargs)
            locked.set()
            await waited.wait()
            return linked
        other = asyncio.create_task(submit(pending.pop()))
        await locked.wait()
        watcher = asyncio.create_task(until_a_lock_is_waited_for(engine, waited))
        linked = await link(session, *args, **kwargs)
        await asyncio.gather(other, watcher)
        return linked

    monkeypatch.setattr(records, "create_and_link", link_second)


async def until_a_lock_is_waited_for(engine: AsyncEngine, waited: asyncio.Event) -> None:
    """Set ``waited`` once a session of ``engine``'s database waits for a lock."""
    async with engine.connect() as connection:
        for _ in range(1000):
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            await connection.rollback()
            if waiting:
                waited.set()
                return
            await asyncio.sleep(0.01)
    raise AssertionError("no session waited for a lock")


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


async def golden_ids_of(
    sessions: async_sessionmaker[AsyncSession], source_keys: list[str]
) -> list[int]:
    """The golden records the records of ``source_keys`` are in, in id order."""
    async with sessions() as session:
        return list(
            (
                await session.execute(
                    select(CrossReference.golden_id)
                    .join(SourceRecord, SourceRecord.id == CrossReference.source_record_id)
                    .where(SourceRecord.source_key.in_(source_keys))
                    .distinct()
                    .order_by(CrossReference.golden_id)
                )
            ).scalars()
        )


async def active_goldens(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(GoldenRecord)
                .where(GoldenRecord.status == "active")
            )
        ).scalar_one()
