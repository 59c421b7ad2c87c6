"""What a submission reads of the stored records, and what it keeps between batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


@pytest.fixture(autouse=True)
def forget_frequent_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with a process that has learned no frequent key."""
    monkeypatch.setattr(records, "_FREQUENT", records._FrequentKeys(records.FREQUENT_KEYS_KEPT))


async def committed(
    sessions: async_sessionmaker[AsyncSession], *raw: dict[str, Any], matcher: Matcher | None
) -> Any:
    """Submit ``raw`` as one unit of work that commits."""
    async with sessions() as session, session.begin():
        return await submit_records(session, "finance", list(raw), actor="test", matcher=matcher)


async def rolled_back(
    sessions: async_sessionmaker[AsyncSession], *raw: dict[str, Any], matcher: Matcher
) -> None:
    """Submit ``raw`` as one unit of work that rolls back at its end."""
    async with sessions() as session, session.begin():
        await submit_records(session, "finance", list(raw), actor="test", matcher=matcher)
        await session.rollback()


async def locked_keys(
    monkeypatch: pytest.MonkeyPatch,
    sessions: async_sessionmaker[AsyncSession],
    raw: dict[str, Any],
) -> list[str]:
    """The keys a committed batch of ``raw`` locks."""
    locked: list[str] = []
    lock = records.lock_blocking_keys

    async def spy(session: AsyncSession, keys: Sequence[str]) -> None:
        locked.extend(keys)
        await lock(session, keys)

    with monkeypatch.context() as patch:
        patch.setattr(records, "lock_blocking_keys", spy)
        await committed(sessions, raw, matcher=SMALL_CAP)
    return locked


