"""Bulk first load: set-based work for an empty hub.

The incremental path makes a few round trips per record; a first load of
hundreds of thousands of records instead

1. reads, parses and standardizes every file (in worker processes when the
   load is large), rejecting bad lines and records by file and line;
2. matches all accepted records at once with :func:`matching.match_records`
   and the shipped model (the one the incremental path scores with, its term
   frequencies included), so clusters and review pairs come from the batch
   pipeline's constrained clustering;
3. survives one golden record per cluster with the same pure functions the
   incremental path uses (:func:`member_from_record`, :func:`survive`);
4. writes every table with COPY in the caller's transaction (the source
   records while the matching runs, so PostgreSQL works alongside).

A load killed half-way commits nothing: :func:`load_bulk` runs
:func:`claim_empty_hub`, :func:`drop_foreign_keys`, :func:`write_source_records`,
:func:`write_goldens`, :func:`restore_foreign_keys` and ``refresh_profiles`` in
one transaction, and a re-run finds the hub still empty. Until it commits,
other sessions wait on the tables it fills (their foreign keys are dropped for
the load: checked row by row they cost more than the COPY itself).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress
from sqlalchemy import exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.collector import collector_paused
from hub.db.models import SourceRecord as SourceRecordRow
from hub.errors import Conflict, Invalid
from hub.files import BadLine, count_lines, read_lines
from hub.services.events import OUTBOX_LOCK_KEY, ChangeKind
from hub.services.profile import refresh_profiles
from hub.services.records import content_hash
from hub.services.search import golden_tokens, name_tokens
from hub.services.sources import check_source_code, ensure_source
from hub.survivorship import SurvivorshipRules, default_rules, member_from_record, survive
from hub.uow import in_transaction
from matching import RecordError, StandardRecord, parse_record
from matching import SourceRecord as ContractRecord
from matching.block import DEFAULT_RULES, KeyHashes, blocking_keys, key_hash
from matching.compare import Columns, compare_pairs
from matching.model import Model, default_model
from matching.pipeline import MatchConfig, MatchResult, match_records
from matching.pipeline import Progress as StageProgress
from matching.record import record_to_dict
from matching.standardize import standard_record_to_dict, standardize_record

NOT_EMPTY = (
    "the hub already holds source records; a bulk load is for a first load only "
    "(load without --bulk to add or update records)"
)
# A linked record's score is its best with one of its cluster's first members.
LINK_SCORE_PEERS = 50
# Golden records per profile refresh: its queries bind one parameter per id, and
# a statement takes at most 32,767.
PROFILE_CHUNK = 5_000
# Lines per unit of work sent to a worker process.
CHUNK_LINES = 2_000
# Below this many lines, starting worker processes costs more than it saves.
PARALLEL_MIN_LINES = 20_000


@dataclass(frozen=True, slots=True)
class Prepared:
    """One accepted record: parsed, standardized, and serialized for COPY."""

    number: int
    record: ContractRecord
    standard: StandardRecord
    payload_json: str
    standardized_json: str
    flags_json: str
    content_hash: bytes
    keys: tuple[str, ...]
    key_hashes: tuple[int, ...]  # the keys' stable hashes, for batch matching
    # Search tokens of the record's names (the pinyin is costly: workers make them).
    name_tokens: tuple[tuple[str, frozenset[str]], ...]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A line whose record breaks the contract; nothing of it is stored."""

    number: int
    message: str


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def prepare_record(number: int, raw: Any, source: str | None) -> Prepared | Rejected:
    """Parse and standardize one line's record (``source`` fills or asserts its department)."""
    try:
        record = parse_record(raw, source=source, position=number)
        check_source_code(record.source)
    except RecordError as error:
        what = f"field '{error.field}': " if error.field else ""
        return Rejected(number, f"{what}{error.message}")
    except Invalid as error:
        return Rejected(number, f"field 'source': {error.message}")
    # The standardization, payload and digest are those of the incremental path.
    standard = standardize_record(record)
    payload = record_to_dict(record)
    keys = tuple(blocking_keys(standard))
    return Prepared(
        number=number,
        record=record,
        standard=standard,
        payload_json=_dumps(payload),
        standardized_json=_dumps(standard_record_to_dict(standard)),
        flags_json=_dumps(
            [{"field": f.field, "code": f.code, "message": f.message} for f in standard.flags]
        ),
        content_hash=content_hash(payload),
        keys=keys,
        key_hashes=tuple(key_hash(key) for key in keys),
        name_tokens=tuple(
            (name, frozenset(name_tokens(name)))
            for name in (record.name, record.name_en)
            if name is not None
        ),
    )


