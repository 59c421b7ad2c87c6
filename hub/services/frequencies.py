"""Term frequencies of the stored population, kept as a snapshot in PostgreSQL.

``hub match`` counts how common each name, phone or address is over its own
input once that holds ``MatchConfig().tf_min_records`` records; the shipped
model's counts come from its training corpus. For the hub to decide as
``hub match`` does on the same records, submissions score with the counts of
the records the hub stores: a :class:`TermFrequencies` over the current
source records, counted in PostgreSQL and kept in ``term_frequency_snapshot``.

A bulk load writes the first snapshot; ``hub frequencies refresh`` writes one
on demand; a submission that finds the population moved by a tenth since the
snapshot (records stored, changed or retired, counted by a sequence) starts a
refresh in the background. Each process keeps the latest snapshot it read and
asks only for the latest snapshot's id with every submission.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.matcher import Matcher
from matching.compare import COMMON_COUNT, TermFrequencies
from matching.pipeline import MatchConfig
from matching.types import StandardRecord

__all__ = [
    "POPULATION_HEAD",
    "REFRESH_SHARE",
    "SnapshotHead",
    "count_loaded_frequencies",
    "count_term_frequencies",
    "latest_snapshot",
    "matcher_of_population",
    "needs_refresh",
    "note_population_changes",
    "population_matcher",
    "refresh_if_stale",
    "refresh_term_frequencies",
    "write_term_frequencies",
]

log = logging.getLogger(__name__)

# The population must have moved by this share of the snapshot's records
# (stored, changed or retired) before a submission asks for a new count.
REFRESH_SHARE = 0.10
# One count at a time across the hub's processes.
REFRESH_LOCK_KEY = 0x68756274
# After a background count fails, a process waits this long before another.
RETRY_AFTER_SECONDS = 60.0
# Snapshots kept (the latest is used; one older one for a process still reading it).
KEPT_SNAPSHOTS = 2

# What :func:`matching.compare.record_terms` yields, read from the stored
# standardized JSON (``standard_record_to_dict``) of every current record, and
# one row per record with a null kind for the totals. Keep the two in step: a
# test compares this count with ``TermFrequencies.from_records``.
_COUNT_TERMS = text(
    """
    SELECT s.party, t.kind, t.value, count(*) AS holders
    FROM source_record r
    JOIN source_record_version v
      ON v.source_record_id = r.id AND v.version = r.current_version
    CROSS JOIN LATERAL (
      SELECT v.standardized ->> 'party_type' AS party,
             v.standardized -> 'name' AS name,
             v.standardized -> 'address' AS address,
             v.standardized #>> '{name,core}' AS core
    ) AS s
    CROSS JOIN LATERAL (
      SELECT NULL, NULL
      UNION ALL SELECT 'name', s.core
      UNION ALL SELECT 'trade', nullif(s.name ->> 'trade', s.core)
      UNION ALL SELECT 'pinyin', s.name ->> 'pinyin'
      UNION ALL SELECT DISTINCT 'phone', phone ->> 'e164'
        FROM jsonb_array_elements(v.standardized -> 'phones') AS phone
      UNION ALL SELECT DISTINCT 'email', email
        FROM jsonb_array_elements_text(v.standardized -> 'emails') AS email
      UNION ALL SELECT 'address', coalesce(s.address ->> 'city', '') || '|' || detail
        FROM (SELECT s.address ->> 'detail' AS detail) AS d WHERE detail <> ''
      UNION ALL SELECT 'contact', v.standardized ->> 'contact_name'
      UNION ALL SELECT part.kind, part.value FROM (
          SELECT 'given', regexp_replace(s.core, ' [^ ]*$', '') WHERE position(' ' IN s.core) > 0
          UNION ALL SELECT 'surname', regexp_replace(s.core, '^.* ', '')
        ) AS part(kind, value)
        WHERE s.party = 'person' AND coalesce((s.name ->> 'is_latin')::boolean, false)
    ) AS t(kind, value)
    WHERE r.retired_at IS NULL AND r.current_version > 0
      AND (t.kind IS NULL OR t.value <> '')
    GROUP BY s.party, t.kind, t.value
    HAVING t.kind IS NULL OR count(*) >= :min_count
    """
)

_CHANGES = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM population_change_seq"


async def count_term_frequencies(session: AsyncSession) -> TermFrequencies:
    """The term frequencies of the current source records, counted in PostgreSQL.

    The same counts as ``TermFrequencies.from_records`` over those records; a
    kind without any value held ``COMMON_COUNT`` times has no table (the same
    lookups).
    """
    totals: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    rows = await session.execute(_COUNT_TERMS, {"min_count": COMMON_COUNT})
    for party, kind, value, holders in rows:
        if kind is None:
            totals[party] = holders
        else:
            counts.setdefault(f"{party}:{kind}", {})[value] = holders
    return TermFrequencies(
        totals=totals,
        counts={table: counts[table] for table in sorted(counts)},
        min_count=COMMON_COUNT,
    )


@dataclass(frozen=True, slots=True)
class SnapshotHead:
    """The latest snapshot as a submission sees it (without its counts)."""

    id: int
    records: int
    changes_mark: int


async def write_term_frequencies(
    session: AsyncSession, frequencies: TermFrequencies, *, changes_mark: int | None = None
) -> SnapshotHead:
    """Store ``frequencies`` as the latest snapshot; older ones but the last are deleted.

    ``changes_mark`` is the change counter when the counting started (by
    default its value now).
    """
    mark = changes_mark if changes_mark is not None else await _changes(session)
    records = sum(frequencies.totals.values())
    snapshot_id = await session.scalar(
        text(
            "INSERT INTO term_frequency_snapshot (records, changes_mark, frequencies)"
            " VALUES (:records, :mark, CAST(:frequencies AS jsonb)) RETURNING id"
        ),
        {
            "records": records,
            "mark": mark,
            "frequencies": orjson.dumps(frequencies.to_dict()).decode(),
        },
    )
    if snapshot_id is None:
        raise RuntimeError("the snapshot insert returned no id")
    await session.execute(
        text(
            "DELETE FROM term_frequency_snapshot WHERE id NOT IN"
            " (SELECT id FROM term_frequency_snapshot ORDER BY id DESC LIMIT :kept)"
        ),
        {"kept": KEPT_SNAPSHOTS},
    )
    return SnapshotHead(snapshot_id, records, mark)


def count_loaded_frequencies(records: Sequence[StandardRecord]) -> TermFrequencies:
    """The counts of a population held in memory: all the current records, just stored.

    A bulk load has them at hand: counting them costs a fraction of reading
    them back. A pure function a thread can run: the load counts while
    PostgreSQL derives its profiles, then writes the counts with
    :func:`write_term_frequencies`.
    """
    return TermFrequencies.from_records(records, COMMON_COUNT)


async def refresh_term_frequencies(session: AsyncSession) -> SnapshotHead:
    """Count the stored population and keep the counts as the latest snapshot.

    One count runs at a time: this one waits for a running one to finish.
    """
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REFRESH_LOCK_KEY})
    return await _count_and_write(session)


async def refresh_if_stale(
    session: AsyncSession, *, min_records: int | None = None
) -> SnapshotHead | None:
    """:func:`refresh_term_frequencies` unless a count is running or no longer needed.

    Returns None when another transaction is counting, or when a snapshot it
    wrote meanwhile is recent enough.
    """
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": REFRESH_LOCK_KEY}
    )
    if not locked:
        return None
    head, changes = await latest_snapshot(session), await _changes(session)
    if not needs_refresh(head, changes, min_records=min_records):
        return None
    return await _count_and_write(session)


async def _count_and_write(session: AsyncSession) -> SnapshotHead:
    mark = await _changes(session)
    frequencies = await count_term_frequencies(session)
    return await write_term_frequencies(session, frequencies, changes_mark=mark)


async def latest_snapshot(session: AsyncSession) -> SnapshotHead | None:
    """The latest snapshot's id, size and change mark (None when there is none)."""
    row = (
        await session.execute(
            text(
                "SELECT id, records, changes_mark FROM term_frequency_snapshot"
                " ORDER BY id DESC LIMIT 1"
            )
        )
    ).first()
    return None if row is None else SnapshotHead(row.id, row.records, row.changes_mark)


