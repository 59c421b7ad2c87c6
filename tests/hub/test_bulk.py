"""Bulk first load: the clusters of batch matching, the values of survivorship, COPY."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stdnum.cn import uscc

import hub.bulk
from hub.bulk import (
    SOURCE_TABLES,
    Cluster,
    DroppedForeignKeys,
    Workers,
    analyze_tables,
    bulk_match_config,
    canonical_payload,
    cluster_link_scores,
    copy_text,
    export_members,
    import_members,
    keeper_of_most,
    link_scores,
    payload_hash,
    prepare_members,
    read_records,
    reserve_ids,
    serialize_chunk,
    standardize_chunk,
    survive_held,
    token_rows,
)
from hub.db.models import (
    ChangeEvent,
    Classification,
    CrossReference,
    CustomerMetrics,
    GoldenRecord,
    GoldenRecordVersion,
    MatchKey,
    MatchReview,
    SearchName,
    SearchToken,
    SourceRecord,
    SourceRecordVersion,
    SourceSystem,
)
from hub.errors import Conflict
from hub.loading import load_files
from hub.policies import (
    CustomerFigures,
    default_classification_rules,
    default_credit_policy,
    tier_cutoffs,
)
from hub.services.golden import ChangeSet, load_member_records, refresh_goldens
from hub.services.interactions import record_interactions
from hub.services.profile import Profiles, derive_profiles, refresh_profiles
from hub.services.records import content_hash, submit_records
from hub.services.search import golden_tokens, search_customers, searched_names
from hub.survivorship import default_rules, survive
from matching import PartyType, parse_record, standardize_record
from matching import SourceRecord as ContractRecord
from matching.block import blocking_keys, key_hash
from matching.compare import Columns
from matching.model import default_model
from matching.pipeline import match_records
from matching.record import record_to_dict
from matching.standardize import standard_record_to_dict

DEMO = Path(__file__).parents[2] / "hub" / "demo" / "records.jsonl"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_TRADE = "星河远联晟元美信华通汇丰恒达宏图金桥瑞祥天成鼎盛博远嘉禾"
_TRADE_2 = "智能电子材料机械物流贸易科技建设能源医药"
_CITIES = (("北京", "北京市海淀区中关村大街"), ("上海", "上海市浦东新区张江路"))


def _uscc(rng: random.Random) -> str:
    body = "9111" + "".join(rng.choice("0123456789") for _ in range(4)) + "MA"
    body += "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(7))
    return body + uscc.calc_check_digit(body)


def department_records(entities: int, seed: int) -> list[dict[str, Any]]:
    """Seeded records of ``entities`` companies across finance, sales and callcenter.

    Every company has a finance record; some also a sales record (short name,
    the same mobile) and a callcenter record (the mobile written differently),
    so a load holds clusters of one to three records.
    """
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for n in range(entities):
        trade = "".join(rng.sample(_TRADE, 2)) + "".join(rng.sample(_TRADE_2, 2))
        city, street = rng.choice(_CITIES)
        mobile = f"13{rng.randrange(10**9):09d}"
        out.append(
            {
                "source": "finance",
                "source_key": f"FIN-{seed}-{n:05d}",
                "party_type": "organization",
                "name": f"{city}{trade}有限公司",
                "uscc": _uscc(rng),
                "phones": [mobile],
                "address": f"{street}{rng.randrange(1, 300)}号",
                "updated_at": f"2025-0{rng.randrange(1, 10)}-01T08:00:00+08:00",
            }
        )
        if rng.random() < 0.6:
            out.append(
                {
                    "source": "sales",
                    "source_key": f"S-{seed}-{n:05d}",
                    "party_type": "organization",
                    "name": trade,
                    "phones": [mobile],
                    "city": city,
                    "contact_name": rng.choice(_SURNAMES) + "经理",
                    "updated_at": "2026-01-01T08:00:00+08:00",
                }
            )
        if rng.random() < 0.3:
            out.append(
                {
                    "source": "callcenter",
                    "source_key": str(seed * 1_000_000 + n),
                    "party_type": "organization",
                    "name": f"{city}{trade}",
                    "phones": [f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"],
                }
            )
    rng.shuffle(out)
    return out


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


async def count(session: AsyncSession, model: type[Any]) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def stored_clusters(session: AsyncSession) -> set[frozenset[tuple[str, str]]]:
    rows = await session.execute(
        select(CrossReference.golden_id, SourceSystem.code, SourceRecord.source_key)
        .join(SourceRecord, SourceRecord.id == CrossReference.source_record_id)
        .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
    )
    groups: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for golden_id, source, key in rows:
        groups[golden_id].add((source, key))
    return {frozenset(g) for g in groups.values()}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Generated records and the demo's, each (source, source_key) once."""
    demo = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()]
    unique = {(r["source"], r["source_key"]): r for r in reversed(demo)}
    return write_jsonl(
        tmp_path / "records.jsonl",
        department_records(150, seed=11)
        + [r for r in demo if unique[r["source"], r["source_key"]] is r],
    )


