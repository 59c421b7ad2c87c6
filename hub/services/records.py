"""Submitting and retiring department records, with matching on arrival.

A batch is one unit of work owned by the caller. Each record is validated on
its own: a rejected record stores nothing and the rest proceed. A new or
changed record becomes an immutable version, gets its blocking keys, and is
auto-linked to a golden record, queued for review, or starts a new one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from hub.db.models import (
    CrossReference,
    MatchKey,
    MatchReview,
    PairDecision,
    SourceRecord,
)
from hub.db.sql import among
from hub.errors import Invalid
from hub.matcher import Matcher, PairVerdict, default_matcher
from hub.services.events import emit_changes, jsonb_text
from hub.services.frequencies import (
    POPULATION_HEAD,
    matcher_of_population,
    note_population_changes,
)
from hub.services.golden import (
    ChangeSet,
    MemberRecord,
    create_and_link,
    merge_goldens,
    refresh_goldens,
)
from hub.services.interactions import ATTACH_WAITING_INTERACTIONS
from hub.services.sources import ensure_source
from matching import PartyType, RecordError, StandardRecord, parse_record
from matching import SourceRecord as ContractRecord
from matching.block import key_hash
from matching.record import record_to_dict
from matching.standardize import (
    standard_record_from_dict,
    standard_record_to_dict,
    standardize_record,
)

# Blocking keys are locked from the batch's placing to its commit (see
# lock_blocking_keys and _place_arrivals): each key by its own lock under one
# of a few regions, in one order, so two submitters of the same new customer
# serialize instead of both creating it, submitters of different customers do
# not wait for each other, and no two submitters deadlock.
KEY_LOCK_REGIONS = 64
KEY_LOCK_NAMESPACE = 0x6875  # the regions
KEY_LOCK_KEY_NAMESPACE = 0x6876  # the keys
# More distinct keys than this (a batch of more than about a hundred records:
# a hundred hold some 600-1,100, frequent keys left out) lock their regions
# outright: 64 locks instead.
MAX_KEY_LOCKS = 1000
# PostgreSQL's lock table is shared and bounded: with max_locks_per_transaction
# 64 and max_connections 100 a server holds some 12,800 advisory locks in all
# (measured), then fails the next lock with "out of shared memory". A locker of
# more than FEW_KEY_LOCKS keys first takes one of KEY_LOCK_TICKETS tickets, so
# at most that many hold up to MAX_KEY_LOCKS + 64 regions each (4 x 1,065), and
# every other unit of work at most FEW_KEY_LOCKS + 64 (2 workers x 20
# connections x 128), some 50 relation locks each besides: 11,600 in all
# (measured: the table had room for 1,200 more).
FEW_KEY_LOCKS = 64
KEY_LOCK_TICKETS = 4
KEY_LOCK_TICKET_NAMESPACE = 0x6874
# From this many arrivals on, a batch reads and scores its candidates before
# it locks their keys, and reads them again under the locks (see
# _place_arrivals): two submitters then score side by side, and hold the keys
# only while they place and write. A single record locks first and reads once
# (one statement fewer: its scoring is short).
SCORE_BEFORE_LOCKING = 2


@dataclass(frozen=True, slots=True)
class RecordRejection:
    """Why one record of a batch was not stored."""

    index: int
    source_key: str | None
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What happened to one accepted record."""

    index: int
    source_key: str
    status: str  # created | updated | unchanged
    golden_id: int | None
    decision: str | None  # new | auto | review | kept


@dataclass(slots=True)
class SubmitResult:
    """Counts and per-record outcomes of one batch."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    outcomes: list[RecordOutcome] = field(default_factory=list)
    rejections: list[RecordRejection] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)


@dataclass(frozen=True, slots=True)
class _Accepted:
    index: int
    record: ContractRecord
    standard: StandardRecord
    payload: dict[str, Any]
    content_hash: bytes


def content_hash(payload: dict[str, Any]) -> bytes:
    """A stable digest of a record's payload: equal payloads, equal digests."""
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


def validate_batch(
    source: str, raw_records: Sequence[object], *, max_records: int
) -> tuple[list[_Accepted], list[RecordRejection]]:
    """Parse and standardize every record; collect a rejection per bad one."""
    if len(raw_records) > max_records:
        raise Invalid(
            f"a batch holds at most {max_records} records, got {len(raw_records)}", field="records"
        )
    accepted: list[_Accepted] = []
    rejections: list[RecordRejection] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_records):
        try:
            record = parse_record(raw, source=source, position=index)
        except RecordError as error:
            key = raw.get("source_key") if isinstance(raw, dict) else None
            rejections.append(
                RecordRejection(
                    index, str(key) if key is not None else None, error.field, error.message
                )
            )
            continue
        if record.source_key in seen:
            rejections.append(
                RecordRejection(
                    index,
                    record.source_key,
                    "source_key",
                    f"repeats record {seen[record.source_key]} of this batch",
                )
            )
            continue
        seen[record.source_key] = index
        payload = record_to_dict(record)
        accepted.append(
            _Accepted(index, record, standardize_record(record), payload, content_hash(payload))
        )
    return accepted, rejections