def prepare_chunk(
    lines: Sequence[tuple[int, Any]], source: str | None
) -> list[Prepared | Rejected]:
    """:func:`prepare_record` over a chunk of (line number, raw record) (a worker's task)."""
    with collector_paused():
        return [prepare_record(number, raw, source) for number, raw in lines]


@dataclass(slots=True)
class BulkInput:
    """What the files hold: accepted records in file order, and the problems found."""

    records: list[Prepared] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # "file:line" per accepted record
    problems: list[str] = field(default_factory=list)
    rejected: int = 0
    repeated: int = 0  # lines repeating an accepted record unchanged


def _chunks(
    files: Sequence[Path], size: int
) -> Iterator[tuple[Path, list[BadLine], list[tuple[int, Any]]]]:
    for path in files:
        bad: list[BadLine] = []
        good: list[tuple[int, Any]] = []
        for item in read_lines(path):
            if isinstance(item, BadLine):
                bad.append(item)
            else:
                good.append((item.number, item.value))
            if len(bad) + len(good) >= size:
                yield path, bad, good
                bad, good = [], []
        if bad or good:
            yield path, bad, good


def read_records(
    files: Sequence[Path],
    *,
    source: str | None,
    workers: int = 1,
    on_lines: Callable[[int], None] | None = None,
) -> BulkInput:
    """Read, parse and standardize ``files`` in ``workers`` processes (this one included).

    A record whose (source, source_key) was already read is counted unchanged
    when it repeats it exactly and rejected otherwise: a first load keeps one
    version per record.
    """
    if source is not None:
        check_source_code(source)
    for path in files:
        if not path.is_file():
            raise Invalid(f"{path}: no such file", field="file")
    out = BulkInput()
    seen: dict[tuple[str, str], int] = {}

    def take(path: Path, bad: list[BadLine], prepared: list[Prepared | Rejected]) -> None:
        for line in bad:
            out.rejected += 1
            out.problems.append(f"{path}:{line.number}: {line.message}")
        for item in prepared:
            where = f"{path}:{item.number}"
            if isinstance(item, Rejected):
                out.rejected += 1
                out.problems.append(f"{where}: {item.message}")
                continue
            key = item.record.source, item.record.source_key
            first = seen.get(key)
            if first is None:
                seen[key] = len(out.records)
                out.records.append(item)
                out.places.append(where)
            elif out.records[first].content_hash == item.content_hash:
                out.repeated += 1
            else:
                out.rejected += 1
                out.problems.append(
                    f"{where}: field 'source_key': ({key[0]}, {key[1]}) was read at "
                    f"{out.places[first]} with other values; a first load keeps one version "
                    "per record (load the change afterwards)"
                )
        if on_lines is not None:
            on_lines(len(bad) + len(prepared))

    if workers <= 1:
        for path, bad, good in _chunks(files, CHUNK_LINES):
            take(path, bad, prepare_chunk(good, source))
        return out
    # This process takes every `workers`-th chunk itself: its share needs no
    # pickling, and it would otherwise wait. Workers are spawned, not forked:
    # the parent runs an event loop and threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
        pending: deque[
            tuple[
                Path, list[BadLine], Future[list[Prepared | Rejected]] | list[Prepared | Rejected]
            ]
        ] = deque()
        for number, (path, bad, good) in enumerate(_chunks(files, CHUNK_LINES)):
            if number % workers:
                pending.append((path, bad, pool.submit(prepare_chunk, good, source)))
            else:
                pending.append((path, bad, prepare_chunk(good, source)))
            # A bounded window keeps memory flat and results in file order.
            while len(pending) > 2 * workers:
                take(*_ready(pending.popleft()))
        while pending:
            take(*_ready(pending.popleft()))
    return out


