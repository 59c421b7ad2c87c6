"""What a submission reads of the stored records, and what it keeps between batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import GoldenRecord
from hub.matcher import Matcher
from hub.services import records
from hub.services.records import submit_records
from matching.model import default_model

SWITCHBOARD = "010-62880000"
SWITCHBOARD_KEY = "o:phone:+861062880000"
# Keys held by more than two records say nothing to this matcher.
SMALL_CAP = Matcher(model=default_model(), max_key_size=2)


def company(key: str, trade: str, **fields: Any) -> dict[str, Any]:
    return {
        "source_key": key,
        "party_type": "organization",
        "name": f"北京{trade}有限公司",
        "phones": [SWITCHBOARD],
        **fields,
    }


async def submit(
    session: AsyncSession, *raw: dict[str, Any], matcher: Matcher | None = None
) -> Any:
    async with session.begin_nested():
        return await submit_records(session, "finance", list(raw), actor="test", matcher=matcher)


async def locked_keys(
    monkeypatch: pytest.MonkeyPatch, session: AsyncSession, raw: dict[str, Any]
) -> list[str]:
    """The keys a batch of ``raw`` locks."""
    locked: list[str] = []
    lock = records._lock_key_buckets

    async def spy(session: AsyncSession, keys: Sequence[str]) -> None:
        locked.extend(keys)
        await lock(session, keys)

    with monkeypatch.context() as patch:
        patch.setattr(records, "_lock_key_buckets", spy)
        await submit(session, raw, matcher=SMALL_CAP)
    return locked


async def test_a_key_found_frequent_is_neither_looked_up_nor_locked_by_later_batches(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await submit(session, company("G-1", "星河科技"), company("G-2", "蓝海物流"), matcher=SMALL_CAP)
    database = await records._database_of(session)
    assert not records._FREQUENT.known(database, 2, SWITCHBOARD_KEY)  # two holders: at the cap
    assert SWITCHBOARD_KEY in await locked_keys(monkeypatch, session, company("G-3", "天宇建材"))
    # That batch found the switchboard held by more than two records.
    assert records._FREQUENT.known(database, 2, SWITCHBOARD_KEY)
    assert not records._FREQUENT.known(database, 40, SWITCHBOARD_KEY)

    locked = await locked_keys(monkeypatch, session, company("G-4", "华夏食品"))

    assert SWITCHBOARD_KEY not in locked
    assert locked  # its other keys still are


async def test_stored_members_are_parsed_once_and_follow_their_golden_record(
    session: AsyncSession,
) -> None:
    await submit(session, company("M-1", "星河科技", uscc="91110108MA01C2X37M"))
    (golden_id,) = (await session.execute(text("SELECT id FROM golden_record"))).scalars()

    first = await records._load_members(session, [golden_id], arriving=set())
    again = await records._load_members(session, [golden_id], arriving=set())
    assert [m.record_id for m in first] == [m.record_id for m in again]
    assert first[0] is again[0]

    other = await session.scalar(
        text(
            "INSERT INTO golden_record (party_type, version, name, attributes, lineage)"
            " VALUES ('organization', 0, '', '{}', '{}') RETURNING id"
        )
    )
    await session.execute(
        text("UPDATE cross_reference SET golden_id = :other WHERE golden_id = :golden"),
        {"other": other, "golden": golden_id},
    )
    (moved,) = await records._load_members(session, [other], arriving=set())
    assert moved.golden_id == other
    assert moved.standard == first[0].standard
    assert GoldenRecord.__tablename__ == "golden_record"


async def test_a_payload_read_back_keeps_an_integer_of_any_size(session: AsyncSession) -> None:
    ledger = 123456789012345678901234567890  # beyond 64 bits
    await submit(session, company("B-1", "星河科技", ledger_no=ledger))
    (golden_id,) = (await session.execute(text("SELECT id FROM golden_record"))).scalars()

    (member,) = await records._load_members(session, [golden_id], arriving={-1})

    assert member.payload["ledger_no"] == ledger
    assert records._with_payload(member, "any").payload["ledger_no"] == ledger


async def test_a_batchs_own_arrivals_are_not_kept_between_batches(
    session: AsyncSession,
) -> None:
    await submit(session, company("A-1", "星河科技"))
    (record_id, golden_id) = (
        await session.execute(text("SELECT source_record_id, golden_id FROM cross_reference"))
    ).one()

    first = await records._load_members(session, [golden_id], arriving={record_id})
    again = await records._load_members(session, [golden_id], arriving=set())

    assert first[0] is not again[0]
    assert first[0].standard == again[0].standard