async def submit_records(
    session: AsyncSession,
    source: str,
    raw_records: Sequence[object],
    *,
    actor: str,
    max_records: int = 1000,
    matcher: Matcher | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Upsert a department's batch by (source, source_key) and match what changed.

    The batch is written set-based: one statement per step for all its
    records, whatever their number. Records are placed in batch order, each
    seeing the golden records as the earlier records of the batch left them.
    """
    base = matcher or default_matcher()
    at = now or datetime.now(UTC)
    accepted, rejections = validate_batch(source, raw_records, max_records=max_records)
    result = SubmitResult(rejections=rejections)
    if not accepted:
        return result
    keys = {item.index: base.keys(item.standard) for item in accepted}
    database = await _database_of(session)
    source_id, stored = await _claim_record_rows(session, source, accepted)
    arrivals = _sort_out_unchanged(accepted, stored, keys, result)
    if arrivals:
        population = await _store_versions(session, source_id, arrivals, at=at)
        # Scored with the stored population's term frequencies once it is
        # large enough, as `hub match` scores with those of its input.
        matcher = await matcher_of_population(session, base, population)
        changes = ChangeSet()
        placement, decisions = await _place_arrivals(
            session, source, arrivals, matcher=matcher, actor=actor, changes=changes, at=at
        )
        result.outcomes.extend(
            RecordOutcome(
                a.item.index,
                a.item.record.source_key,
                a.status,
                placement.golden_of[a.record_id],
                decision,
            )
            for a, decision in zip(arrivals, decisions, strict=True)
        )
        await refresh_goldens(
            session,
            changes.touched,
            changes=changes,
            at=at,
            members=placement.members_of(changes.touched, database),
            locked=True,
        )
        await emit_changes(session, changes.events)
    result.outcomes.sort(key=lambda outcome: outcome.index)
    return result


def _sort_out_unchanged(
    accepted: Sequence[_Accepted],
    stored: dict[str, _StoredRow],
    keys: dict[int, list[str]],
    result: SubmitResult,
) -> list[_Arrival]:
    """The new and changed records; an unchanged one is counted and goes no further."""
    arrivals: list[_Arrival] = []
    for item in accepted:
        row = stored[item.record.source_key]
        if row.content_hash == item.content_hash and row.current_version > 0 and not row.retired:
            result.outcomes.append(
                RecordOutcome(item.index, item.record.source_key, "unchanged", row.golden_id, None)
            )
            result.unchanged += 1
            continue
        status = "created" if row.current_version == 0 else "updated"
        arrivals.append(
            _Arrival(
                item,
                row.record_id,
                status,
                row.current_version + 1,
                row.golden_id,
                keys[item.index],
            )
        )
        if status == "created":
            result.created += 1
        else:
            result.updated += 1
    return arrivals


@dataclass(frozen=True, slots=True)
class _StoredRow:
    """A record's row as the batch found it (locked until the batch commits)."""

    record_id: int
    current_version: int
    content_hash: bytes
    retired: bool
    golden_id: int | None


@dataclass(frozen=True, slots=True)
class _Arrival:
    """An accepted record that is new or changed: stored as a version, then placed."""

    item: _Accepted
    record_id: int
    status: str  # created | updated
    version: int
    current_golden: int | None
    keys: list[str]


_REGIONS_AND_KEYS = (
    "(SELECT pg_advisory_xact_lock_shared(:ns, r)"
    "  FROM unnest(CAST(:regions AS int[])) AS r ORDER BY r)"
    " UNION ALL (SELECT pg_advisory_xact_lock(:key_ns, k)"
    "  FROM unnest(CAST(:keys AS int[])) AS k ORDER BY k)"
)
_LOCK_KEYS = text(_REGIONS_AND_KEYS)
# A free ticket if there is one (the first the try takes), else a wait for one.
_LOCK_TICKET_AND_KEYS = text(
    "(SELECT CASE WHEN EXISTS (SELECT FROM"  # noqa: S608 - constant fragments only
    "  generate_series(0, CAST(:tickets AS int) - 1) AS t"
    "  WHERE pg_try_advisory_xact_lock(:ticket_ns, t)) THEN NULL"
    "  ELSE pg_advisory_xact_lock(:ticket_ns, pg_backend_pid() % CAST(:tickets AS int)) END)"
    f" UNION ALL {_REGIONS_AND_KEYS}"
)
_LOCK_REGIONS = text(
    "SELECT pg_advisory_xact_lock(:ns, r) FROM unnest(CAST(:regions AS int[])) AS r ORDER BY r"
)


def key_locks(keys: Iterable[str]) -> tuple[list[int], list[int]]:
    """(regions, key locks) of blocking ``keys``, each sorted: 32 bits of a key's hash
    name its lock, 32 others its region."""
    regions, locks = set(), set()
    for key in keys:
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        locks.add(int.from_bytes(digest[:4], signed=True))
        regions.add(int.from_bytes(digest[4:]) % KEY_LOCK_REGIONS)
    return sorted(regions), sorted(locks)


async def lock_blocking_keys(session: AsyncSession, keys: Sequence[str]) -> None:
    """Lock blocking ``keys`` until the transaction ends, in one order, in one round trip.

    Whoever reads or writes the holders of a key locks it first: two
    submissions of one new customer then place it one after the other, while
    two batches of different customers go on side by side. Each key has a
    lock of its own, taken after its region is taken *shared*; a batch of more
    than :data:`MAX_KEY_LOCKS` keys takes its regions *exclusively* instead,
    which a holder of any of their keys waits for, and which waits for them.
    One of more than :data:`FEW_KEY_LOCKS` keys takes a ticket first (of
    :data:`KEY_LOCK_TICKETS`), waiting while all are taken: the locks held at
    once stay within PostgreSQL's lock table. Every locker takes a ticket
    before regions and regions before keys, each in ascending order, so waits
    always go up that one order and never close a cycle.
    """
    regions, locks = key_locks(keys)
    if not locks:
        return
    if len(locks) > MAX_KEY_LOCKS:
        await session.execute(_LOCK_REGIONS, {"ns": KEY_LOCK_NAMESPACE, "regions": regions})
        return
    parameters = {
        "ns": KEY_LOCK_NAMESPACE,
        "regions": regions,
        "key_ns": KEY_LOCK_KEY_NAMESPACE,
        "keys": locks,
    }
    if len(locks) <= FEW_KEY_LOCKS:
        await session.execute(_LOCK_KEYS, parameters)
        return
    await session.execute(
        _LOCK_TICKET_AND_KEYS,
        parameters | {"ticket_ns": KEY_LOCK_TICKET_NAMESPACE, "tickets": KEY_LOCK_TICKETS},
    )


_CLAIM = text(
    "WITH source AS (SELECT id FROM source_system WHERE code = :code),"
    " claimed AS ("
    " INSERT INTO source_record (source_id, source_key, party_type, current_version,"
    "  content_hash)"
    " SELECT source.id, k.source_key, k.party_type, 0, ''::bytea"
    " FROM source, unnest(CAST(:keys AS text[]), CAST(:parties AS text[]))"
    "  AS k(source_key, party_type)"
    " ON CONFLICT (source_id, source_key) DO NOTHING"
    " RETURNING source_id, id, source_key"
    "), stored AS ("
    " SELECT r.source_id, r.id, r.source_key, r.current_version, r.content_hash,"
    "  r.retired_at FROM source_record r"
    " WHERE r.source_id = (SELECT id FROM source)"
    "  AND r.source_key = ANY(CAST(:keys AS text[]))"
    " ORDER BY r.source_key FOR UPDATE"
    ") SELECT source_id, id, source_key, 0 AS current_version,"
    " ''::bytea AS content_hash, NULL::timestamptz AS retired_at,"
    " NULL::bigint AS golden_id FROM claimed"
    " UNION ALL SELECT s.source_id, s.id, s.source_key, s.current_version,"
    " s.content_hash, s.retired_at, x.golden_id"
    " FROM stored s LEFT JOIN cross_reference x ON x.source_record_id = s.id"
)


async def _claim_record_rows(
    session: AsyncSession, source: str, accepted: Sequence[_Accepted]
) -> tuple[int, dict[str, _StoredRow]]:
    """The source's id and each record's row: inserted empty when new, locked, with its golden.

    One statement inserts the new rows and locks the stored ones. A source's
    first batch registers it first; a row another submitter inserted and
    committed while that statement waited on it is not in its snapshot: both
    go on to :func:`_claim_rows_again`.
    """
    ordered = sorted(accepted, key=lambda item: item.record.source_key)
    source_keys = [item.record.source_key for item in ordered]
    parties = [item.record.party_type.value for item in ordered]
    # One statement text whatever the batch size: compiled and prepared once.
    rows = (
        await session.execute(
            _CLAIM,
            {"code": source, "keys": source_keys, "parties": parties},
        )
    ).all()
    found = {row.source_key: _stored_row(row) for row in rows}
    if len(found) == len(source_keys):
        return rows[0].source_id, found
    missing = [
        (key, party) for key, party in zip(source_keys, parties, strict=True) if key not in found
    ]
    source_id = await ensure_source(session, source)
    found.update(await _claim_rows_again(session, source_id, missing))
    return source_id, found


async def _claim_rows_again(
    session: AsyncSession, source_id: int, missing: Sequence[tuple[str, str]]
) -> dict[str, _StoredRow]:
    """The rows of ``missing`` (source key, party type), each in a statement of its own."""
    keys = [key for key, _ in missing]
    await session.execute(
        text(
            "INSERT INTO source_record (source_id, source_key, party_type, current_version,"
            " content_hash)"
            " SELECT :source_id, k.source_key, k.party_type, 0, ''::bytea"
            " FROM unnest(CAST(:keys AS text[]), CAST(:parties AS text[]))"
            "  AS k(source_key, party_type)"
            " ON CONFLICT (source_id, source_key) DO NOTHING"
        ),
        {"source_id": source_id, "keys": keys, "parties": [party for _, party in missing]},
    )
    rows = await session.execute(
        text(
            "SELECT r.id, r.source_key, r.current_version, r.content_hash, r.retired_at,"
            " x.golden_id FROM source_record r"
            " LEFT JOIN cross_reference x ON x.source_record_id = r.id"
            " WHERE r.source_id = :source_id AND r.source_key = ANY(CAST(:keys AS text[]))"
            " ORDER BY r.source_key FOR UPDATE OF r"
        ),
        {"source_id": source_id, "keys": keys},
    )
    return {row.source_key: _stored_row(row) for row in rows}


def _stored_row(row: Any) -> _StoredRow:
    return _StoredRow(
        row.id, row.current_version, row.content_hash, row.retired_at is not None, row.golden_id
    )


_STORE_VERSIONS = text(
    "WITH current AS ("  # noqa: S608 - constant fragments only
    " UPDATE source_record r SET current_version = a.version,"
    "  content_hash = a.content_hash, retired_at = NULL, party_type = a.party_type,"
    "  updated_at = :at"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:versions AS int[]),"
    "  CAST(:hashes AS bytea[]), CAST(:parties AS text[]))"
    "  AS a(id, version, content_hash, party_type)"
    " WHERE r.id = a.id"
    "), keys AS ("
    " INSERT INTO match_key (key_hash, source_record_id)"
    " SELECT * FROM unnest(CAST(:keys AS bigint[]), CAST(:holders AS bigint[]))"
    "), versions AS ("
    " INSERT INTO source_record_version (source_record_id, version, payload,"
    "  standardized, flags, source_updated_at)"
    " SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:versions AS int[]),"
    "  CAST(:payloads AS jsonb[]), CAST(:standardized AS jsonb[]),"
    "  CAST(:flags AS jsonb[]), CAST(:updated AS timestamptz[]))"
    # Interactions that arrived before their customer's record attach to it now.
    f"), attached AS ({ATTACH_WAITING_INTERACTIONS}"
    f") {POPULATION_HEAD}"
)