def _ready(
    item: tuple[Path, list[BadLine], Future[list[Prepared | Rejected]] | list[Prepared | Rejected]],
) -> tuple[Path, list[BadLine], list[Prepared | Rejected]]:
    path, bad, prepared = item
    return path, bad, prepared.result() if isinstance(prepared, Future) else prepared


def default_workers(lines: int) -> int:
    """Processes standardizing ``lines`` lines, this one included (1: this one alone)."""
    if lines < PARALLEL_MIN_LINES:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def bulk_match_config() -> MatchConfig:
    """Batch settings that score pairs exactly as the incremental path does.

    The incremental path scores with the shipped model's term frequencies; the
    batch pipeline would count its own above ``tf_min_records``, so that floor
    is lifted.
    """
    return MatchConfig(tf_min_records=2**62)


@dataclass(frozen=True, slots=True)
class Cluster:
    """The records (indexes into the load, ascending) of one future golden record."""

    members: tuple[int, ...]


def clusters_of(result: MatchResult) -> list[Cluster]:
    """One cluster per distinct cluster id, ordered by first member (file order)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, assignment in enumerate(result.assignments):
        groups[assignment.cluster_id].append(index)
    return sorted((Cluster(tuple(m)) for m in groups.values()), key=lambda c: c.members[0])


def link_scores(
    records: Sequence[StandardRecord], clusters: Sequence[Cluster], model: Model
) -> dict[int, float]:
    """Each linked record's strongest score with another member of its cluster.

    What the incremental path stores on an auto link (the best pair with the
    golden record); the first member of each cluster has none. In clusters
    larger than ``LINK_SCORE_PEERS`` only pairs with the first ones are scored.
    """
    left: list[int] = []
    right: list[int] = []
    for cluster in clusters:
        members = cluster.members
        # Every pair of a small cluster; in a large one, pairs with its first members.
        for i, a in enumerate(members[:LINK_SCORE_PEERS]):
            for b in members[i + 1 :]:
                left.append(a)
                right.append(b)
    if not left:
        return {}
    involved = sorted({*left, *right})
    position = {index: p for p, index in enumerate(involved)}
    cols = Columns.from_records([records[i] for i in involved], model.frequencies)
    vectors = compare_pairs(
        cols,
        np.fromiter((position[i] for i in left), dtype=np.int64, count=len(left)),
        np.fromiter((position[i] for i in right), dtype=np.int64, count=len(right)),
    )
    weights = model.match_weights(vectors)
    best: dict[int, float] = {}
    for a, b, weight in zip(left, right, weights.tolist(), strict=True):
        for index in (a, b):
            if weight > best.get(index, float("-inf")):
                best[index] = weight
    firsts = {c.members[0] for c in clusters}
    return {i: w for i, w in best.items() if i not in firsts}


@dataclass(frozen=True, slots=True)
class GoldenPlan:
    """A golden record to write: its members and its survived values as JSON."""

    members: tuple[int, ...]
    party_type: str
    name: str
    region: str | None
    industry: str | None
    attributes_json: str
    lineage_json: str
    search_tokens: tuple[str, ...]


def _tokens_of(known: Mapping[str, frozenset[str]], name: str) -> set[str]:
    """A name's search tokens: as a worker made them for a member, or made now."""
    found = known.get(name)
    return set(found) if found is not None else name_tokens(name)