def test_links_are_scored_with_the_rows_the_match_laid_out(corpus: Path) -> None:
    """Scoring by row of columns laid out in another order is scoring the records themselves."""
    records = [
        standardize_record(parse_record(json.loads(line)))
        for line in corpus.read_text(encoding="utf-8").splitlines()
    ]
    model = default_model()
    clusters = [Cluster(tuple(range(start, start + 3))) for start in range(0, 60, 3)]
    order = list(range(len(records)))
    random.Random(5).shuffle(order)
    cols = Columns.from_records([records[i] for i in order], model.frequencies)
    rows = np.argsort(np.asarray(order, dtype=np.int64))
    scores = cluster_link_scores(cols, rows, clusters, model)
    assert scores == link_scores(records, clusters, model)
    assert set(scores) == {i for c in clusters for i in c.members[1:]}


async def test_bulk_load_stores_the_clusters_and_reviews_of_match_records(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, corpus: Path
) -> None:
    report = await load_files(sessions, [corpus])
    records = [
        standardize_record(parse_record(json.loads(line)))
        for line in corpus.read_text(encoding="utf-8").splitlines()  # noqa: ASYNC240
    ]
    expected = match_records(records, bulk_match_config(), model=default_model())
    by_cluster: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for a in expected.assignments:
        by_cluster[a.cluster_id].add((a.source, a.source_key))

    assert report.mode == "bulk"
    assert (report.created, report.rejected) == (len(records), 0)
    assert await stored_clusters(session) == {frozenset(g) for g in by_cluster.values()}
    assert any(len(g) > 1 for g in by_cluster.values())
    assert report.goldens == len(by_cluster) == await count(session, GoldenRecord)
    assert report.reviews == len(expected.reviews) == await count(session, MatchReview)
    # One "created" event per golden record, in the order of their ids.
    events = (await session.execute(select(ChangeEvent).order_by(ChangeEvent.seq))).scalars().all()
    golden_ids = (await session.execute(select(GoldenRecord.id).order_by(GoldenRecord.id))).all()
    assert [e.golden_ids for e in events] == [[g] for (g,) in golden_ids]
    assert {(e.kind, json.dumps(e.payload)) for e in events} == {("created", "{}")}
    assert await count(session, SourceRecordVersion) == len(records)
    assert await count(session, MatchKey) > len(records)
    steps = [step for step in report.seconds if not step.endswith(" cpu")]
    assert steps == [
        "read",
        "match + write records",
        "survive + write goldens",
        "profiles",
        "frequencies + commit",
    ]
    assert all(report.seconds[f"{step} cpu"] >= 0 for step in steps)


