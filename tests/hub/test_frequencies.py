"""The stored population's term frequencies: counted, kept, refreshed, scored with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.bulk import bulk_match_config
from hub.loading import load_files
from hub.matcher import default_matcher
from hub.services import frequencies
from hub.services.frequencies import (
    REFRESH_SHARE,
    SnapshotHead,
    count_term_frequencies,
    latest_snapshot,
    needs_refresh,
    note_population_changes,
    population_matcher,
    refresh_term_frequencies,
    write_term_frequencies,
)
from hub.services.records import retire_records, submit_records
from matching import PartyType, parse_record
from matching.compare import TermFrequencies
from matching.pipeline import MatchConfig
from matching.standardize import standard_record_from_dict, standardize_record


def person(key: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"source_key": key, "party_type": "person", "name": name, **fields}


def company(key: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"source_key": key, "party_type": "organization", "name": name, **fields}


# Values held by three records or more (counted), by fewer (left out), several
# phones and e-mails per record (one holder each), Latin-script persons
# (given names and surname), trade names that differ from the core name.
POPULATION = [
    person("P1", "王伟", phones=["13800138000", "+86 138 0013 8000"], emails=["a@x.cn"]),
    person("P2", "王伟", phones=["13800138000"], address="北京市海淀区中关村大街27号"),
    person("P3", "王伟", phones=["13800138000"], address="北京市海淀区中关村大街27号"),
    person("P4", "李娜", address="北京市海淀区中关村大街27号", emails=["a@x.cn", "b@x.cn"]),
    person("P5", "John Smith", emails=["a@x.cn"]),
    person("P6", "Mary Jane Smith"),
    person("P7", "Anna Smith"),
    person("P8", "John Smith"),
    person("P9", "John Smith"),
    company("C1", "北京星河智能科技有限公司", phones=["010-62881234"], contact_name="张三"),
    company("C2", "上海星河智能科技有限公司", phones=["010-62881234"], contact_name="张三"),
    company("C3", "深圳星河智能科技有限公司", phones=["010-62881234"], contact_name="张三"),
    company("C4", "星河科技（北京）有限公司", contact_name="李四"),
]


async def submit(session: AsyncSession, source: str, *records: dict[str, Any]) -> Any:
    async with session.begin_nested():
        return await submit_records(session, source, list(records), actor="test")


async def stored_population(session: AsyncSession) -> list[Any]:
    rows = await session.execute(
        text(
            "SELECT v.standardized FROM source_record r JOIN source_record_version v"
            " ON v.source_record_id = r.id AND v.version = r.current_version"
            " WHERE r.retired_at IS NULL"
        )
    )
    return [standard_record_from_dict(row[0]) for row in rows]


async def changes(session: AsyncSession) -> int:
    return await note_population_changes(session, 0)


async def test_the_count_in_postgresql_is_the_librarys_count_of_current_records(
    session: AsyncSession,
) -> None:
    await submit(session, "sales", *POPULATION)
    # A changed record counts with its current version, a retired one not at all.
    await submit(session, "sales", person("P4", "李娜", address="上海市浦东新区张江路368号"))
    await retire_records(session, "sales", ["P9"])
    current = await stored_population(session)
    assert len(current) == len(POPULATION) - 1

    counted = await count_term_frequencies(session)

    # The same counts; a kind without any value held three times has no table.
    library = TermFrequencies.from_records(current)
    assert counted.totals == library.totals
    assert counted.min_count == library.min_count
    assert counted.counts == {table: found for table, found in library.counts.items() if found}
    assert counted.counts["person:name"]["王伟"] == 3
    assert counted.counts["person:surname"]["smith"] == 4
    assert "john" not in counted.counts.get("person:given", {})  # two holders: rare
    assert counted.counts["person:phone"] == {"+8613800138000": 3}
    assert counted.totals == {"person": 8, "organization": 4}


async def test_a_refresh_keeps_the_count_as_the_latest_snapshot(session: AsyncSession) -> None:
    await submit(session, "sales", *POPULATION)
    mark = await changes(session)

    head = await refresh_term_frequencies(session)

    assert await latest_snapshot(session) == head
    assert head.records == len(POPULATION)
    assert head.changes_mark == mark
    stored = await session.scalar(
        text("SELECT frequencies FROM term_frequency_snapshot WHERE id = :id"), {"id": head.id}
    )
    assert TermFrequencies.from_dict(stored) == await count_term_frequencies(session)


async def test_only_the_two_latest_snapshots_are_kept(session: AsyncSession) -> None:
    counts = TermFrequencies(totals={"person": 1}, counts={})
    written = [await write_term_frequencies(session, counts) for _ in range(4)]
    kept = await session.scalars(text("SELECT id FROM term_frequency_snapshot ORDER BY id"))
    assert list(kept) == [written[2].id, written[3].id]


async def test_storing_changing_and_retiring_records_move_the_change_counter(
    session: AsyncSession,
) -> None:
    before = await changes(session)
    await submit(session, "sales", *POPULATION[:3])
    assert await changes(session) == before + 3
    await submit(session, "sales", *POPULATION[:3])  # unchanged: nothing moved
    assert await changes(session) == before + 3
    await submit(session, "sales", person("P1", "王伟", phones=["13900139000"]))
    assert await changes(session) == before + 4
    await retire_records(session, "sales", ["P2", "P3"])
    assert await changes(session) == before + 6


@pytest.mark.parametrize(
    ("head", "counter", "expected"),
    [
        # No snapshot yet: counted once the population can have reached the floor.
        (None, 999, False),
        (None, 1_000, True),
        # A snapshot: counted again when the population moved by a tenth.
        (SnapshotHead(1, 20_000, 500), 500 + 1_999, False),
        (SnapshotHead(1, 20_000, 500), 500 + 2_000, True),
        # A small population is not counted again until it may reach the floor.
        (SnapshotHead(1, 100, 0), 899, False),
        (SnapshotHead(1, 100, 0), 900, True),
    ],
)
def test_a_snapshot_is_stale_once_the_population_moved_by_a_tenth(
    head: SnapshotHead | None, counter: int, expected: bool
) -> None:
    assert REFRESH_SHARE == 0.10
    assert needs_refresh(head, counter, min_records=1_000) is expected


async def test_submissions_score_with_the_snapshot_once_the_population_is_large_enough(
    session: AsyncSession,
) -> None:
    small = TermFrequencies(totals={"person": 999}, counts={"person:name": {"王伟": 500}})
    await write_term_frequencies(session, small, changes_mark=await changes(session))
    matcher = await population_matcher(session, default_matcher(), changes=0, min_records=1_000)
    assert matcher.frequencies is None  # the model's

    large = TermFrequencies(totals={"person": 1_000}, counts={"person:name": {"王伟": 500}})
    await write_term_frequencies(session, large, changes_mark=await changes(session))
    matcher = await population_matcher(session, default_matcher(), changes=0, min_records=1_000)
    assert matcher.frequencies == large


async def test_a_stale_snapshot_is_counted_again_in_a_connection_bound_session(
    session: AsyncSession,
) -> None:
    await submit(session, "sales", *POPULATION)
    empty = TermFrequencies(totals={"person": 10}, counts={})
    old = await write_term_frequencies(session, empty, changes_mark=await changes(session) - 2)

    matcher = await population_matcher(session, default_matcher(), changes=0, min_records=10)

    head = await latest_snapshot(session)
    assert head is not None
    assert head.id > old.id
    assert head.records == len(POPULATION)
    assert matcher.frequencies == await count_term_frequencies(session)


async def test_a_stale_snapshot_is_counted_in_the_background_for_an_engine_session(
    engine: AsyncEngine,
) -> None:
    try:
        async with AsyncSession(engine) as session, session.begin():
            await note_population_changes(session, 1)
            await population_matcher(session, default_matcher(), changes=0, min_records=1)
        refresh = frequencies._STATE.refresh
        assert refresh is not None
        await refresh
        async with AsyncSession(engine) as session:
            head = await latest_snapshot(session)
            assert head is not None
            stored = await session.scalar(
                text("SELECT frequencies::text FROM term_frequency_snapshot WHERE id = :id"),
                {"id": head.id},
            )
            # Committed by its own transaction: what the database held then (nothing).
            assert TermFrequencies.from_dict(orjson.loads(stored)).totals == {}
    finally:
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(text("DELETE FROM term_frequency_snapshot"))


def standard(raw: dict[str, Any]) -> Any:
    return standardize_record(parse_record(raw, source="sales", position=0))


def test_a_matcher_scores_a_common_name_lower_with_counts_that_say_it_is_common() -> None:
    pair = [standard(person("A", "王伟")), standard(person("B", "王伟"))]
    rare = TermFrequencies(totals={"person": 1_000_000}, counts={})
    common = TermFrequencies(totals={"person": 1_000_000}, counts={"person:name": {"王伟": 50_000}})
    matcher = default_matcher()
    with_rare = matcher.with_frequencies(rare).score_pairs(pair, [(0, 1)])[0].score
    with_common = matcher.with_frequencies(common).score_pairs(pair, [(0, 1)])[0].score
    assert with_common < with_rare
    assert matcher.term_frequencies is matcher.model.frequencies
    assert pair[0].party_type is PartyType.PERSON


async def test_a_bulk_load_keeps_the_counts_of_what_it_loaded(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, tmp_path: Path
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"".join(orjson.dumps({**r, "source": "sales"}) + b"\n" for r in POPULATION))

    report = await load_files(sessions, [path])

    assert report.mode == "bulk"
    head = await latest_snapshot(session)
    assert head is not None
    assert head.records == len(POPULATION)
    assert head.changes_mark == await changes(session)
    stored = await session.scalar(
        text("SELECT frequencies FROM term_frequency_snapshot WHERE id = :id"), {"id": head.id}
    )
    assert TermFrequencies.from_dict(stored) == TermFrequencies.from_records(
        await stored_population(session)
    )


def test_a_bulk_load_counts_its_own_frequencies_from_where_hub_match_does() -> None:
    assert bulk_match_config().tf_min_records == MatchConfig().tf_min_records