async def _store_versions(
    session: AsyncSession, source_id: int, arrivals: Sequence[_Arrival], *, at: datetime
) -> Any:
    """New versions, current pointers and blocking keys of the arrivals.

    One statement over arrays writes the three, whatever the number of
    arrivals, attaches the interactions waiting for the new records, counts
    the arrivals as population changes and returns the latest frequency
    snapshot's head (a row of :data:`~hub.services.frequencies.POPULATION_HEAD`).
    A changed record's old keys go first.
    """
    changed = [a.record_id for a in arrivals if a.status == "updated"]
    if changed:
        await session.execute(delete(MatchKey).where(among(MatchKey.source_record_id, changed)))
    ids = [a.record_id for a in arrivals]
    _written_by(session).update(ids)
    versions = [a.version for a in arrivals]
    created = [a for a in arrivals if a.status == "created"]
    result = await session.execute(
        _STORE_VERSIONS,
        {
            "source_id": source_id,
            "created_keys": [a.item.record.source_key for a in created],
            "created_ids": [a.record_id for a in created],
            "changes": len(arrivals),
            "ids": ids,
            "versions": versions,
            "hashes": [a.item.content_hash for a in arrivals],
            "parties": [a.item.record.party_type.value for a in arrivals],
            "at": at,
            "keys": [key_hash(k) for a in arrivals for k in a.keys],
            "holders": [a.record_id for a in arrivals for _ in a.keys],
            "payloads": [jsonb_text(a.item.payload) for a in arrivals],
            "standardized": [
                jsonb_text(standard_record_to_dict(a.item.standard)) for a in arrivals
            ],
            "flags": [
                jsonb_text(
                    [
                        {"field": f.field, "code": f.code, "message": f.message}
                        for f in a.item.standard.flags
                    ]
                )
                for a in arrivals
            ],
            "updated": [a.item.record.updated_at for a in arrivals],
        },
    )
    return result.one()


async def key_holders(
    session: AsyncSession, keys: Iterable[str], *, max_key_size: int
) -> dict[str, list[tuple[int, int | None]]]:
    """The records holding each of ``keys``, with their golden records.

    Keys held by more than ``max_key_size`` records are left out (a group's
    switchboard says nothing). Retired records hold no keys.
    """
    found, _ = await _key_holders(session, keys, max_key_size=max_key_size)
    return found


async def _key_holders(
    session: AsyncSession, keys: Iterable[str], *, max_key_size: int
) -> tuple[dict[str, list[tuple[int, int | None]]], set[str]]:
    """:func:`key_holders`, and which of ``keys`` are held by more than ``max_key_size``."""
    wanted = hashed_keys(keys)
    if not wanted:
        return {}, set()
    # Each key reads at most one holder past the cap: enough to know it is
    # frequent, however many records hold it. A frequent key comes back once,
    # without a holder.
    rows = await session.execute(
        text(
            f"WITH {_HELD}"  # noqa: S608 - constant fragments only
            " SELECT held.key, held.source_record_id, x.golden_id, held.holders > :cap AS capped"
            " FROM held LEFT JOIN cross_reference x"
            "  ON x.source_record_id = held.source_record_id AND held.holders <= :cap"
            " WHERE held.holders <= :cap OR held.position = 1"
        ),
        {"keys": list(wanted), "cap": max_key_size},
    )
    found: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    capped: set[str] = set()
    for held, record_id, golden_id, is_capped in rows:
        if is_capped:
            capped.add(wanted[held])
        else:
            found[wanted[held]].append((record_id, golden_id))
    return found, capped


def hashed_keys(keys: Iterable[str]) -> dict[int, str]:
    """Blocking keys by their stored form (``match_key.key_hash``), the hashes ascending.

    Statements are given the hashes (the rows they read come back keyed by
    them); the caller gets the keys back through this mapping.
    """
    by_hash = {key_hash(key): key for key in set(keys)}
    return {h: by_hash[h] for h in sorted(by_hash)}


# Each key's holders, at most one past the cap: enough to know it is frequent,
# however many records hold it. A frequent key comes back once, without a holder.
_HELD = (
    "held AS ("
    " SELECT k.key, h.source_record_id, count(*) OVER (PARTITION BY k.key) AS holders,"
    "  row_number() OVER (PARTITION BY k.key) AS position"
    " FROM unnest(CAST(:keys AS bigint[])) AS k(key)"
    " CROSS JOIN LATERAL (SELECT m.source_record_id FROM match_key m"
    "  WHERE m.key_hash = k.key LIMIT :cap + 1) AS h"
    ")"
)


