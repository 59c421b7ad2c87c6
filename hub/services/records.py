"""Submitting and retiring department records, with matching on arrival.

A batch is one unit of work owned by the caller. Each record is validated on
its own: a rejected record stores nothing and the rest proceed. A new or
changed record becomes an immutable version, gets its blocking keys, and is
auto-linked to a golden record, queued for review, or starts a new one.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    CrossReference,
    MatchKey,
    MatchReview,
    PairDecision,
    SourceRecord,
    SourceRecordVersion,
)
from hub.errors import Invalid
from hub.matcher import Matcher, PairVerdict, default_matcher
from hub.services.events import emit_changes
from hub.services.golden import (
    ChangeSet,
    MemberRecord,
    create_golden,
    link_records,
    load_member_records,
    merge_goldens,
    refresh_goldens,
)
from hub.services.interactions import attach_waiting_interactions
from hub.services.sources import ensure_source
from matching import RecordError, StandardRecord, parse_record
from matching import SourceRecord as ContractRecord
from matching.record import record_to_dict
from matching.standardize import standard_record_to_dict, standardize_record

# Blocking keys are locked by bucket for the whole batch, in bucket order, so
# two submitters of the same new customer serialize instead of both creating
# it, and submitters never deadlock on each other.
KEY_LOCK_BUCKETS = 1024
KEY_LOCK_NAMESPACE = 0x6875


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
    """Upsert a department's batch by (source, source_key) and match what changed."""
    matcher = matcher or default_matcher()
    at = now or datetime.now(UTC)
    accepted, rejections = validate_batch(source, raw_records, max_records=max_records)
    result = SubmitResult(rejections=rejections)
    if not accepted:
        return result
    source_id = await ensure_source(session, source)
    keys = {item.index: matcher.keys(item.standard) for item in accepted}
    await _lock_key_buckets(session, [key for batch in keys.values() for key in batch])
    changes = ChangeSet()
    for item in accepted:
        outcome = await _store_and_match(
            session,
            source_id,
            item,
            keys=keys[item.index],
            matcher=matcher,
            actor=actor,
            changes=changes,
        )
        result.outcomes.append(outcome)
        match outcome.status:
            case "created":
                result.created += 1
            case "updated":
                result.updated += 1
            case _:
                result.unchanged += 1
    await refresh_goldens(session, changes.touched, changes=changes, at=at)
    await emit_changes(session, changes.events)
    return result


async def _lock_key_buckets(session: AsyncSession, keys: Sequence[str]) -> None:
    buckets = sorted(
        {
            int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest()) % KEY_LOCK_BUCKETS
            for k in keys
        }
    )
    if buckets:
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:ns, b)"
                " FROM unnest(CAST(:buckets AS int[])) AS b ORDER BY b"
            ),
            {"ns": KEY_LOCK_NAMESPACE, "buckets": buckets},
        )


async def _store_and_match(
    session: AsyncSession,
    source_id: int,
    item: _Accepted,
    *,
    keys: Sequence[str],
    matcher: Matcher,
    actor: str,
    changes: ChangeSet,
) -> RecordOutcome:
    row = await _upsert_record_row(session, source_id, item)
    golden_id = await session.scalar(
        select(CrossReference.golden_id).where(CrossReference.source_record_id == row.id)
    )
    if row.content_hash == item.content_hash and row.current_version > 0 and row.retired_at is None:
        return RecordOutcome(item.index, item.record.source_key, "unchanged", golden_id, None)
    status = "created" if row.current_version == 0 else "updated"
    row.current_version += 1
    row.content_hash = item.content_hash
    row.retired_at = None
    row.party_type = item.record.party_type.value
    row.updated_at = func.now()
    session.add(
        SourceRecordVersion(
            source_record_id=row.id,
            version=row.current_version,
            payload=item.payload,
            standardized=standard_record_to_dict(item.standard),
            flags=[
                {"field": f.field, "code": f.code, "message": f.message}
                for f in item.standard.flags
            ],
            source_updated_at=item.record.updated_at,
        )
    )
    if status == "created":
        await attach_waiting_interactions(session, source_id, item.record.source_key, row.id)
    await session.execute(delete(MatchKey).where(MatchKey.source_record_id == row.id))
    if keys:
        await session.execute(
            insert(MatchKey), [{"key": k, "source_record_id": row.id} for k in keys]
        )
    await session.flush()
    golden_id, decision = await _match_on_arrival(
        session,
        record_id=row.id,
        current_golden=golden_id,
        standard=item.standard,
        keys=keys,
        matcher=matcher,
        actor=actor,
        changes=changes,
    )
    return RecordOutcome(item.index, item.record.source_key, status, golden_id, decision)