async def test_a_key_found_frequent_is_neither_looked_up_nor_locked_by_later_batches(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    await committed(
        sessions, company("G-1", "星河科技"), company("G-2", "蓝海物流"), matcher=SMALL_CAP
    )
    async with sessions() as session:
        database = await records._database_of(session)
    assert not records._FREQUENT.known(database, 2, SWITCHBOARD_KEY)  # two holders: at the cap
    assert SWITCHBOARD_KEY in await locked_keys(monkeypatch, sessions, company("G-3", "天宇建材"))
    # That batch found the switchboard held by more than two records.
    assert records._FREQUENT.known(database, 2, SWITCHBOARD_KEY)
    assert not records._FREQUENT.known(database, 40, SWITCHBOARD_KEY)

    locked = await locked_keys(monkeypatch, sessions, company("G-4", "华夏食品"))

    assert SWITCHBOARD_KEY not in locked
    assert locked  # its other keys still are


async def test_a_key_frequent_only_in_a_rolled_back_batch_is_still_looked_up(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    await committed(sessions, company("R-1", "星河科技"), matcher=SMALL_CAP)
    # With this batch's rows three records hold the switchboard, more than the cap,
    # until the batch rolls back.
    await rolled_back(
        sessions, company("R-2", "蓝海物流"), company("R-3", "恒通地产"), matcher=SMALL_CAP
    )

    locked = await locked_keys(monkeypatch, sessions, company("R-4", "天宇建材"))

    assert SWITCHBOARD_KEY in locked
    async with sessions() as session:
        holders = await records.key_holders(session, [SWITCHBOARD_KEY], max_key_size=2)
    assert len(holders[SWITCHBOARD_KEY]) == 2  # the lookup saw R-1


async def test_a_key_frequent_in_a_released_savepoint_is_learned_when_the_batch_commits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        async with session.begin_nested():
            await submit_records(
                session,
                "finance",
                [
                    company(f"S-{i}", trade)
                    for i, trade in enumerate(("星河科技", "蓝海物流", "恒通地产"))
                ],
                actor="test",
                matcher=SMALL_CAP,
            )
        database = await records._database_of(session)
        assert not records._FREQUENT.known(database, 2, SWITCHBOARD_KEY)
    assert records._FREQUENT.known(database, 2, SWITCHBOARD_KEY)


async def test_stored_members_are_parsed_once_and_follow_their_golden_record(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    await committed(sessions, company("M-1", "星河科技", uscc="91110108MA01C2X37M"), matcher=None)
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


async def test_a_version_read_in_a_batch_that_rolls_back_is_not_taken_for_a_later_one(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    await committed(sessions, company("V-1", "星河科技"), matcher=None)
    async with sessions() as doomed, doomed.begin():
        # Version 2 of V-1, then a record that shares its keys: the second batch
        # reads version 2 as a stored member, before the whole unit rolls back.
        for raw in (company("V-1", "蓝海物流"), company("V-2", "蓝海物流")):
            await submit_records(doomed, "finance", [raw], actor="test")
        await doomed.rollback()
    await committed(sessions, company("V-1", "恒通地产"), matcher=None)
    (golden_id,) = (
        await session.execute(
            text(
                "SELECT x.golden_id FROM cross_reference x"
                " JOIN source_record r ON r.id = x.source_record_id WHERE r.source_key = 'V-1'"
            )
        )
    ).scalars()

    (member,) = await records._load_members(session, [golden_id], arriving=set())

    assert member.version == 2
    assert member.standard.name.raw == "北京恒通地产有限公司"


async def test_the_holders_lookup_gives_each_keys_holders_the_frequent_keys_and_their_members(
    session: AsyncSession,
) -> None:
    await submit(session, company("H-1", "星河科技"), company("H-2", "蓝海物流"))
    await submit(session, company("H-3", "恒通地产", phones=["010-65550123"]))
    stored = await session.execute(text("SELECT source_key, id FROM source_record"))
    ids = {row.source_key: row.id for row in stored}
    links = await session.execute(text("SELECT source_record_id, golden_id FROM cross_reference"))
    goldens = {row.source_record_id: row.golden_id for row in links}
    own_key = "o:phone:+861065550123"
    nobodys_key = "o:phone:+861065559999"

    holders, frequent, members = await records._holders_and_members(
        session, [SWITCHBOARD_KEY, own_key, nobodys_key], set(), max_key_size=2, arriving=set()
    )

    assert sorted(holders[SWITCHBOARD_KEY]) == sorted([ids["H-1"], ids["H-2"]])
    assert holders[own_key] == [ids["H-3"]]
    assert nobodys_key not in holders
    assert not frequent
    # Every member of the golden records the holders are in, each once, by record id.
    assert [m.record_id for m in members] == sorted(ids.values())
    assert {m.record_id: m.golden_id for m in members} == goldens


async def test_a_frequent_keys_holders_are_neither_listed_nor_followed_to_their_members(
    session: AsyncSession,
) -> None:
    await submit(session, company("F-1", "星河科技"), company("F-2", "蓝海物流"))
    (current,) = (
        await session.execute(
            text(
                "SELECT x.golden_id FROM cross_reference x"
                " JOIN source_record r ON r.id = x.source_record_id WHERE r.source_key = 'F-1'"
            )
        )
    ).scalars()

    holders, frequent, members = await records._holders_and_members(
        session, [SWITCHBOARD_KEY], {current}, max_key_size=1, arriving=set()
    )

    assert holders == {}
    assert frequent == {SWITCHBOARD_KEY}
    # Only the golden record asked for by id: F-2's is reached through the frequent key alone.
    assert [m.source_key for m in members] == ["F-1"]
    assert {m.golden_id for m in members} == {current}


async def test_a_batch_reads_the_payloads_only_of_the_members_whose_golden_records_it_refreshes(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    uscc = "91110108MA01C2X37M"
    await committed(
        sessions,
        company("P-1", "星河科技", uscc=uscc, emails=["info@xinghe.cn"]),
        company("P-2", "蓝海物流"),
        matcher=None,
    )

    # The same customer as P-1; it shares only the switchboard with P-2.
    (joined,) = (
        await committed(sessions, company("P-3", "星河科技", uscc=uscc), matcher=None)
    ).outcomes

    stored = await session.execute(
        text(
            "SELECT r.source_key, r.id, x.golden_id FROM source_record r"
            " JOIN cross_reference x ON x.source_record_id = r.id"
        )
    )
    rows = {row.source_key: row for row in stored}
    assert joined.decision == "auto"
    assert joined.golden_id == rows["P-1"].golden_id != rows["P-2"].golden_id
    database = await records._database_of(session)
    read = {
        member.source_key: member.payload
        for (known, record_id, _), member in records._MEMBERS.entries.items()
        if known == database and record_id in {rows["P-1"].id, rows["P-2"].id}
    }
    assert read["P-2"] is records._UNREAD  # compared, never survived
    assert read["P-1"]["emails"] == ["info@xinghe.cn"]
    # Survivorship had P-1's payload: its e-mail is the customer's.
    attributes = await session.scalar(
        select(GoldenRecord.attributes).where(GoldenRecord.id == joined.golden_id)
    )
    assert attributes is not None
    assert attributes["emails"] == ["info@xinghe.cn"]


def test_an_unread_payload_is_never_taken_for_an_empty_one() -> None:
    with pytest.raises(RuntimeError, match="before it was read"):
        dict(records._UNREAD)