class _FrequentKeys:
    """Blocking keys this process found held by more than the cap, by database.

    Such a key says nothing about a match, so a batch neither looks up its
    holders (the most rows of the lookup) nor locks it. Keys only become less
    frequent when records holding them are retired or changed; the oldest
    are forgotten first, so that such a key is looked at again in time.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.keys: OrderedDict[tuple[str, int, str], None] = OrderedDict()

    def known(self, database: str, cap: int, key: str) -> bool:
        return (database, cap, key) in self.keys

    def add(self, database: str, cap: int, keys: Iterable[str]) -> None:
        for key in keys:
            self.keys[(database, cap, key)] = None
        while len(self.keys) > self.capacity:
            self.keys.popitem(last=False)


FREQUENT_KEYS_KEPT = 200_000
_FREQUENT = _FrequentKeys(FREQUENT_KEYS_KEPT)


class Candidate(NamedTuple):
    """A record an arrival is compared with, in the golden record it now belongs to."""

    record_id: int
    golden_id: int
    standard: StandardRecord


@dataclass(frozen=True, slots=True)
class ArrivalVerdict:
    """How a record relates to the golden records it was compared with."""

    forbidden: frozenset[int]  # a constraint or a steward keeps the record out
    auto: tuple[tuple[float, int], ...]  # (score, golden id), strongest first
    review: tuple[tuple[Candidate, PairVerdict], ...]  # best pair per uncertain golden


def judge_arrival(
    candidates: Sequence[Candidate], verdicts: Sequence[PairVerdict], stewards: dict[int, str]
) -> ArrivalVerdict:
    """Fold pair verdicts into one verdict per golden record.

    A golden record is forbidden if any member contradicts the record (two
    valid USCCs, branch and parent) or a steward said "not a match" with one;
    otherwise its best pair decides, a steward's "match" counting as auto.
    An uncertain best pair without evidence of its own (a number, a mailbox,
    an identifier) is no question when another member disagrees with the
    record on what a customer has only one of: the golden record is another
    customer, as batch matching decides (``Rule.CONTRADICTED``).
    """
    by_golden: dict[int, list[tuple[Candidate, PairVerdict]]] = defaultdict(list)
    for candidate, verdict in zip(candidates, verdicts, strict=True):
        by_golden[candidate.golden_id].append((candidate, verdict))
    forbidden = frozenset(
        golden_id
        for golden_id, pairs in by_golden.items()
        if any(v.cannot_link or stewards.get(c.record_id) == "not_match" for c, v in pairs)
    )
    auto: list[tuple[float, int]] = []
    review: list[tuple[Candidate, PairVerdict]] = []
    for golden_id, pairs in by_golden.items():
        if golden_id in forbidden:
            continue
        candidate, best = max(pairs, key=lambda p: p[1].score)
        if best.decision == "auto" or stewards.get(candidate.record_id) == "match":
            auto.append((best.score, golden_id))
        elif best.decision == "review" and not _told_apart(best, pairs):
            review.append((candidate, best))
    auto.sort(key=lambda p: (-p[0], p[1]))
    return ArrivalVerdict(forbidden, tuple(auto), tuple(review))


def _told_apart(best: PairVerdict, pairs: Sequence[tuple[Candidate, PairVerdict]]) -> bool:
    """Whether another member of the golden record ``best`` was judged in disagrees with it."""
    return not best.shares_own and any(v.disagrees for _, v in pairs if v is not best)


@dataclass(frozen=True, slots=True)
class _Link:
    """How an arrival came to its golden record (written once the batch is placed)."""

    kind: str  # auto | new
    score: float | None


class _Placement:
    """Golden membership as the batch changes it, written when the batch is placed.

    Golden records started by the batch get provisional negative ids until they
    are inserted; one that a later record of the batch bridges to a stored
    golden record is never created: its records join the stored one.
    """

    def __init__(
        self, records: Iterable[MemberRecord], stewards: dict[tuple[int, int], str]
    ) -> None:
        self.records: dict[int, MemberRecord] = {}
        self.golden_of: dict[int, int] = {}
        self.members: dict[int, set[int]] = defaultdict(set)
        self.party_types: dict[int, PartyType] = {}
        self.stewards = stewards
        self.links: dict[int, _Link] = {}
        self.reviews: dict[tuple[int, int], tuple[int, int, PairVerdict]] = {}
        self.scored: dict[tuple[int, int], PairVerdict] = {}
        for record in records:
            self.records[record.record_id] = record
            if record.golden_id:
                self.join(record.record_id, record.golden_id)

    def join(self, record_id: int, golden_id: int) -> None:
        """Make ``record_id`` a member of ``golden_id`` (and no other)."""
        previous = self.golden_of.get(record_id)
        if previous is not None:
            self.members[previous].discard(record_id)
        self.golden_of[record_id] = golden_id
        self.members[golden_id].add(record_id)

    def members_of(self, golden_ids: Iterable[int], database: str) -> dict[int, list[MemberRecord]]:
        """The current members of each of ``golden_ids``, by record id, payloads decoded."""
        for golden_id in golden_ids:
            for record_id in self.members.get(golden_id, ()):
                self.records[record_id] = _with_payload(self.records[record_id], database)
        return {g: [self.records[r] for r in sorted(self.members.get(g, ()))] for g in golden_ids}

    def unread_payloads(self, golden_ids: Iterable[int]) -> list[tuple[int, int]]:
        """(record id, version) of the members of ``golden_ids`` whose payload is unread."""
        return sorted(
            (record_id, self.records[record_id].version)
            for golden_id in set(golden_ids)
            for record_id in self.members.get(golden_id, ())
            if self.records[record_id].payload is _UNREAD
        )

    def take_payloads(self, payloads: Mapping[int, str], database: str) -> None:
        """Give members their payloads, read as JSON text (and so the process cache too)."""
        for record_id, payload in payloads.items():
            self.records[record_id] = _with_payload_as(
                self.records[record_id], _StoredPayload(payload), database
            )

    def start_golden(self, party_type: PartyType) -> int:
        provisional = -(len(self.party_types) + 1)
        self.party_types[provisional] = party_type
        return provisional

    def candidates(self, arrival: _Arrival, holders: dict[str, list[int]]) -> list[Candidate]:
        """Every member of every golden record the arrival shares a key with."""
        goldens: set[int] = set()
        for key in arrival.keys:
            for record_id in holders.get(key, ()):
                golden_id = self.golden_of.get(record_id)
                if golden_id is not None:
                    goldens.add(golden_id)
        current = self.golden_of.get(arrival.record_id)
        if current is not None:
            goldens.add(current)
        return [
            Candidate(record_id, golden_id, self.records[record_id].standard)
            for golden_id in sorted(goldens)
            for record_id in sorted(self.members[golden_id])
            if record_id != arrival.record_id
        ]

    def score_ahead(
        self,
        arrivals: Sequence[_Arrival],
        holders: dict[str, list[int]],
        matcher: Matcher,
    ) -> None:
        """Score in one pass every pair the batch is likely to compare.

        That is each arrival against the members of the golden records it
        shares a key with and against the other arrivals it shares a key
        with. Pairs a merge during the batch brings in are scored when asked.
        """
        sharing: dict[str, list[int]] = defaultdict(list)
        for arrival in arrivals:
            for key in arrival.keys:
                if key in holders:
                    sharing[key].append(arrival.record_id)
        pairs: set[tuple[int, int]] = set()
        for arrival in arrivals:
            others = {c.record_id for c in self.candidates(arrival, holders)}
            others.update(r for key in arrival.keys for r in sharing.get(key, ()))
            others.discard(arrival.record_id)
            pairs.update((arrival.record_id, other) for other in others)
        self._score(sorted(pairs - self.scored.keys()), matcher)

    def keep_scores(self, earlier: _Placement) -> None:
        """Take the verdicts ``earlier`` scored of pairs whose records kept their versions."""
        records = self.records
        for (left, right), verdict in earlier.scored.items():
            now_left, now_right = records.get(left), records.get(right)
            if (
                now_left is not None
                and now_right is not None
                and now_left.version == earlier.records[left].version
                and now_right.version == earlier.records[right].version
            ):
                self.scored[(left, right)] = verdict

    def verdicts(
        self, record_id: int, others: Sequence[int], matcher: Matcher
    ) -> list[PairVerdict]:
        """The verdicts of ``record_id`` against each of ``others``, in order."""
        missing = [(record_id, o) for o in others if (record_id, o) not in self.scored]
        self._score(missing, matcher)
        return [self.scored[(record_id, o)] for o in others]

    def _score(self, pairs: Sequence[tuple[int, int]], matcher: Matcher) -> None:
        if not pairs:
            return
        ids = sorted({r for pair in pairs for r in pair})
        position = {record_id: k for k, record_id in enumerate(ids)}
        verdicts = matcher.score_pairs(
            [self.records[r].standard for r in ids],
            [(position[a], position[b]) for a, b in pairs],
        )
        self.scored.update(zip(pairs, verdicts, strict=True))

    def steward_verdicts(self, record_id: int, others: Iterable[int]) -> dict[int, str]:
        """What stewards said of ``record_id`` with each of ``others``."""
        found = {}
        for other in others:
            decision = self.stewards.get((min(record_id, other), max(record_id, other)))
            if decision is not None:
                found[other] = decision
        return found

    def settle(self, provisional: dict[int, int]) -> None:
        """Replace provisional golden ids by the stored ones."""
        for record_id, golden_id in self.golden_of.items():
            if golden_id < 0:
                self.golden_of[record_id] = provisional[golden_id]
        for before, after in provisional.items():
            self.members[after] = self.members.pop(before)

    def fold(self, golden_ids: Sequence[int], survivor: int) -> None:
        """Move the records of ``golden_ids`` into ``survivor``."""
        for golden_id in golden_ids:
            if golden_id != survivor:
                for record_id in sorted(self.members.pop(golden_id, set())):
                    self.join(record_id, survivor)


def _arriving_member(source: str, arrival: _Arrival) -> MemberRecord:
    """An arrival as matching and survivorship read it (in its golden record, if any)."""
    item = arrival.item
    return MemberRecord(
        record_id=arrival.record_id,
        golden_id=arrival.current_golden or 0,
        source=source,
        source_key=item.record.source_key,
        version=arrival.version,
        standard=item.standard,
        payload=item.payload,
    )


# An integer beyond 64 bits has at least 19 digits; orjson would read it as a float.
_LONG_DIGITS = re.compile(r"\d{19}")


class _StoredPayload(Mapping[str, Any]):
    """A stored payload, decoded when first read.

    Most members a batch loads are only compared (their standardized form);
    survivorship reads the payloads of the golden records the batch touches,
    and gets them as plain dicts (:func:`_with_payload`).
    """

    __slots__ = ("_text", "_value")

    def __init__(self, text: str) -> None:
        self._text = text
        self._value: dict[str, Any] | None = None

    def decoded(self) -> dict[str, Any]:
        if self._value is None:
            long_digits = _LONG_DIGITS.search(self._text) is not None
            self._value = json.loads(self._text) if long_digits else orjson.loads(self._text)
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self.decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.decoded())

    def __len__(self) -> int:
        return len(self.decoded())


class _UnreadPayload(Mapping[str, Any]):
    """The payload of a stored member whose payload the batch has not read.

    A submission reads the standardized form of every member it compares but
    the payload only of those whose golden records it refreshes
    (:meth:`_Placement.unread_payloads`): reading this one is a bug.
    """

    __slots__ = ()

    def _unread(self) -> RuntimeError:
        return RuntimeError("a stored member's payload was used before it was read")

    def __getitem__(self, key: str) -> Any:
        raise self._unread()

    def __iter__(self) -> Iterator[str]:
        raise self._unread()

    def __len__(self) -> int:
        raise self._unread()


_UNREAD = _UnreadPayload()


class _MemberCache:
    """Stored members this process has read, by (database, record id, version).

    A version is immutable once committed, and the same records come back in
    batch after batch (the members of the golden records common keys lead
    to): their standardized form is parsed once, and survivorship's view of
    them (``MemberRecord.member``) worked out once. The least recently used
    go first.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[tuple[str, int, int], MemberRecord] = OrderedDict()

    def get(self, key: tuple[str, int, int]) -> MemberRecord | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[str, int, int], member: MemberRecord) -> None:
        self.entries[key] = member
        self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)