def plan_goldens(
    records: Sequence[Prepared],
    record_ids: Sequence[int],
    clusters: Sequence[Cluster],
    *,
    at: datetime,
    rules: SurvivorshipRules | None = None,
    on_cluster: Callable[[int], None] | None = None,
) -> list[GoldenPlan]:
    """Survive and index each cluster as ``refresh_goldens`` would a new golden record."""
    rules = rules or default_rules()
    plans: list[GoldenPlan] = []
    for done, cluster in enumerate(clusters, start=1):
        members = [
            member_from_record(record_ids[i], 1, records[i].record, records[i].standard)
            for i in cluster.members
        ]
        survived = survive(members, rules, (), at=at)
        attributes = survived.attributes
        known = {name: tokens for i in cluster.members for name, tokens in records[i].name_tokens}
        address = attributes.get("address") or {}
        plans.append(
            GoldenPlan(
                members=cluster.members,
                party_type=records[cluster.members[0]].record.party_type.value,
                name=str(attributes.get("name", "")),
                region=address.get("region"),
                industry=attributes.get("industry"),
                attributes_json=_dumps(attributes),
                lineage_json=_dumps(survived.lineage),
                search_tokens=tuple(golden_tokens(attributes, partial(_tokens_of, known))),
            )
        )
        if on_cluster is not None and done % 1000 == 0:
            on_cluster(1000)
    if on_cluster is not None:
        on_cluster(len(clusters) % 1000)
    return plans


async def hub_is_empty(session: AsyncSession) -> bool:
    """Whether the hub holds no source record at all (retired ones count)."""
    found = await session.scalar(select(exists().where(SourceRecordRow.id.is_not(None))))
    return not found


async def _reserve_ids(session: AsyncSession, table: str, column: str, count: int) -> list[int]:
    """``count`` fresh values of an identity column (gaps are harmless, reuse impossible)."""
    if count == 0:
        return []
    rows = await session.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence(:table, :column)) "
            "FROM generate_series(1, :count) ORDER BY 1"
        ),
        {"table": table, "column": column, "count": count},
    )
    return [r[0] for r in rows]


@dataclass(slots=True)
class BulkWritten:
    """Rows written by a bulk load."""

    golden_ids: list[int] = field(default_factory=list)
    records: int = 0
    goldens: int = 0
    reviews: int = 0
    match_keys: int = 0