async def _upsert_record_row(
    session: AsyncSession, source_id: int, item: _Accepted
) -> SourceRecord:
    await session.execute(
        pg_insert(SourceRecord)
        .values(
            source_id=source_id,
            source_key=item.record.source_key,
            party_type=item.record.party_type.value,
            current_version=0,
            content_hash=b"",
        )
        .on_conflict_do_nothing(index_elements=[SourceRecord.source_id, SourceRecord.source_key])
    )
    return (
        await session.execute(
            select(SourceRecord)
            .where(
                SourceRecord.source_id == source_id,
                SourceRecord.source_key == item.record.source_key,
            )
            .with_for_update()
        )
    ).scalar_one()


async def find_candidate_goldens(
    session: AsyncSession, record_id: int, keys: Sequence[str], *, max_key_size: int
) -> set[int]:
    """Golden records holding a record that shares a blocking key with ``record_id``.

    Keys held by too many records are skipped. Retired records hold no keys.
    """
    if not keys:
        return set()
    frequent = (
        select(MatchKey.key)
        .where(MatchKey.key.in_(keys))
        .group_by(MatchKey.key)
        .having(func.count() > max_key_size)
    )
    rows = await session.execute(
        select(CrossReference.golden_id)
        .join(MatchKey, MatchKey.source_record_id == CrossReference.source_record_id)
        .where(
            MatchKey.key.in_(keys),
            MatchKey.key.not_in(frequent),
            MatchKey.source_record_id != record_id,
        )
        .distinct()
    )
    return set(rows.scalars())


@dataclass(frozen=True, slots=True)
class ArrivalVerdict:
    """How a record relates to the golden records it was compared with."""

    forbidden: frozenset[int]  # a constraint or a steward keeps the record out
    auto: tuple[tuple[float, int], ...]  # (score, golden id), strongest first
    review: tuple[tuple[MemberRecord, PairVerdict], ...]  # best pair per uncertain golden


def judge_arrival(
    members: Sequence[MemberRecord], verdicts: Sequence[PairVerdict], stewards: dict[int, str]
) -> ArrivalVerdict:
    """Fold pair verdicts into one verdict per golden record.

    A golden record is forbidden if any member contradicts the record (two
    valid USCCs, branch and parent) or a steward said "not a match" with one;
    otherwise its best pair decides, a steward's "match" counting as auto.
    """
    by_golden: dict[int, list[tuple[MemberRecord, PairVerdict]]] = defaultdict(list)
    for member, verdict in zip(members, verdicts, strict=True):
        by_golden[member.golden_id].append((member, verdict))
    forbidden = frozenset(
        golden_id
        for golden_id, pairs in by_golden.items()
        if any(v.cannot_link or stewards.get(m.record_id) == "not_match" for m, v in pairs)
    )
    auto: list[tuple[float, int]] = []
    review: list[tuple[MemberRecord, PairVerdict]] = []
    for golden_id, pairs in by_golden.items():
        if golden_id in forbidden:
            continue
        member, best = max(pairs, key=lambda p: p[1].score)
        if best.decision == "auto" or stewards.get(member.record_id) == "match":
            auto.append((best.score, golden_id))
        elif best.decision == "review":
            review.append((member, best))
    auto.sort(key=lambda p: (-p[0], p[1]))
    return ArrivalVerdict(forbidden, tuple(auto), tuple(review))