MEMBER_CACHE_SIZE = 20_000
_MEMBERS = _MemberCache(MEMBER_CACHE_SIZE)


async def _database_of(session: AsyncSession) -> str:
    """Which database ``session`` talks to: the process caches' first key.

    The URL and the database's oid: a database dropped and made again under
    the same name (a restore, a test suite) restarts its ids and gets a new
    oid, so nothing cached from the old one is taken for the new one's.
    Asked once per pooled connection (dropping a database ends its
    connections), and kept by the session too.
    """
    known = session.info.get(_DATABASE_KEY)
    if isinstance(known, str):
        return known
    connection = await session.connection()
    database = connection.info.get(_DATABASE_KEY)
    if not isinstance(database, str):
        oid = await connection.scalar(
            text("SELECT oid FROM pg_database WHERE datname = current_database()")
        )
        database = f"{connection.engine.url.render_as_string(hide_password=True)}#{oid}"
        connection.info[_DATABASE_KEY] = database
    session.info[_DATABASE_KEY] = database
    return database


_DATABASE_KEY = "hub.records.database"


def _learn_after_commit(session: AsyncSession, learn: Callable[[], object]) -> None:
    """Call ``learn`` once the unit of work ``session`` is in commits; never if it rolls back.

    What a process caches from rows it wrote or read inside a transaction
    holds only if that transaction commits. Pending lessons belong to the
    innermost transaction: a released savepoint hands them to its parent, one
    rolled back drops them, and the outermost commit applies them.
    """
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    if transaction is None:
        raise RuntimeError("learning after commit needs a session in a transaction")
    pending: dict[SessionTransaction, list[Callable[[], object]]]
    pending = session.info.setdefault(_PENDING_KEY, {})
    pending.setdefault(transaction, []).append(learn)


_PENDING_KEY = "hub.records.lessons"