class _Copier:
    """COPY into the session's connection, a progress bar per table."""

    def __init__(self, driver: Any, progress: Progress | None) -> None:
        self.driver = driver
        self.progress = progress

    @classmethod
    async def of(cls, session: AsyncSession, progress: Progress | None) -> _Copier:
        raw = await (await session.connection()).get_raw_connection()
        if raw.driver_connection is None:
            raise RuntimeError("the session's connection has no driver connection")
        return cls(raw.driver_connection, progress)

    async def __call__(
        self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        batch = list(rows)
        step = (
            self.progress.add_task(f"write {table}", total=len(batch))
            if self.progress is not None
            else None
        )
        await self.driver.copy_records_to_table(table, columns=list(columns), records=batch)
        if self.progress is not None and step is not None:
            self.progress.update(step, completed=len(batch))
        return len(batch)


async def claim_empty_hub(session: AsyncSession) -> None:
    """Lock source records against every other writer until commit; the hub must be empty.

    Raises :class:`Conflict` when the hub already holds source records.
    """
    await session.execute(text("LOCK TABLE source_record IN SHARE ROW EXCLUSIVE MODE"))
    if not await hub_is_empty(session):
        raise Conflict(NOT_EMPTY)


# The tables a bulk load fills. Their foreign keys are dropped for the load and
# added back (validated in one join each) before commit: checked row by row
# they cost more than the COPY itself.
BULK_TABLES = (
    "source_record",
    "source_record_version",
    "match_key",
    "golden_record",
    "golden_record_version",
    "search_token",
    "cross_reference",
    "match_review",
)


@dataclass(frozen=True, slots=True)
class DroppedForeignKeys:
    """Statements that add back the foreign keys a bulk load dropped."""

    statements: tuple[str, ...]


async def drop_foreign_keys(session: AsyncSession, tables: Sequence[str]) -> DroppedForeignKeys:
    """Drop the foreign keys of ``tables`` for this transaction; see :func:`restore_foreign_keys`.

    The catalog writes both statements, so names and definitions stay those of
    the migrations. Other sessions wait on these tables until commit.
    """
    rows = (
        await session.execute(
            text(
                "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),"
                " format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,"
                " pg_get_constraintdef(oid))"
                " FROM pg_constraint WHERE contype = 'f'"
                " AND conrelid = ANY(CAST(:tables AS regclass[]))"
                " ORDER BY conrelid::regclass::text, conname"
            ),
            {"tables": list(tables)},
        )
    ).all()
    for drop, _ in rows:
        await session.execute(text(drop))
    return DroppedForeignKeys(tuple(add for _, add in rows))


async def restore_foreign_keys(session: AsyncSession, dropped: DroppedForeignKeys) -> None:
    """Add back (and so check) the foreign keys :func:`drop_foreign_keys` dropped."""
    for statement in dropped.statements:
        await session.execute(text(statement))


async def analyze_tables(session: AsyncSession, tables: Sequence[str]) -> None:
    """Gather statistics on ``tables`` now, in this transaction.

    What follows a bulk load (its profile refresh, the first incremental
    submissions) would otherwise be planned for empty tables until autovacuum
    gets to them.
    """
    analyze = await session.scalar(
        text(
            "SELECT 'ANALYZE ' || string_agg(CAST(CAST(t AS regclass) AS text), ', ')"
            " FROM unnest(CAST(:tables AS text[])) AS t"
        ),
        {"tables": list(tables)},
    )
    await session.execute(text(str(analyze)))


async def write_source_records(
    session: AsyncSession, records: Sequence[Prepared], *, progress: Progress | None = None
) -> list[int]:
    """COPY the records, their first versions and blocking keys; their ids, in order.

    Call :func:`claim_empty_hub` first, in the same transaction.
    """
    copy = await _Copier.of(session, progress)
    source_ids = {
        code: await ensure_source(session, code)
        for code in sorted({r.record.source for r in records})
    }
    record_ids = await _reserve_ids(session, "source_record", "id", len(records))
    await copy(
        "source_record",
        ("id", "source_id", "source_key", "party_type", "current_version", "content_hash"),
        (
            (
                record_ids[i],
                source_ids[r.record.source],
                r.record.source_key,
                r.record.party_type.value,
                1,
                r.content_hash,
            )
            for i, r in enumerate(records)
        ),
    )
    await copy(
        "source_record_version",
        ("source_record_id", "version", "payload", "standardized", "flags", "source_updated_at"),
        (
            (
                record_ids[i],
                1,
                r.payload_json,
                r.standardized_json,
                r.flags_json,
                r.record.updated_at,
            )
            for i, r in enumerate(records)
        ),
    )
    await copy(
        "match_key",
        ("key", "source_record_id"),
        ((key, record_ids[i]) for i, r in enumerate(records) for key in r.keys),
    )
    # Interactions that arrived before their customer's record attach to it now.
    await session.execute(
        text(
            "UPDATE interaction AS i SET source_record_id = r.id FROM source_record AS r "
            "WHERE i.source_record_id IS NULL AND i.source_id = r.source_id "
            "AND i.customer_key = r.source_key"
        )
    )
    return record_ids


async def write_goldens(
    session: AsyncSession,
    records: Sequence[Prepared],
    record_ids: Sequence[int],
    result: MatchResult,
    *,
    actor: str,
    at: datetime,
    model: Model,
    rules: SurvivorshipRules | None = None,
    progress: Progress | None = None,
) -> BulkWritten:
    """One golden record per cluster of ``result``, with versions, links, reviews and events.

    Their derived profiles are the caller's next step: :func:`refresh_profiles`
    over ``golden_ids``, as ``refresh_goldens`` does.
    """
    if not len(result.assignments) == len(records) == len(record_ids):
        raise ValueError("the match result is not of these records")
    copy = await _Copier.of(session, progress)
    clusters = clusters_of(result)
    survive_task = (
        progress.add_task("survive golden records", total=len(clusters))
        if progress is not None
        else None
    )
    plans = plan_goldens(
        records,
        record_ids,
        clusters,
        at=at,
        rules=rules,
        on_cluster=(
            (lambda n: progress.advance(survive_task, n))
            if progress is not None and survive_task is not None
            else None
        ),
    )
    scores = link_scores([r.standard for r in records], clusters, model)
    golden_ids = await _reserve_ids(session, "golden_record", "id", len(plans))
    await copy(
        "golden_record",
        (
            "id",
            "party_type",
            "status",
            "version",
            "name",
            "region",
            "industry",
            "attributes",
            "lineage",
            "updated_at",
        ),
        (
            (
                golden_ids[g],
                p.party_type,
                "active",
                1,
                p.name,
                p.region,
                p.industry,
                p.attributes_json,
                p.lineage_json,
                at,
            )
            for g, p in enumerate(plans)
        ),
    )
    await copy(
        "search_token",
        ("token", "golden_id"),
        ((token, golden_ids[g]) for g, p in enumerate(plans) for token in p.search_tokens),
    )
    await copy(
        "golden_record_version",
        (
            "golden_id",
            "version",
            "status",
            "attributes",
            "lineage",
            "members",
            "change",
            "valid_from",
        ),
        (
            (
                golden_ids[g],
                1,
                "active",
                p.attributes_json,
                p.lineage_json,
                [record_ids[i] for i in p.members],
                ChangeKind.CREATED.value,
                at,
            )
            for g, p in enumerate(plans)
        ),
    )
    await copy(
        "cross_reference",
        ("source_record_id", "golden_id", "link_kind", "score", "linked_by"),
        (
            (record_ids[i], golden_ids[g], "new" if n == 0 else "auto", scores.get(i), actor)
            for g, p in enumerate(plans)
            for n, i in enumerate(p.members)
        ),
    )
    index_of = {r.standard.key: i for i, r in enumerate(records)}
    reviews = await copy(
        "match_review",
        ("left_record_id", "right_record_id", "score", "explanation"),
        (
            (
                record_ids[index_of[pair.left]],
                record_ids[index_of[pair.right]],
                pair.weight,
                _dumps(pair.explanation.to_dict()),
            )
            for pair in result.reviews
        ),
    )
    # Outbox writers serialize on this lock so sequence numbers appear in commit order.
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK_KEY})
    await copy(
        "change_event",
        ("kind", "golden_ids", "payload"),
        ((ChangeKind.CREATED.value, [golden_id], "{}") for golden_id in golden_ids),
    )
    return BulkWritten(
        golden_ids=golden_ids,
        records=len(records),
        goldens=len(plans),
        reviews=reviews,
        match_keys=sum(len(r.keys) for r in records),
    )