async def _match_on_arrival(
    session: AsyncSession,
    *,
    record_id: int,
    current_golden: int | None,
    standard: StandardRecord,
    keys: Sequence[str],
    matcher: Matcher,
    actor: str,
    changes: ChangeSet,
) -> tuple[int, str]:
    golden_ids = await find_candidate_goldens(
        session, record_id, keys, max_key_size=matcher.max_key_size
    )
    if current_golden is not None:
        golden_ids.add(current_golden)
    # Every member of a candidate golden record is scored, so that a constraint
    # against any of them (two different USCCs) keeps the record out.
    members = [
        m
        for m in await load_member_records(session, golden_ids=golden_ids)
        if m.record_id != record_id
    ]
    verdict = judge_arrival(
        members,
        matcher.score(standard, [m.standard for m in members]),
        await _steward_pairs(session, record_id, [m.record_id for m in members]),
    )
    target, decision = await _place_record(
        session, record_id, current_golden, standard, verdict, actor=actor, changes=changes
    )
    for member, pair in verdict.review:
        if member.golden_id != target:
            await _open_review(session, record_id, member.record_id, pair)
            if decision == "new":
                decision = "review"
    return target, decision


async def _place_record(
    session: AsyncSession,
    record_id: int,
    current_golden: int | None,
    standard: StandardRecord,
    verdict: ArrivalVerdict,
    *,
    actor: str,
    changes: ChangeSet,
) -> tuple[int, str]:
    """Link, keep or start a golden record; merge golden records the record bridges."""
    if current_golden is not None and current_golden not in verdict.forbidden:
        # A changed record stays where it is unless it now contradicts its golden record.
        target, decision = current_golden, "kept"
    elif verdict.auto:
        score, target = verdict.auto[0]
        decision = "auto"
        await link_records(
            session, [record_id], target, link_kind="auto", linked_by=actor, score=score
        )
    else:
        decision = "new"
        target = await create_golden(
            session,
            standard.party_type,
            [record_id],
            link_kind="new",
            linked_by=actor,
            changes=changes,
        )
    bridged = [g for _, g in verdict.auto if g != target]
    if bridged:
        # The record auto-links to several golden records: they are one customer.
        target = await merge_goldens(
            session,
            [target, *bridged],
            linked_by=actor,
            changes=changes,
            at=datetime.now(UTC),
            reason=f"source record {record_id} links them",
        )
    changes.touched.add(target)
    if current_golden is not None and current_golden != target:
        changes.touched.add(current_golden)
    return target, decision


async def _steward_pairs(
    session: AsyncSession, record_id: int, others: Sequence[int]
) -> dict[int, str]:
    """Steward verdicts between ``record_id`` and each of ``others``."""
    if not others:
        return {}
    rows = await session.execute(
        select(
            PairDecision.low_record_id, PairDecision.high_record_id, PairDecision.decision
        ).where(
            ((PairDecision.low_record_id == record_id) & PairDecision.high_record_id.in_(others))
            | ((PairDecision.high_record_id == record_id) & PairDecision.low_record_id.in_(others))
        )
    )
    return {
        (r.high_record_id if r.low_record_id == record_id else r.low_record_id): r.decision
        for r in rows
    }


async def _open_review(
    session: AsyncSession, left_id: int, right_id: int, verdict: PairVerdict
) -> None:
    low, high = sorted((left_id, right_id))
    existing = await session.scalar(
        select(MatchReview.id).where(
            MatchReview.status == "open",
            ((MatchReview.left_record_id == low) & (MatchReview.right_record_id == high))
            | ((MatchReview.left_record_id == high) & (MatchReview.right_record_id == low)),
        )
    )
    if existing is not None:
        await session.execute(
            update(MatchReview)
            .where(MatchReview.id == existing)
            .values(score=verdict.score, explanation=verdict.explanation)
        )
        return
    session.add(
        MatchReview(
            left_record_id=left_id,
            right_record_id=right_id,
            score=verdict.score,
            explanation=verdict.explanation,
        )
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