def needs_refresh(
    head: SnapshotHead | None, changes: int, *, min_records: int | None = None
) -> bool:
    """Whether the population has moved enough since ``head`` to count it again.

    ``changes`` is the change counter now. Below ``min_records`` (the
    pipeline's ``tf_min_records``) the model's frequencies are used anyway, so
    a population that cannot have reached it yet is not counted.
    """
    floor = MatchConfig().tf_min_records if min_records is None else min_records
    records, mark = (head.records, head.changes_mark) if head is not None else (0, 0)
    moved = changes - mark
    if moved <= 0 or records + moved < floor:
        return False
    return head is None or moved >= REFRESH_SHARE * records


async def note_population_changes(session: AsyncSession, count: int) -> int:
    """Count ``count`` source records stored, changed or retired; the counter after."""
    if count < 1:
        return await _changes(session)
    advanced = await session.scalar(
        text(
            "SELECT max(n) FROM (SELECT nextval('population_change_seq') AS n"
            " FROM generate_series(1, :count)) AS advanced"
        ),
        {"count": count},
    )
    return int(advanced)


async def _changes(session: AsyncSession) -> int:
    return int(await session.scalar(text(_CHANGES)) or 0)


@dataclass(frozen=True, slots=True)
class _Loaded:
    database: str
    snapshot_id: int
    frequencies: TermFrequencies