def match_loaded(
    records: Sequence[Prepared],
    *,
    model: Model | None = None,
    config: MatchConfig | None = None,
    on_stage: StageProgress | None = None,
) -> MatchResult:
    """Batch-match the accepted records with the shipped model (incremental scoring)."""
    config = config or bulk_match_config()
    # Key hashes were computed with the default rules where the records were read.
    hashes = (
        KeyHashes.of([r.key_hashes for r in records]) if config.rules == DEFAULT_RULES else None
    )
    return match_records(
        [r.standard for r in records],
        config,
        model=model or default_model(),
        progress=on_stage,
        key_hashes=hashes,
    )


@dataclass(slots=True)
class BulkOutcome:
    """What a bulk load did: counts, problems by file and line, stage timings."""

    created: int = 0
    unchanged: int = 0
    rejected: int = 0
    goldens: int = 0
    reviews: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


async def load_bulk(
    sessions: async_sessionmaker[AsyncSession],
    files: Sequence[Path],
    *,
    source: str | None,
    actor: str,
    progress: Progress,
    workers: int | None = None,
    model: Model | None = None,
) -> BulkOutcome:
    """Load ``files`` into an empty hub: read, match, survive, then one transaction of COPY."""
    with collector_paused():
        return await _load_bulk(
            sessions,
            files,
            source=source,
            actor=actor,
            progress=progress,
            workers=workers,
            model=model,
        )


