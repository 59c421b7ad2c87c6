"""``hub match-keys refresh``: stored blocking keys brought in line with the rules."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.matcher import default_matcher
from hub.services.match_keys import (
    KeysRefreshed,
    count_current_records,
    refresh_all_match_keys,
    refresh_match_keys,
)
from hub.services.records import retire_records, submit_records
from hub.uow import in_transaction
from matching import StandardRecord, parse_record
from matching.block import key_hash
from matching.standardize import standardize_record

RECORDS = [
    {"source_key": "P1", "party_type": "person", "name": "王伟", "phones": ["13800138000"]},
    {"source_key": "P2", "party_type": "person", "name": "李娜", "emails": ["ln@example.cn"]},
    {
        "source_key": "C1",
        "party_type": "organization",
        "name": "长沙顺发贸易有限公司",
        "phones": ["0731-84412345"],
    },
    {"source_key": "C2", "party_type": "organization", "name": "星河科技", "city": "深圳"},
]


async def _stored_keys(session: AsyncSession) -> dict[str, set[int]]:
    """Each record's stored keys: their hashes (``matching.block.key_hash``)."""
    rows = await session.execute(
        text(
            "SELECT r.source_key, m.key_hash FROM match_key m"
            " JOIN source_record r ON r.id = m.source_record_id"
        )
    )
    found: dict[str, set[int]] = defaultdict(set)
    for source_key, key in rows:
        found[source_key].add(key)
    return found


def _keys_by_rule(record: dict[str, Any]) -> set[int]:
    """The hashes of the keys the rules give ``record``."""
    standard = standardize_record(parse_record(record | {"source": "sales"}))
    return {key_hash(key) for key in default_matcher().keys(standard)}


async def _submit(sessions: async_sessionmaker[AsyncSession]) -> None:
    await in_transaction(
        sessions, lambda session: submit_records(session, "sales", RECORDS, actor="test")
    )


async def _make_keys_stale(session: AsyncSession) -> None:
    """As an older matching/ left them: one key missing, one no longer given."""
    await session.execute(
        text(
            "DELETE FROM match_key WHERE source_record_id ="
            " (SELECT id FROM source_record WHERE source_key = 'C1')"
        )
    )
    await session.execute(
        text(
            "INSERT INTO match_key (key_hash, source_record_id)"
            " SELECT :retired, id FROM source_record WHERE source_key = 'P1'"
        ),
        {"retired": key_hash("retired-rule:x")},
    )


async def test_a_refresh_gives_every_current_record_the_keys_the_rules_give(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _submit(sessions)
    async with sessions() as session, session.begin():
        await _make_keys_stale(session)
    keys_of_c1 = _keys_by_rule(RECORDS[2])

    done = await refresh_all_match_keys(sessions, default_matcher().keys, batch=3)

    assert (done.records, done.added, done.removed) == (4, len(keys_of_c1), 1)
    async with sessions() as session:
        stored = await _stored_keys(session)
    assert stored == {record["source_key"]: _keys_by_rule(record) for record in RECORDS}


async def test_a_second_refresh_finds_nothing_to_change(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _submit(sessions)
    async with sessions() as session, session.begin():
        await _make_keys_stale(session)
    await refresh_all_match_keys(sessions, default_matcher().keys)

    again = await refresh_all_match_keys(sessions, default_matcher().keys)

    assert (again.records, again.added, again.removed) == (4, 0, 0)


async def test_batches_go_in_record_order_and_report_where_they_stopped(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _submit(sessions)
    ids = list((await session.execute(text("SELECT id FROM source_record ORDER BY id"))).scalars())

    first = await refresh_match_keys(session, default_matcher().keys, batch=3)
    rest = await refresh_match_keys(session, default_matcher().keys, after=ids[2], batch=3)
    after_all = await refresh_match_keys(session, default_matcher().keys, after=ids[-1])

    assert (first.records, first.last_id) == (3, ids[2])
    assert (rest.records, rest.last_id) == (1, ids[3])
    assert after_all == KeysRefreshed(records=0, added=0, removed=0, last_id=None)


async def test_retired_records_are_left_without_keys(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _submit(sessions)
    await in_transaction(sessions, lambda s: retire_records(s, "sales", ["P2"]), attempts=1)

    done = await refresh_match_keys(session, default_matcher().keys)

    assert done.records == 3
    assert await count_current_records(session) == 3
    assert "P2" not in await _stored_keys(session)


async def test_the_keys_come_from_the_stored_standardized_form(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _submit(sessions)
    seen: list[str] = []

    def keys_of(record: StandardRecord) -> list[str]:
        seen.append(record.source_key)
        return [f"name:{record.name.normalized}"]

    done = await refresh_match_keys(session, keys_of)

    assert sorted(seen) == sorted(record["source_key"] for record in RECORDS)
    stored = await _stored_keys(session)
    assert stored["C2"] == {key_hash("name:星河科技")}
    assert done.added == 4


async def test_a_batch_of_no_records_is_refused(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="batch must be at least 1"):
        await refresh_match_keys(session, default_matcher().keys, batch=0)