@event.listens_for(Session, "after_commit")
def _apply_lessons(session: Session) -> None:
    pending = session.info.get(_PENDING_KEY)
    if not pending:
        return
    # Dispatched while the committing transaction is still the session's current one.
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        return
    lessons = pending.pop(transaction, [])
    if transaction.parent is not None:
        pending.setdefault(transaction.parent, []).extend(lessons)
        return
    for learn in lessons:
        learn()


@event.listens_for(Session, "after_transaction_end")
def _drop_lessons(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING_KEY)
    if pending:
        # Still pending when its transaction ends: it rolled back.
        pending.pop(transaction, None)


# A member's row: its record, golden record, source, version and JSON as text.
_MEMBER_COLUMNS = (
    "r.id, x.golden_id, NULL::boolean AS capped, s.code, r.source_key, v.version,"
    " v.standardized::text AS standardized, v.payload::text AS payload"
)
_MEMBER_JOINS = (
    "JOIN source_record r ON r.id = x.source_record_id"
    " JOIN source_record_version v ON v.source_record_id = r.id AND v.version = r.current_version"
    " JOIN source_system s ON s.id = r.source_id"
)


async def _load_members(
    session: AsyncSession, golden_ids: Iterable[int], *, arriving: set[int]
) -> list[MemberRecord]:
    """The current, unretired records of ``golden_ids`` (what ``load_member_records`` reads).

    The JSON comes as text: the standardized form is decoded unless this
    process has it already, the payload only if survivorship reads it. The
    batch's own arrivals (their versions not committed yet) are not kept.
    """
    ids = sorted(golden_ids)
    if not ids:
        return []
    rows = await session.execute(
        text(
            f"SELECT {_MEMBER_COLUMNS} FROM cross_reference x {_MEMBER_JOINS}"  # noqa: S608 - constant fragments only
            " WHERE x.golden_id = ANY(CAST(:ids AS bigint[])) AND r.retired_at IS NULL"
            " ORDER BY r.id"
        ),
        {"ids": ids},
    )
    database = await _database_of(session)
    uncommitted = arriving | _written_by(session)
    return [_member_of(row, database, uncommitted) for row in rows]


def _written_by(session: AsyncSession) -> set[int]:
    """Records whose versions ``session`` wrote: perhaps never committed, so never cached."""
    written: set[int] = session.info.setdefault(_WRITTEN_KEY, set())
    return written


_WRITTEN_KEY = "hub.records.written"


def _member_of(row: Any, database: str, uncommitted: set[int]) -> MemberRecord:
    """The member a row of :data:`_MEMBER_COLUMNS` stands for, parsed once per process.

    Only committed versions are kept: one this session wrote may still roll
    back, and its record id and version come back with other values.
    """
    key = (database, row.id, row.version)
    member = _MEMBERS.get(key)
    # A database dropped and made again under the same name restarts its ids.
    if member is None or member.source_key != row.source_key:
        member = MemberRecord(
            record_id=row.id,
            golden_id=row.golden_id,
            source=row.code,
            source_key=row.source_key,
            version=row.version,
            standard=standard_record_from_dict(orjson.loads(row.standardized)),
            payload=_UNREAD if row.payload is None else _StoredPayload(row.payload),
        )
    else:
        if member.payload is _UNREAD and row.payload is not None:
            member = replace(member, payload=_StoredPayload(row.payload))
        if member.golden_id != row.golden_id:
            member = replace(member, golden_id=row.golden_id)
    if row.id not in uncommitted:
        _MEMBERS.put(key, member)
    return member


# Each key's holders come back as one array, at most one past the cap (a
# frequent key's array says only that it is frequent). The cross-reference of
# each holder is looked up once however many keys it shares with the batch,
# and only for keys under the cap; then the members of the golden records they
# lead to, record by record (LATERAL, kept from being flattened by OFFSET 0:
# the planner otherwise hashes all of cross_reference).
_HELD_AND_GOLDENS = (
    "WITH held AS ("
    " SELECT k.key, h.ids FROM unnest(CAST(:keys AS bigint[])) AS k(key)"
    " CROSS JOIN LATERAL (SELECT array_agg(m.source_record_id) AS ids"
    "  FROM (SELECT m.source_record_id FROM match_key m WHERE m.key_hash = k.key"
    "   LIMIT :cap + 1) AS m) AS h"
    " WHERE h.ids IS NOT NULL"
    "), holders AS ("
    " SELECT DISTINCT unnest(ids) AS source_record_id FROM held"
    " WHERE cardinality(ids) <= :cap"
    "), goldens AS ("
    " SELECT x.golden_id FROM holders h CROSS JOIN LATERAL (SELECT x.golden_id"
    "  FROM cross_reference x WHERE x.source_record_id = h.source_record_id OFFSET 0) AS x"
    " UNION SELECT unnest(CAST(:current AS bigint[]))"
    ")"
)
_GOLDEN_MEMBERS = (
    "FROM goldens g CROSS JOIN LATERAL (SELECT x.source_record_id, x.golden_id"
    " FROM cross_reference x WHERE x.golden_id = g.golden_id OFFSET 0) AS x"
)
_HOLDERS_AND_MEMBERS = text(
    f"{_HELD_AND_GOLDENS}"  # noqa: S608 - constant fragments only
    " SELECT key, CASE WHEN cardinality(ids) <= :cap THEN ids END AS holders,"
    " NULL::bigint AS id, NULL::bigint AS golden_id, NULL AS code, NULL AS source_key,"
    " NULL::int AS version, NULL AS standardized, NULL AS payload FROM held"
    # Payloads stay in the database: survivorship reads those of the golden
    # records the batch touches (:meth:`_Placement.unread_payloads`).
    " UNION ALL SELECT NULL, NULL, r.id, x.golden_id, s.code, r.source_key, v.version,"
    f" v.standardized::text, NULL {_GOLDEN_MEMBERS}"
    f" {_MEMBER_JOINS} WHERE r.retired_at IS NULL"
)
# The same holders, and of each member only its golden record and version:
# read again under the locks, where most members are those read before them.
_HOLDERS_AND_MEMBER_VERSIONS = text(
    f"{_HELD_AND_GOLDENS}"  # noqa: S608 - constant fragments only
    " SELECT key, CASE WHEN cardinality(ids) <= :cap THEN ids END AS holders,"
    " NULL::bigint AS id, NULL::bigint AS golden_id, NULL::int AS version FROM held"
    " UNION ALL SELECT NULL, NULL, r.id, x.golden_id, r.current_version"
    f" {_GOLDEN_MEMBERS} JOIN source_record r ON r.id = x.source_record_id"
    " WHERE r.retired_at IS NULL"
)