async def _load_bulk(
    sessions: async_sessionmaker[AsyncSession],
    files: Sequence[Path],
    *,
    source: str | None,
    actor: str,
    progress: Progress,
    workers: int | None = None,
    model: Model | None = None,
) -> BulkOutcome:
    outcome = BulkOutcome()
    async with sessions() as session, session.begin():
        if not await hub_is_empty(session):
            raise Conflict(NOT_EMPTY)
    clock = time.perf_counter()
    total = sum(count_lines(path) for path in files if path.is_file())
    reading = progress.add_task("read + standardize", total=total)
    loaded = await asyncio.to_thread(
        read_records,
        files,
        source=source,
        workers=workers if workers is not None else default_workers(total),
        on_lines=lambda n: progress.advance(reading, n),
    )
    progress.update(reading, completed=total)
    outcome.rejected, outcome.unchanged = loaded.rejected, loaded.repeated
    outcome.problems = loaded.problems
    outcome.seconds["read"] = time.perf_counter() - clock
    if not loaded.records:
        return outcome

    stages = progress.add_task("match", total=1)

    def on_stage(stage: str, step: int, steps: int) -> None:
        progress.update(stages, description=f"match: {stage}", total=steps, completed=step - 1)

    model = model or default_model()
    records = loaded.records

    async def write(session: AsyncSession) -> BulkWritten:
        clock = time.perf_counter()
        await claim_empty_hub(session)
        dropped = await drop_foreign_keys(session, BULK_TABLES)
        # PostgreSQL takes the source records in while this process matches them.
        copying = asyncio.create_task(write_source_records(session, records, progress=progress))
        try:
            result = await asyncio.to_thread(match_loaded, records, model=model, on_stage=on_stage)
        finally:
            await asyncio.wait([copying])
        progress.update(stages, description="match", completed=progress.tasks[stages].total)
        record_ids = copying.result()
        outcome.seconds["match + write records"] = time.perf_counter() - clock
        clock = time.perf_counter()
        at = datetime.now(UTC)
        written = await write_goldens(
            session,
            records,
            record_ids,
            result,
            actor=actor,
            at=at,
            model=model,
            progress=progress,
        )
        await restore_foreign_keys(session, dropped)
        await analyze_tables(session, BULK_TABLES)
        outcome.seconds["survive + write goldens"] = time.perf_counter() - clock
        clock = time.perf_counter()
        # Metrics, classification and credit, as refresh_goldens leaves a new golden record.
        ids = written.golden_ids
        deriving = progress.add_task("derive profiles", total=len(ids))
        for start in range(0, len(ids), PROFILE_CHUNK):
            await refresh_profiles(session, ids[start : start + PROFILE_CHUNK], now=at)
            progress.advance(deriving, len(ids[start : start + PROFILE_CHUNK]))
        outcome.seconds["profiles"] = time.perf_counter() - clock
        return written

    written = await in_transaction(sessions, write, attempts=1)
    outcome.created = written.records
    outcome.goldens = written.goldens
    outcome.reviews = written.reviews
    return outcome