@pytest.mark.parametrize("workers", [0, 2], ids=["alone", "two-workers"])
async def test_bulk_goldens_hold_what_survivorship_gives_their_members(
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    monkeypatch.setattr(hub.bulk, "PROFILE_CHUNK", 7)  # profiles are derived in chunks
    # Small chunks: with two workers, many clusters have members in both.
    monkeypatch.setattr(hub.bulk, "CHUNK_LINES", 40)
    monkeypatch.setattr(hub.bulk, "SURVIVE_CHUNK", 25)
    await load_files(sessions, [corpus], bulk=True, workers=workers)
    goldens = (await session.execute(select(GoldenRecord))).scalars().all()
    members: dict[int, list[Any]] = defaultdict(list)
    for record in await load_member_records(session, golden_ids=[g.id for g in goldens]):
        assert record.golden_id is not None
        members[record.golden_id].append(record)
    rules = default_rules()
    for golden in goldens:
        survived = survive([m.member for m in members[golden.id]], rules, (), at=golden.updated_at)
        assert golden.attributes == survived.attributes
        assert golden.lineage == survived.lineage
        assert golden.name == survived.attributes["name"]
        assert golden.region == (survived.attributes.get("address") or {}).get("region")
        assert (golden.status, golden.version) == ("active", 1)
    # A linked member's score is its best with another member of its golden record.
    standards = {
        (r.source, r.source_key): r
        for r in (
            standardize_record(parse_record(json.loads(line)))
            for line in corpus.read_text(encoding="utf-8").splitlines()  # noqa: ASYNC240
        )
    }
    links = (await session.execute(select(CrossReference))).scalars().all()
    stored_scores = {link.source_record_id: link.score for link in links}
    for golden in goldens:
        ids = sorted(m.member.record_id for m in members[golden.id])
        keys = {
            m.member.record_id: (m.member.source, m.member.source_key) for m in members[golden.id]
        }
        expected = link_scores(
            [standards[keys[i]] for i in ids], [Cluster(tuple(range(len(ids))))], default_model()
        )
        assert [stored_scores[i] for i in ids] == [expected.get(n) for n in range(len(ids))]
    versions = (await session.execute(select(GoldenRecordVersion))).scalars().all()
    assert {v.golden_id for v in versions} == {g.id for g in goldens}
    for version in versions:
        golden = next(g for g in goldens if g.id == version.golden_id)
        assert (version.version, version.status, version.change) == (1, "active", "created")
        assert (version.attributes, version.lineage) == (golden.attributes, golden.lineage)
        assert version.members == sorted(m.member.record_id for m in members[golden.id])
        assert version.valid_from == golden.updated_at

    tokens = set((await session.execute(select(SearchToken.token, SearchToken.golden_id))).all())
    assert tokens == {(t, g.id) for g in goldens for t in golden_tokens(g.attributes)}
    names = {
        row[0]: tuple(row[1:])
        for row in (
            await session.execute(
                select(
                    SearchName.golden_id,
                    SearchName.party_type,
                    SearchName.name,
                    SearchName.pinyin,
                    SearchName.name_en,
                )
            )
        ).all()
    }
    assert names == {g.id: (g.party_type, *searched_names(g.attributes)) for g in goldens}
    assert await count(session, CustomerMetrics) == len(goldens)
    found = await search_customers(session, goldens[0].name)
    assert goldens[0].id in {hit.customer.golden_id for hit in found}

    # The incremental path, asked to refresh every golden record, finds nothing to change.
    changes = ChangeSet()
    async with session.begin_nested():
        await refresh_goldens(
            session, [g.id for g in goldens], changes=changes, at=datetime.now(UTC)
        )
    assert changes.events == []
    assert await count(session, GoldenRecordVersion) == len(goldens)


# What the profile tables hold, but for generated ids and insertion times.
_PROFILE_ROWS = {
    "customer_metrics": "SELECT * FROM customer_metrics",
    "classification": "SELECT * FROM classification",
    "retention_alert": "SELECT golden_id, reason, rule, inputs, rule_set_version, raised_at,"
    " cleared_at, cleared_rule FROM retention_alert",
    "credit_profile": "SELECT * FROM credit_profile",
    "credit_decision": "SELECT golden_id, kind, status, previous_limit, requested_limit,"
    " decided_limit, assessment, reason, requested_by, decided_by, decided_at, expires_at"
    " FROM credit_decision",
    "tier_cutoff": "SELECT rule_set_version, key_min_revenue, regular_min_revenue, customers,"
    " total_revenue, computed_at FROM tier_cutoff",
}


async def stored_profiles(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: sorted((tuple(row) for row in await session.execute(text(query))), key=repr)
        for table, query in _PROFILE_ROWS.items()
    }


async def profiles_refreshed(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """The profiles the incremental path derives for every golden record, as the load did."""
    (now,) = (await session.execute(text("SELECT DISTINCT computed_at FROM classification"))).one()
    ids = list((await session.execute(select(GoldenRecord.id))).scalars())
    async with session.begin_nested() as nested:
        for table in reversed(_PROFILE_ROWS):
            await session.execute(text(f"DELETE FROM {table}"))
        await refresh_profiles(session, ids, now=now)
        refreshed = await stored_profiles(session)
        await nested.rollback()
    return refreshed


@pytest.mark.parametrize("workers", [0, 2], ids=["alone", "two-workers"])
async def test_a_first_load_stores_the_profiles_the_incremental_path_derives(
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    monkeypatch.setattr(hub.bulk, "PROFILE_CHUNK", 7)
    monkeypatch.setattr(hub.bulk, "CHUNK_LINES", 40)
    monkeypatch.setattr(hub.bulk, "SURVIVE_CHUNK", 25)
    await load_files(sessions, [corpus], bulk=True, workers=workers)
    loaded = await stored_profiles(session)

    goldens = await count(session, GoldenRecord)
    for table in ("customer_metrics", "classification", "credit_profile"):
        assert len(loaded[table]) == goldens
    assert [row[3] for row in loaded["tier_cutoff"]] == [goldens]
    assert loaded == await profiles_refreshed(session)


async def test_a_load_whose_profiles_fail_to_store_stores_nothing(
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub.bulk, "PROFILE_CHUNK", 7)  # the next chunk is being derived

    async def refused(*_: object, **__: object) -> None:
        raise RuntimeError("the profiles could not be stored")

    monkeypatch.setattr(hub.bulk, "store_profiles", refused)
    with pytest.raises(RuntimeError, match="could not be stored"):
        await load_files(sessions, [corpus], bulk=True)
    assert await count(session, SourceRecord) == 0
    assert await count(session, GoldenRecord) == 0


async def test_interactions_sent_before_their_records_count_in_a_first_load(
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub.bulk, "PROFILE_CHUNK", 7)  # its customer is in a later chunk
    last = json.loads(corpus.read_text(encoding="utf-8").splitlines()[-1])  # noqa: ASYNC240
    order = {
        "interaction_key": "early-1",
        "customer_key": last["source_key"],
        "type": "ORDER",
        "occurred_at": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
        "amount": "125000.00",
        "currency": "CNY",
    }
    async with sessions() as early, early.begin():
        await record_interactions(early, last["source"], [order])

    await load_files(sessions, [corpus], bulk=True)
    golden_id, *metrics = (
        await session.execute(
            select(
                CustomerMetrics.golden_id,
                CustomerMetrics.transaction_count,
                CustomerMetrics.revenue_12m,
            )
            .join(CrossReference, CrossReference.golden_id == CustomerMetrics.golden_id)
            .join(SourceRecord, SourceRecord.id == CrossReference.source_record_id)
            .where(SourceRecord.source_key == last["source_key"])
        )
    ).one()
    assert metrics == [1, Decimal("125000.00")]
    first_chunk = (await session.execute(select(GoldenRecord.id).order_by(GoldenRecord.id))).all()
    assert golden_id not in {row[0] for row in first_chunk[:7]}
    # Its customer is of the top tier: the cutoffs are those of every customer.
    assert (
        await session.scalar(
            select(Classification.tier).where(Classification.golden_id == golden_id)
        )
        == "KEY"
    )
    assert await stored_profiles(session) == await profiles_refreshed(session)


async def test_bad_lines_are_reported_by_file_and_line_and_nothing_of_them_is_stored(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, tmp_path: Path
) -> None:
    good = department_records(3, seed=1)
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(good[0], ensure_ascii=False),
                '{"source": "finance", "source_key": "broken',
                json.dumps({"source": "finance", "source_key": "X-1", "party_type": "person"}),
                json.dumps(good[1], ensure_ascii=False),
                json.dumps(good[2] | {"source": "Not A Code"}, ensure_ascii=False),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    report = await load_files(sessions, [path], bulk=True)

    assert (report.created, report.rejected) == (2, 3)
    assert report.problems[0].startswith(f"{path}:2: not valid JSON")
    assert report.problems[1] == f"{path}:3: field 'name': is required"
    assert report.problems[2].startswith(f"{path}:5: field 'source': ")
    stored = set((await session.execute(select(SourceRecord.source_key))).scalars())
    assert stored == {good[0]["source_key"], good[1]["source_key"]}
    assert await count(session, CrossReference) == 2


async def test_source_option_fills_missing_sources_and_rejects_other_departments(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, tmp_path: Path
) -> None:
    finance, sales = department_records(1, seed=3)[:1] + [
        r | {"source": "sales"} for r in department_records(1, seed=4)[:1]
    ]
    own = {k: v for k, v in finance.items() if k != "source"}
    path = write_jsonl(tmp_path / "finance.jsonl", [own, sales])
    report = await load_files(sessions, [path], source="finance")

    assert (report.created, report.rejected) == (1, 1)
    assert report.problems == [
        f"{path}:2: field 'source': is 'sales' but the batch is for 'finance'"
    ]
    codes = (await session.execute(select(SourceSystem.code))).scalars().all()
    assert codes == ["finance"]


async def test_a_repeated_record_is_unchanged_when_equal_and_rejected_when_different(
    tmp_path: Path,
) -> None:
    first, second = department_records(2, seed=5)[:2]
    path = write_jsonl(
        tmp_path / "repeats.jsonl", [first, second, first, second | {"name": "另一个名字"}]
    )
    workers = Workers(0)
    try:
        loaded = read_records([path], workers, source=None)
    finally:
        workers.close()

    assert [r.source_key for r in loaded.standards] == [
        first["source_key"],
        second["source_key"],
    ]
    assert (loaded.repeated, loaded.rejected) == (1, 1)
    assert loaded.problems[0].startswith(f"{path}:4: field 'source_key': ")
    assert f"was read at {path}:2" in loaded.problems[0]


def _read_and_serialize(path: Path, processes: int) -> tuple[Any, list[Any]]:
    """What :func:`read_records` gives, and every chunk serialized under made-up ids."""
    workers = Workers(processes)
    try:
        loaded = read_records([path], workers, source=None)
        serialized = [
            workers.submit(
                place.chunk,
                serialize_chunk,
                workers.load,
                place.chunk,
                place.positions,
                list(range(place.first, place.first + len(place.positions))),
            ).result()
            for place in loaded.chunks
        ]
    finally:
        workers.close()
    return loaded, serialized


async def test_worker_processes_report_the_cpu_seconds_they_spent() -> None:
    raws = department_records(100, seed=4)
    lines = [(n, json.dumps(raw, ensure_ascii=False)) for n, raw in enumerate(raws, start=1)]
    workers = Workers(1)
    try:
        before = await workers.cpu_seconds()
        await workers.run(
            0, partial(standardize_chunk, raw_text=True), workers.load, 0, lines, None
        )
        after = await workers.cpu_seconds()
    finally:
        workers.close()

    assert after > before
    assert await workers.cpu_seconds() == after  # closed: what they had spent when last asked
    assert await Workers(0).cpu_seconds() == 0  # alone, this process spends it all


def test_worker_processes_read_the_same_records_as_one_process(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub.bulk, "CHUNK_LINES", 50)  # several chunks, both workers busy
    alone, alone_rows = _read_and_serialize(corpus, 0)
    pooled, pooled_rows = _read_and_serialize(corpus, 2)

    assert len(alone.chunks) > 2
    assert pooled.standards == alone.standards
    assert pooled.hashes == alone.hashes
    assert pooled.places == alone.places
    assert pooled.key_hashes().values.tolist() == alone.key_hashes().values.tolist()
    assert pooled_rows == alone_rows


async def test_bulk_is_refused_when_the_hub_holds_records(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, corpus: Path
) -> None:
    async with session.begin_nested():
        await submit_records(session, "finance", [department_records(1, seed=9)[0]], actor="t")

    with pytest.raises(Conflict, match="a bulk load is for a first load only"):
        await load_files(sessions, [corpus], bulk=True)
    assert await count(session, SourceRecord) == 1
    # Without --bulk a load into a hub that holds records goes incremental.
    small = write_jsonl(corpus.with_name("one.jsonl"), department_records(1, seed=10)[:1])
    report = await load_files(sessions, [small])
    assert (report.mode, report.created) == ("incremental", 1)


async def test_a_change_submitted_after_a_bulk_load_versions_the_record_and_its_golden(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, corpus: Path
) -> None:
    await load_files(sessions, [corpus], bulk=True)
    record = next(
        r
        for r in map(json.loads, corpus.read_text(encoding="utf-8").splitlines())  # noqa: ASYNC240
        if r["source"] == "finance"
    )
    changed = record | {"phones": [*record["phones"], "010-62881235"]}
    async with session.begin_nested():
        result = await submit_records(session, "finance", [changed], actor="test")

    assert (result.updated, result.created, result.rejected) == (1, 0, 0)
    outcome = result.outcomes[0]
    assert outcome.decision == "kept"
    row = (
        await session.execute(
            select(SourceRecord).where(SourceRecord.source_key == record["source_key"])
        )
    ).scalar_one()
    assert row.current_version == 2
    golden = await session.get(GoldenRecord, outcome.golden_id)
    assert golden is not None
    await session.refresh(golden)
    assert golden.version == 2
    assert "+861062881235" in golden.attributes["phones"]
    last = (
        await session.execute(select(ChangeEvent).order_by(ChangeEvent.seq.desc()).limit(1))
    ).scalar_one()
    assert (last.kind, last.golden_ids) == ("updated", [golden.id])


async def test_a_bulk_load_leaves_every_foreign_key_as_the_migrations_made_it(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, corpus: Path
) -> None:
    query = text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated"
        " FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2"
    )
    before = (await session.execute(query)).all()
    await load_files(sessions, [corpus], bulk=True)

    assert (await session.execute(query)).all() == before
    assert any(table == "match_key" for table, *_ in before)


def test_the_source_tables_own_foreign_keys_come_back_before_the_golden_tables_are_written() -> (
    None
):
    dropped = DroppedForeignKeys(
        (
            ("match_key", "source_record", "ADD fk_match_key"),
            ("source_record", "source_system", "ADD fk_source_record"),
            ("cross_reference", "source_record", "ADD fk_cross_reference"),
            ("source_record", "golden_record", "ADD fk_hypothetical"),
        )
    )
    early = dropped.from_tables(SOURCE_TABLES, unless_to=("golden_record",))

    assert [s for _, _, s in early.statements] == ["ADD fk_match_key", "ADD fk_source_record"]
    assert [s for _, _, s in dropped.without(early).statements] == [
        "ADD fk_cross_reference",
        "ADD fk_hypothetical",
    ]


async def test_a_bulk_load_leaves_every_index_as_the_migrations_made_it(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, corpus: Path
) -> None:
    query = text(
        "SELECT tablename, indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() ORDER BY 1, 2"
    )
    before = (await session.execute(query)).all()
    await load_files(sessions, [corpus], bulk=True)

    assert (await session.execute(query)).all() == before
    assert any(name == "pk_search_token" for _, name, _ in before)
    # Analyzed in the load's transaction: planned for what they hold, not as empty.
    estimates = dict(
        (
            await session.execute(
                text(
                    "SELECT relname, reltuples FROM pg_class"
                    " WHERE relname IN ('source_record', 'golden_record')"
                )
            )
        ).all()
    )
    assert estimates == {
        "source_record": await count(session, SourceRecord),
        "golden_record": await count(session, GoldenRecord),
    }


async def test_reserved_ids_are_consecutive_and_never_given_again(session: AsyncSession) -> None:
    # A bulk load reserves them while it holds the table exclusively.
    await session.execute(text("LOCK TABLE source_system IN ACCESS EXCLUSIVE MODE"))
    first = await reserve_ids(session, "source_system", "id", 3)
    second = await reserve_ids(session, "source_system", "id", 2)
    inserted = await session.scalar(
        text("INSERT INTO source_system (code, name) VALUES ('x', 'x') RETURNING id")
    )

    assert list(first) == [first[0], first[0] + 1, first[0] + 2]
    assert list(second) == [first[-1] + 1, first[-1] + 2]
    assert inserted == second[-1] + 1
    assert await reserve_ids(session, "source_system", "id", 0) == range(0)


async def test_ids_are_not_reserved_from_an_identity_that_skips_values(
    session: AsyncSession,
) -> None:
    await session.execute(text("ALTER TABLE source_system ALTER COLUMN id SET INCREMENT BY 2"))
    with pytest.raises(RuntimeError, match="does not count up by one"):
        await reserve_ids(session, "source_system", "id", 3)


async def test_the_load_analysis_samples_less_and_leaves_the_setting_as_it_was(
    session: AsyncSession,
) -> None:
    await session.execute(text("SET LOCAL default_statistics_target = 77"))
    await session.execute(
        text(
            "INSERT INTO source_system (code, name)"
            " SELECT 's' || n, 'department ' || n FROM generate_series(1, 500) AS n"
        )
    )
    await analyze_tables(session, ["source_system"])

    bounds = await session.scalar(
        text(
            "SELECT cardinality(CAST(CAST(histogram_bounds AS text) AS text[])) FROM pg_stats"
            " WHERE schemaname = current_schema() AND tablename = 'source_system'"
            " AND attname = 'name'"
        )
    )
    assert bounds == hub.bulk.BULK_STATISTICS_TARGET + 1
    assert await session.scalar(text("SHOW default_statistics_target")) == "77"


async def test_stored_records_are_those_the_incremental_path_stores(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, tmp_path: Path
) -> None:
    odd = {
        "source": "finance",
        "source_key": "FIN\\12\t3",
        "party_type": "organization",
        "name": '北京"星河\\智能"科技有限公司',
        "address": "海淀区\\中关村\n大街1号",
        "note": "tab\there, backslash \\ and newline\nkept",
        "updated_at": "2025-03-01T08:00:00+08:00",
    }
    records = [odd, *department_records(20, seed=12)]
    path = write_jsonl(tmp_path / "odd.jsonl", records)
    await load_files(sessions, [path], bulk=True)

    stored = (
        await session.execute(
            select(SourceRecord, SourceRecordVersion).join(
                SourceRecordVersion, SourceRecordVersion.source_record_id == SourceRecord.id
            )
        )
    ).all()
    keys = set((await session.execute(select(MatchKey.key_hash, MatchKey.source_record_id))).all())
    assert len(stored) == len(records)
    by_key = {row.source_key: (row, version) for row, version in stored}
    for raw in records:
        record = parse_record(raw)
        standard = standardize_record(record)
        row, version = by_key[record.source_key]
        assert version.payload == record_to_dict(record)
        assert version.standardized == standard_record_to_dict(standard)
        assert version.flags == [
            {"field": f.field, "code": f.code, "message": f.message} for f in standard.flags
        ]
        assert version.source_updated_at == record.updated_at
        assert row.content_hash == content_hash(record_to_dict(record))
        held = {k for k, rid in keys if rid == row.id}
        assert held == set(map(key_hash, blocking_keys(standard)))
    golden = (
        await session.execute(
            select(GoldenRecord)
            .join(CrossReference, CrossReference.golden_id == GoldenRecord.id)
            .where(CrossReference.source_record_id == by_key["FIN\\12\t3"][0].id)
        )
    ).scalar_one()
    assert golden.name == odd["name"]
    assert golden.attributes["address"]["address"] == odd["address"]


def _canonical(record: ContractRecord) -> str:
    """The canonical JSON ``content_hash`` takes of a record's payload."""
    return json.dumps(
        record_to_dict(record), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_OPTIONAL = st.none() | _TEXT
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    name=_TEXT,
    optional=st.fixed_dictionaries({"address": _OPTIONAL, "city": _OPTIONAL, "uscc": _OPTIONAL}),
    phones=st.lists(_TEXT, max_size=3),
    extra=st.dictionaries(_TEXT, _JSON, max_size=3),
)
def test_canonical_payload_is_the_json_the_content_hash_is_taken_of(
    name: str, optional: dict[str, str | None], phones: list[str], extra: dict[str, Any]
) -> None:
    contract = ContractRecord(
        source="finance",
        source_key=name[::-1],
        party_type=PartyType.ORGANIZATION,
        name=name,
        phones=tuple(phones),
        updated_at=datetime(2025, 3, 1, 8, tzinfo=UTC),
        **optional,
    )
    # Fields outside the contract (numbers among them) as well as without.
    for record in (contract, replace(contract, extra=extra)):
        assert canonical_payload(record) == _canonical(record)
        assert payload_hash(canonical_payload(record)) == content_hash(record_to_dict(record))


def test_a_payload_with_a_lone_surrogate_is_written_as_json_writes_it() -> None:
    record = ContractRecord(
        source="finance", source_key="1", party_type=PartyType.PERSON, name="张\ud800三"
    )
    assert canonical_payload(record) == _canonical(record)


def test_match_key_rows_are_the_blocking_keys_of_each_record_under_its_id() -> None:
    raws = department_records(30, seed=4)
    lines = [(n, json.dumps(raw, ensure_ascii=False)) for n, raw in enumerate(raws, start=1)]
    load = "test-match-keys"
    try:
        done = standardize_chunk(load, 0, lines, None, raw_text=True)
        kept = [0, 2, *range(5, len(done.standards))]
        ids = [1000 + 7 * n for n in range(len(kept))]
        rows = serialize_chunk(load, 0, kept, ids)
    finally:
        hub.bulk.forget_chunks(load)

    expected = "".join(
        f"{key_hash(key)}\t{record_id}\n"
        for position, record_id in zip(kept, ids, strict=True)
        for key in blocking_keys(done.standards[position])
    )
    assert rows.match_keys.decode() == expected


_ORPHANED_WORKER = """
import os, sys, time
from hub.bulk import Workers

if __name__ == "__main__":
    workers = Workers(1)
    worker = workers.submit(0, os.getpid).result()
    server = workers.submit(0, os.getppid).result()
    print(worker, server, flush=True)
    time.sleep(120)
"""


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_workers_of_a_load_killed_outright_end_with_it(tmp_path: Path) -> None:
    script = tmp_path / "load.py"
    script.write_text(_ORPHANED_WORKER)
    root = Path(hub.bulk.__file__).parents[1]
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, cwd=root) as load:
        try:
            assert load.stdout is not None
            worker, server = map(int, load.stdout.readline().split())
            assert _running(worker)
            assert _running(server)
            load.kill()  # as the kernel kills a process out of memory: no clean-up of its own
            load.wait(timeout=10)
            deadline = time.monotonic() + 10 * hub.bulk.LOAD_WATCH_SECONDS
            while (_running(worker) or _running(server)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _running(worker)
            assert not _running(server)
        finally:
            load.kill()


def test_a_shared_cluster_is_survived_by_the_worker_keeping_most_of_its_members() -> None:
    workers, alone = Workers(3), Workers(0)  # chunk n is kept by worker n % 3; or this process
    try:
        # (chunk, position, record id) of each member, the first member first.
        most_in_the_third = [(0, 1, 10), (2, 1, 11), (5, 2, 12), (4, 0, 13)]
        as_many_in_each = [(4, 3, 20), (0, 2, 21), (3, 0, 22), (1, 1, 23)]
        one_member = [(7, 1, 30)]
        assert keeper_of_most(workers, most_in_the_third) == 2
        assert keeper_of_most(workers, as_many_in_each) == 1  # the first member's
        assert keeper_of_most(workers, one_member) == 1
        assert keeper_of_most(alone, most_in_the_third) == 0
    finally:
        workers.close()
        alone.close()


def test_members_sent_to_another_worker_survive_there_as_where_they_were_made() -> None:
    raws = department_records(30, seed=4)
    lines = [(n, json.dumps(raw, ensure_ascii=False)) for n, raw in enumerate(raws, start=1)]
    made, sent = "test-members-made", "test-members-sent"
    try:
        done = standardize_chunk(made, 3, lines, None, raw_text=True)
        kept = list(range(len(done.standards)))
        ids = [500 + n for n in kept]
        serialize_chunk(made, 3, kept, ids)
        prepare_members(made, 3, kept, ids)
        # Golden records of one, two and three members, in no particular order.
        groups = [
            kept[n : n + size] for n, size in zip((0, 1, 3, 6, 9), (1, 2, 3, 1, 2), strict=True)
        ]
        clusters = [
            (9000 + g, [(3, p, ids[p]) for p in reversed(group)]) for g, group in enumerate(groups)
        ]
        at = datetime(2024, 5, 1, tzinfo=UTC)
        survived_where_made = survive_held(made, clusters, rules=default_rules(), at=at)
        received = import_members(sent, export_members(made, [(3, p) for p in kept]))
        survived_where_sent = survive_held(sent, clusters, rules=default_rules(), at=at)
    finally:
        hub.bulk.forget_chunks(made)
        hub.bulk.forget_chunks(sent)

    assert received == len(kept)
    assert survived_where_made.count == len(groups)
    assert survived_where_sent.goldens == survived_where_made.goldens
    # The same rows of search tokens (a set's order is not kept in a pickle).
    assert sorted(survived_where_sent.tokens.splitlines()) == sorted(
        survived_where_made.tokens.splitlines()
    )
    assert survived_where_made.tokens


def test_the_policies_run_once_per_distinct_figures_and_give_every_customer_its_profile() -> None:
    rng = random.Random(21)
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    rules, policy = default_classification_rules(), default_credit_policy()
    figures = []
    for golden_id in range(1, 301):
        bought = rng.random() < 0.3
        amount = Decimal(rng.choice(["0", "1200.50", "56000", "980000"])) if bought else Decimal(0)
        figures.append(
            CustomerFigures(
                golden_id=golden_id,
                party_type=rng.choice(["organization", "person"]),
                ownership=rng.choice([None, "state_owned", "private"]),
                category=rng.choice([None, "end_customer", "major_account"]),
                region=rng.choice([None, "华北", "华东"]),
                industry=rng.choice([None, "logistics"]),
                transaction_count=rng.randrange(1, 9) if bought else 0,
                transaction_amount=amount,
                revenue_12m=amount,
                first_transaction_at=now - timedelta(days=400) if bought else None,
                last_transaction_at=now - timedelta(days=rng.choice([3, 200])) if bought else None,
                last_contact_at=None,
                average_days_late=rng.choice([None, 12.5]) if bought else None,
                open_complaints=0,
                open_receivables=Decimal(0),
                close_requested_at=None,
            )
        )
    cutoffs = tier_cutoffs([f.revenue_12m for f in figures], rules)

    profiles = derive_profiles(figures, cutoffs, rules, policy, now)

    assert profiles.golden_ids == list(range(1, 301))
    assert len(profiles.explanations) == len(set(profiles.slots)) < len(figures)
    for customer, slot in zip(figures, profiles.slots, strict=True):
        alone = derive_profiles([customer], cutoffs, rules, policy, now)
        assert alone.slots == [0]
        assert profile_of(profiles, slot) == profile_of(alone, 0)


def profile_of(profiles: Profiles, slot: int) -> tuple[Any, ...]:
    """Everything ``profiles`` says of the customers at ``slot``."""
    per_profile = (
        *profiles.values,
        profiles.explanations,
        profiles.ratings,
        profiles.recommended_limits,
        profiles.settlement_terms,
        profiles.credit_inputs,
    )
    return tuple(column[slot] for column in per_profile)


def test_search_token_rows_are_each_token_as_copy_text_under_its_golden_id() -> None:
    plain = ["wang", "王伟", "138"]
    # A backslash, a tab or a line break inside a token is escaped as COPY reads it.
    awkward = ["a\\b", "c\td", "e\nf", "g\rh", "plain"]
    for tokens in (plain, awkward, []):
        assert token_rows(tokens, 42) == "".join(f"{copy_text(t)}\t42\n" for t in tokens)