async def _holders_and_members_again(
    session: AsyncSession,
    keys: Iterable[str],
    current_goldens: set[int],
    *,
    max_key_size: int,
    arriving: set[int],
    known: Sequence[MemberRecord],
) -> tuple[dict[str, list[int]], set[str], list[MemberRecord]]:
    """:func:`_holders_and_members` once more, reading only the members not ``known``.

    A member known in the version it has now is taken as it was read, in the
    golden record it is in now; the others (new to these golden records, or
    changed) are read in a second statement.
    """
    wanted = hashed_keys(keys)
    rows = await session.execute(
        _HOLDERS_AND_MEMBER_VERSIONS,
        {"keys": list(wanted), "cap": max_key_size, "current": sorted(current_goldens)},
    )
    by_id = {member.record_id: member for member in known}
    found: dict[str, list[int]] = {}
    capped: set[str] = set()
    members: list[MemberRecord] = []
    unknown: list[int] = []
    for row in rows:
        if row.key is not None:
            if row.holders is None:
                capped.add(wanted[row.key])
            else:
                found[wanted[row.key]] = row.holders
            continue
        member = by_id.get(row.id)
        if member is None or member.version != row.version:
            unknown.append(row.id)
        elif member.golden_id != row.golden_id:
            members.append(replace(member, golden_id=row.golden_id))
        else:
            members.append(member)
    if unknown:
        members.extend(await _read_members(session, unknown, arriving=arriving))
    members.sort(key=lambda member: member.record_id)
    return found, capped, members


async def _read_members(
    session: AsyncSession, record_ids: Sequence[int], *, arriving: set[int]
) -> list[MemberRecord]:
    """The current versions of ``record_ids`` (unretired), as :func:`_load_members` reads them."""
    rows = await session.execute(
        text(
            f"SELECT {_MEMBER_COLUMNS} FROM cross_reference x {_MEMBER_JOINS}"  # noqa: S608 - constant fragments only
            " WHERE x.source_record_id = ANY(CAST(:ids AS bigint[])) AND r.retired_at IS NULL"
        ),
        {"ids": sorted(record_ids)},
    )
    database = await _database_of(session)
    uncommitted = arriving | _written_by(session)
    return [_member_of(row, database, uncommitted) for row in rows]


async def _holders_and_members(
    session: AsyncSession,
    keys: Iterable[str],
    current_goldens: set[int],
    *,
    max_key_size: int,
    arriving: set[int],
) -> tuple[dict[str, list[int]], set[str], list[MemberRecord]]:
    """The records holding each of ``keys``, the keys held by more than
    ``max_key_size`` records, and the members of the golden records the holders
    and ``current_goldens`` are in, in one statement.

    Members come as :func:`_load_members` reads them, by record id. A key no
    record holds is in neither the holders nor the frequent keys.
    """
    wanted = hashed_keys(keys)
    rows = await session.execute(
        _HOLDERS_AND_MEMBERS,
        {"keys": list(wanted), "cap": max_key_size, "current": sorted(current_goldens)},
    )
    database = await _database_of(session)
    uncommitted = arriving | _written_by(session)
    found: dict[str, list[int]] = {}
    capped: set[str] = set()
    members: list[MemberRecord] = []
    for row in rows:
        if row.key is None:
            members.append(_member_of(row, database, uncommitted))
        elif row.holders is None:
            capped.add(wanted[row.key])
        else:
            found[wanted[row.key]] = row.holders
    members.sort(key=lambda member: member.record_id)
    return found, capped, members


def _with_payload(member: MemberRecord, database: str) -> MemberRecord:
    """``member`` with its payload as a plain dict (what survivorship parses)."""
    payload = member.payload
    if not isinstance(payload, _StoredPayload):
        return member
    return _with_payload_as(member, payload.decoded(), database)


def _with_payload_as(
    member: MemberRecord, payload: Mapping[str, Any], database: str
) -> MemberRecord:
    """``member`` with ``payload``, in the process cache too where it held ``member``."""
    changed = replace(member, payload=payload)
    key = (database, member.record_id, member.version)
    if _MEMBERS.get(key) is member:
        _MEMBERS.put(key, changed)
    return changed


async def _place_arrivals(
    session: AsyncSession,
    source: str,
    arrivals: Sequence[_Arrival],
    *,
    matcher: Matcher,
    actor: str,
    changes: ChangeSet,
    at: datetime,
) -> tuple[_Placement, list[str]]:
    """Link, keep or start a golden record for each arrival, in batch order.

    Returns where every record now is, and each arrival's decision.
    """
    database, cap = await _database_of(session), matcher.max_key_size
    arriving = {a.record_id for a in arrivals}
    current = {a.current_golden for a in arrivals if a.current_golden is not None}
    # A key known to be held by more than the cap matches nothing: neither read nor locked.
    looked_up = sorted(
        {k for a in arrivals for k in a.keys if not _FREQUENT.known(database, cap, k)}
    )
    ahead, frequent = None, set[str]()
    if len(arrivals) >= SCORE_BEFORE_LOCKING:
        # The candidates read now are scored while other submitters may hold
        # the keys; under the locks they are read again, and only pairs with
        # a record new or changed since then are scored.
        holders, capped, stored = await _holders_and_members(
            session, looked_up, current, max_key_size=cap, arriving=arriving
        )
        ahead = _Placement(_placed_members(source, arrivals, stored), {})
        ahead.score_ahead(arrivals, holders, matcher)
        frequent = capped
        looked_up = [k for k in looked_up if k not in frequent]
    await lock_blocking_keys(session, looked_up)
    if ahead is None:
        holders, capped, stored = await _holders_and_members(
            session, looked_up, current, max_key_size=cap, arriving=arriving
        )
    else:
        holders, capped, stored = await _holders_and_members_again(
            session, looked_up, current, max_key_size=cap, arriving=arriving, known=stored
        )
    frequent |= capped
    if frequent:
        # Frequent perhaps only through this batch's own rows: known once they commit.
        _learn_after_commit(session, lambda: _FREQUENT.add(database, cap, frequent))
    placement = _Placement(
        _placed_members(source, arrivals, stored),
        # A created record is new to every steward: only changed ones can have verdicts.
        await _steward_pairs(session, (a.record_id for a in arrivals if a.status == "updated")),
    )
    if ahead is not None:
        placement.keep_scores(ahead)
    placement.score_ahead(arrivals, holders, matcher)
    decisions: list[str] = []
    for arrival in arrivals:
        decisions.append(
            await _place_arrival(
                session,
                placement,
                arrival,
                holders,
                matcher=matcher,
                actor=actor,
                changes=changes,
                at=at,
            )
        )
    # The golden records the batch started are inserted as the records link to them,
    # and the payloads survivorship reads of the stored ones it touched come back.
    linked = await create_and_link(
        session,
        [
            (g, placement.party_types[g])
            for g in sorted(placement.party_types, reverse=True)
            if placement.members.get(g)
        ],
        [
            (record_id, placement.golden_of[record_id], link.kind, link.score)
            for record_id, link in placement.links.items()
        ],
        linked_by=actor,
        changes=changes,
        lock=(g for g in changes.touched if g > 0),
        read_payloads=placement.unread_payloads(g for g in changes.touched if g > 0),
    )
    provisional = linked.started
    placement.take_payloads(linked.payloads, database)
    placement.settle(provisional)
    await _open_reviews(
        session,
        [
            (left, right, verdict)
            for left, right, verdict in placement.reviews.values()
            if placement.golden_of[left] != placement.golden_of[right]
        ],
    )
    changes.touched = {provisional.get(g, g) for g in changes.touched if g > 0 or g in provisional}
    return placement, decisions