class _ProcessState:
    """What this process read last, and its background count, if any."""

    def __init__(self) -> None:
        self.loaded: _Loaded | None = None
        self.refresh: asyncio.Task[None] | None = None
        self.failed_at = float("-inf")


_STATE = _ProcessState()


# The change counter once :changes records are counted, and the latest
# snapshot's head: a submission reads it with the statement that stores its
# versions (:func:`matcher_of_population`), a caller without writes on its own.
POPULATION_HEAD = (
    "SELECT current_database() AS database, coalesce("
    "  (SELECT max(n) FROM (SELECT nextval('population_change_seq') AS n"
    "   FROM generate_series(1, :changes)) AS advanced),"
    "  (SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
    "   FROM population_change_seq)) AS changes,"
    " s.id, s.records, s.changes_mark"
    " FROM (SELECT 1) AS one LEFT JOIN LATERAL ("
    "  SELECT id, records, changes_mark FROM term_frequency_snapshot"
    "  ORDER BY id DESC LIMIT 1) AS s ON true"
)
_POPULATION_HEAD = text(POPULATION_HEAD)


async def population_matcher(
    session: AsyncSession,
    base: Matcher,
    *,
    changes: int,
    min_records: int | None = None,
) -> Matcher:
    """``base`` scoring with the stored population's frequencies, once it is large enough.

    Counts ``changes`` records stored, changed or retired and reads the latest
    snapshot's id in one round trip (:data:`POPULATION_HEAD`), then goes on
    as :func:`matcher_of_population`.
    """
    row = (await session.execute(_POPULATION_HEAD, {"changes": changes})).one()
    return await matcher_of_population(session, base, row, min_records=min_records)


async def matcher_of_population(
    session: AsyncSession, base: Matcher, row: Any, *, min_records: int | None = None
) -> Matcher:
    """``base`` scoring with the frequencies of the snapshot ``row`` names.

    ``row`` is a row of :data:`POPULATION_HEAD`. The counts are read
    again only when the snapshot changed. A ``base`` with frequencies of its
    own keeps them. When the population has moved by :data:`REFRESH_SHARE`,
    a count starts: in the background for a session on an engine, in this
    transaction for one bound to a connection (a script or a test holding one
    transaction).
    """
    floor = MatchConfig().tf_min_records if min_records is None else min_records
    head = None if row.id is None else SnapshotHead(row.id, row.records, row.changes_mark)
    if needs_refresh(head, row.changes, min_records=floor):
        head = await _start_refresh(session, floor) or head
    if base.frequencies is not None or head is None or head.records < floor:
        return base
    return base.with_frequencies(await _frequencies(session, row.database, head.id))


async def _frequencies(session: AsyncSession, database: str, snapshot_id: int) -> TermFrequencies:
    loaded = _STATE.loaded
    if loaded is not None and (loaded.database, loaded.snapshot_id) == (database, snapshot_id):
        return loaded.frequencies
    stored = await session.scalar(
        text("SELECT frequencies::text FROM term_frequency_snapshot WHERE id = :id"),
        {"id": snapshot_id},
    )
    if stored is None:
        raise RuntimeError(f"term frequency snapshot {snapshot_id} vanished while read")
    frequencies = TermFrequencies.from_dict(orjson.loads(stored))
    _STATE.loaded = _Loaded(database, snapshot_id, frequencies)
    return frequencies


async def _start_refresh(session: AsyncSession, min_records: int) -> SnapshotHead | None:
    """Count now (a connection-bound session) or start a background count."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine):
        return await refresh_if_stale(session, min_records=min_records)
    running = _STATE.refresh
    if (running is not None and not running.done()) or (
        time.monotonic() - _STATE.failed_at < RETRY_AFTER_SECONDS
    ):
        return None
    _STATE.refresh = asyncio.get_running_loop().create_task(_refresh_detached(bind, min_records))
    return None


async def _refresh_detached(engine: AsyncEngine, min_records: int) -> None:
    """A count in a transaction of its own, committed whatever the submission does."""
    started = time.monotonic()
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            head = await refresh_if_stale(session, min_records=min_records)
    except Exception:
        _STATE.failed_at = time.monotonic()
        # Nobody awaits this task: the failure is reported here, and the
        # submissions go on with the snapshot they have.
        log.exception("counting the term frequencies of the stored population failed")
        return
    if head is not None:
        log.info(
            "term frequencies counted",
            extra={
                "snapshot": head.id,
                "records": head.records,
                "seconds": round(time.monotonic() - started, 1),
            },
        )