def _placed_members(
    source: str, arrivals: Sequence[_Arrival], stored: Sequence[MemberRecord]
) -> list[MemberRecord]:
    """The stored members read and the arrivals, each arrival as the batch has it."""
    arriving = {a.record_id for a in arrivals}
    return [
        *(m for m in stored if m.record_id not in arriving),
        *(_arriving_member(source, a) for a in arrivals),
    ]


async def _place_arrival(
    session: AsyncSession,
    placement: _Placement,
    arrival: _Arrival,
    holders: dict[str, list[int]],
    *,
    matcher: Matcher,
    actor: str,
    changes: ChangeSet,
    at: datetime,
) -> str:
    """Link, keep or start the arrival's golden record; merge golden records it bridges.

    Every member of a candidate golden record is scored, so that a constraint
    against any of them (two different USCCs) keeps the record out.
    """
    candidates = placement.candidates(arrival, holders)
    verdict = judge_arrival(
        candidates,
        placement.verdicts(arrival.record_id, [c.record_id for c in candidates], matcher),
        placement.steward_verdicts(arrival.record_id, [c.record_id for c in candidates]),
    )
    current = placement.golden_of.get(arrival.record_id)
    if current is not None and current not in verdict.forbidden:
        # A changed record stays where it is unless it now contradicts its golden record.
        target, decision = current, "kept"
    elif verdict.auto:
        score, target = verdict.auto[0]
        decision = "auto"
        placement.links[arrival.record_id] = _Link("auto", score)
    else:
        target = placement.start_golden(arrival.item.standard.party_type)
        decision = "new"
        placement.links[arrival.record_id] = _Link("new", None)
    bridged = [g for _, g in verdict.auto if g != target]
    if bridged:
        # The record auto-links to several golden records: they are one customer.
        target = await _bridge(
            session,
            placement,
            [target, *bridged],
            reason=f"source record {arrival.record_id} links them",
            actor=actor,
            changes=changes,
            at=at,
        )
    placement.join(arrival.record_id, target)
    changes.touched.add(target)
    if current is not None and current != target:
        changes.touched.add(current)
    for candidate, pair in verdict.review:
        if candidate.golden_id != target:
            low, high = sorted((arrival.record_id, candidate.record_id))
            placement.reviews[(low, high)] = (arrival.record_id, candidate.record_id, pair)
            if decision == "new":
                decision = "review"
    return decision


async def _bridge(
    session: AsyncSession,
    placement: _Placement,
    golden_ids: Sequence[int],
    *,
    reason: str,
    actor: str,
    changes: ChangeSet,
    at: datetime,
) -> int:
    """One golden record out of ``golden_ids``: the oldest stored one survives."""
    stored = sorted({g for g in golden_ids if g > 0})
    if len(stored) > 1:
        survivor = await merge_goldens(
            session, stored, linked_by=actor, changes=changes, at=at, reason=reason
        )
    elif stored:
        survivor = stored[0]
    else:
        survivor = max(golden_ids)  # the first one the batch started
    placement.fold(golden_ids, survivor)
    return survivor


async def _steward_pairs(
    session: AsyncSession, record_ids: Iterable[int]
) -> dict[tuple[int, int], str]:
    """Steward verdicts on pairs that hold one of ``record_ids``, by (low, high)."""
    ids = sorted(set(record_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(
            PairDecision.low_record_id, PairDecision.high_record_id, PairDecision.decision
        ).where(among(PairDecision.low_record_id, ids) | among(PairDecision.high_record_id, ids))
    )
    return {(r.low_record_id, r.high_record_id): r.decision for r in rows}


# The pairs go in (low, high) order, so two batches meeting the same pairs
# wait on each other's rows rather than deadlock; the unique open-pair index
# (migration 0010) turns the second opening of a pair into an update.
_OPEN_REVIEWS = text(
    "INSERT INTO match_review (left_record_id, right_record_id, score, explanation)"
    " SELECT p.left_id, p.right_id, p.score, p.explanation"
    " FROM unnest(CAST(:lefts AS bigint[]), CAST(:rights AS bigint[]),"
    "  CAST(:scores AS float8[]), CAST(:explanations AS jsonb[]))"
    "  AS p(left_id, right_id, score, explanation)"
    " ORDER BY least(p.left_id, p.right_id), greatest(p.left_id, p.right_id)"
    " ON CONFLICT ((least(left_record_id, right_record_id)),"
    "  (greatest(left_record_id, right_record_id))) WHERE status = 'open'"
    " DO UPDATE SET score = excluded.score, explanation = excluded.explanation"
)


async def _open_reviews(
    session: AsyncSession, reviews: Sequence[tuple[int, int, PairVerdict]]
) -> None:
    """Queue uncertain pairs for a steward; a pair already open gets its new score.

    One statement: a pair (in either order) with an open review has it
    updated, even when another batch opened it a moment ago; the others are
    inserted. A pair named twice counts once, with its last verdict.
    """
    by_pair = {
        (min(left, right), max(left, right)): (left, right, verdict)
        for left, right, verdict in reviews
    }
    if not by_pair:
        return
    pairs = list(by_pair.values())
    await session.execute(
        _OPEN_REVIEWS,
        {
            "lefts": [left for left, _, _ in pairs],
            "rights": [right for _, right, _ in pairs],
            "scores": [verdict.score for _, _, verdict in pairs],
            "explanations": [jsonb_text(verdict.explanation) for _, _, verdict in pairs],
        },
    )


@dataclass(slots=True)
class RetireResult:
    """Which keys were retired and which were not found."""

    retired: list[str] = field(default_factory=list)
    already_retired: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)


async def retire_records(
    session: AsyncSession, source: str, keys: Sequence[str], *, now: datetime | None = None
) -> RetireResult:
    """Retire a department's records; their golden records lose them (and retire if empty)."""
    at = now or datetime.now(UTC)
    source_id = await ensure_source(session, source)
    rows = (
        (
            await session.execute(
                select(SourceRecord)
                .where(SourceRecord.source_id == source_id, SourceRecord.source_key.in_(keys))
                .order_by(SourceRecord.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    by_key = {row.source_key: row for row in rows}
    result = RetireResult()
    retired_ids: list[int] = []
    for key in dict.fromkeys(keys):
        row = by_key.get(key)
        if row is None:
            result.not_found.append(key)
        elif row.retired_at is not None:
            result.already_retired.append(key)
        else:
            row.retired_at = at
            retired_ids.append(row.id)
            result.retired.append(key)
    if not retired_ids:
        return result
    await session.flush()
    await note_population_changes(session, len(retired_ids))
    await session.execute(delete(MatchKey).where(MatchKey.source_record_id.in_(retired_ids)))
    await session.execute(
        update(MatchReview)
        .where(
            MatchReview.status == "open",
            MatchReview.left_record_id.in_(retired_ids)
            | MatchReview.right_record_id.in_(retired_ids),
        )
        .values(status="obsolete", resolved_at=at)
    )
    golden_ids = (
        await session.execute(
            select(CrossReference.golden_id).where(CrossReference.source_record_id.in_(retired_ids))
        )
    ).scalars()
    changes = ChangeSet()
    await refresh_goldens(session, set(golden_ids), changes=changes, at=at)
    await emit_changes(session, changes.events)
    return result
