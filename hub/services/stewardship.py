"""What data stewards do: merge, split, override values, resolve reviews.

Every operation is audited (who, what, before, after), remembered where later
matching must respect it (a split or a "not a match" is never undone by an
automatic link), and guarded by an optional version check so that two
stewards acting on the same customer at once cannot overwrite each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    CrossReference,
    GoldenRecord,
    MatchReview,
    PairDecision,
    SourceRecord,
    SourceSystem,
)
from hub.domain import format_customer_id
from hub.errors import Conflict, Invalid, NotFound
from hub.services.customers import resolve_golden_id
from hub.services.events import ChangeKind, audit, emit_changes
from hub.services.golden import (
    ChangeSet,
    create_golden,
    link_records,
    lock_goldens,
    merge_goldens,
    refresh_goldens,
    set_override,
)


@dataclass(frozen=True, slots=True)
class ExpectedVersion:
    """The version a steward saw; the operation fails if the customer changed since."""

    golden_id: int
    version: int


def _snapshot(golden: GoldenRecord) -> dict[str, Any]:
    return {
        "id": format_customer_id(golden.id),
        "status": golden.status,
        "version": golden.version,
        "attributes": golden.attributes,
    }


async def _check_versions(
    goldens: dict[int, GoldenRecord], expected: Sequence[ExpectedVersion]
) -> None:
    for check in expected:
        golden = goldens.get(check.golden_id)
        if golden is not None and golden.version != check.version:
            raise Conflict(
                f"customer {format_customer_id(check.golden_id)} changed (version "
                f"{golden.version}, you saw {check.version}); reload and try again",
                field="expectedVersion",
            )


async def _require_active(session: AsyncSession, golden_id: int) -> int:
    """The active customer ``golden_id`` stands for (merges followed)."""
    return await resolve_golden_id(session, golden_id)


async def merge_customers(
    session: AsyncSession,
    golden_ids: Sequence[int],
    *,
    actor: str,
    note: str | None = None,
    expected: Sequence[ExpectedVersion] = (),
) -> int:
    """Merge customers into the oldest; returns the survivor's id."""
    resolved = sorted({await _require_active(session, g) for g in golden_ids})
    if len(resolved) < 2:
        raise Invalid("these ids are already one customer", field="ids")
    goldens = await lock_goldens(session, resolved)
    await _check_versions(goldens, expected)
    before = {format_customer_id(g): _snapshot(goldens[g]) for g in resolved}
    at = datetime.now(UTC)
    changes = ChangeSet()
    survivor = await merge_goldens(
        session, resolved, linked_by=actor, changes=changes, at=at, reason=note or "steward merge"
    )
    await refresh_goldens(session, [survivor], changes=changes, at=at)
    await emit_changes(session, changes.events)
    await audit(
        session,
        actor=actor,
        action="mergeCustomers",
        target_type="customer",
        target_id=format_customer_id(survivor),
        before=before,
        after=_snapshot(goldens[survivor]) | {"note": note},
    )
    return survivor


async def find_record(
    session: AsyncSession, source: str, source_key: str
) -> tuple[int, int | None]:
    """The record id of (source, source_key) and its golden record."""
    row = (
        await session.execute(
            select(SourceRecord.id, CrossReference.golden_id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .outerjoin(CrossReference, CrossReference.source_record_id == SourceRecord.id)
            .where(SourceSystem.code == source, SourceRecord.source_key == source_key)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no record {source_key} from source {source}", field="sourceKey")
    return row[0], row[1]


async def split_record(
    session: AsyncSession,
    source: str,
    source_key: str,
    *,
    actor: str,
    into: int | None = None,
    note: str | None = None,
    expected: Sequence[ExpectedVersion] = (),
) -> tuple[int, int]:
    """Move a source record out of its customer, into ``into`` or a new customer.

    Returns (the customer it left, the customer it joined). The record is
    remembered as "not a match" with every record it leaves behind.
    """
    record_id, origin = await find_record(session, source, source_key)
    if origin is None:
        raise Conflict(f"record {source_key} of {source} belongs to no customer", field="sourceKey")
    target = await _require_active(session, into) if into is not None else None
    if target == origin:
        raise Invalid("the record already belongs to that customer", field="into")
    goldens = await lock_goldens(session, [origin] + ([target] if target else []))
    await _check_versions(goldens, expected)
    left_behind = (
        (
            await session.execute(
                select(CrossReference.source_record_id).where(
                    CrossReference.golden_id == origin, CrossReference.source_record_id != record_id
                )
            )
        )
        .scalars()
        .all()
    )
    if not left_behind and target is None:
        raise Invalid(
            "the record is the customer's only record; there is nothing to split from",
            field="sourceKey",
        )
    before = _snapshot(goldens[origin])
    at = datetime.now(UTC)
    changes = ChangeSet()
    if target is None:
        target = await create_golden(
            session,
            _party(goldens[origin]),
            [record_id],
            link_kind="steward",
            linked_by=actor,
            changes=changes,
        )
    else:
        await link_records(session, [record_id], target, link_kind="steward", linked_by=actor)
        changes.touched.add(target)
    await remember_pairs(session, record_id, left_behind, "not_match", actor=actor, note=note)
    changes.add(
        ChangeKind.SPLIT, [origin, target], record={"source": source, "source_key": source_key}
    )
    await refresh_goldens(session, [origin, target], changes=changes, at=at)
    await emit_changes(session, changes.events)
    await audit(
        session,
        actor=actor,
        action="splitRecord",
        target_type="customer",
        target_id=format_customer_id(origin),
        before=before,
        after={
            "record": f"{source}/{source_key}",
            "into": format_customer_id(target),
            "note": note,
        },
    )
    return origin, target


def _party(golden: GoldenRecord) -> Any:
    from matching import PartyType

    return PartyType(golden.party_type)


async def remember_pairs(
    session: AsyncSession,
    record_id: int,
    others: Sequence[int],
    decision: str,
    *,
    actor: str,
    note: str | None,
) -> None:
    """Record a steward's verdict between ``record_id`` and each of ``others``."""
    rows = [
        {
            "low_record_id": min(record_id, o),
            "high_record_id": max(record_id, o),
            "decision": decision,
            "decided_by": actor,
            "note": note,
        }
        for o in others
        if o != record_id
    ]
    if not rows:
        return
    statement = insert(PairDecision).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PairDecision.low_record_id, PairDecision.high_record_id],
            set_={
                "decision": statement.excluded.decision,
                "decided_by": statement.excluded.decided_by,
                "note": statement.excluded.note,
            },
        )
    )


async def override_attribute(
    session: AsyncSession,
    golden_id: int,
    attribute: str,
    value: Any,
    *,
    actor: str,
    note: str | None = None,
    expected: Sequence[ExpectedVersion] = (),
) -> int:
    """Pin (or, with ``None``, unpin) a golden value; returns the customer's id."""
    target = await _require_active(session, golden_id)
    goldens = await lock_goldens(session, [target])
    await _check_versions(goldens, expected)
    before = _snapshot(goldens[target])
    at = datetime.now(UTC)
    await set_override(session, target, attribute, value, set_by=actor, note=note, at=at)
    changes = ChangeSet()
    await refresh_goldens(session, [target], changes=changes, at=at)
    await emit_changes(session, changes.events)
    await audit(
        session,
        actor=actor,
        action="overrideAttribute",
        target_type="customer",
        target_id=format_customer_id(target),
        before=before,
        after=_snapshot(goldens[target]) | {"attribute": attribute, "note": note},
    )
    return target


async def resolve_review(
    session: AsyncSession, review_id: int, decision: str, *, actor: str, note: str | None = None
) -> int | None:
    """A steward's verdict on a review: ``match`` merges, ``not_match`` keeps apart.

    Returns the customer both records belong to after a match.
    """
    if decision not in {"match", "not_match"}:
        raise Invalid("decision must be MATCH or NOT_MATCH", field="decision")
    review = (
        await session.execute(
            select(MatchReview).where(MatchReview.id == review_id).with_for_update()
        )
    ).scalar_one_or_none()
    if review is None:
        raise NotFound(f"no review {review_id}", field="id")
    if review.status != "open":
        raise Conflict(f"review {review_id} is already {review.status}", field="id")
    at = datetime.now(UTC)
    await remember_pairs(
        session, review.left_record_id, [review.right_record_id], decision, actor=actor, note=note
    )
    golden_of = dict(
        (
            await session.execute(
                select(CrossReference.source_record_id, CrossReference.golden_id).where(
                    CrossReference.source_record_id.in_(
                        [review.left_record_id, review.right_record_id]
                    )
                )
            )
        ).all()
    )
    left, right = golden_of.get(review.left_record_id), golden_of.get(review.right_record_id)
    result: int | None = None
    changes = ChangeSet()
    if decision == "match" and left is not None and right is not None:
        left, right = (
            await resolve_golden_id(session, left),
            await resolve_golden_id(session, right),
        )
        result = left
        if left != right:
            result = await merge_goldens(
                session,
                [left, right],
                linked_by=actor,
                changes=changes,
                at=at,
                reason=f"review {review_id}",
            )
            await refresh_goldens(session, [result], changes=changes, at=at)
    elif decision == "not_match" and left is not None and left == right:
        # They were linked since the review opened: keep them apart now.
        source, key = (
            await session.execute(
                select(SourceSystem.code, SourceRecord.source_key)
                .join(SourceRecord, SourceRecord.source_id == SourceSystem.id)
                .where(SourceRecord.id == review.left_record_id)
            )
        ).one()
        await split_record(session, source, key, actor=actor, note=note or f"review {review_id}")
    review.status = "matched" if decision == "match" else "not_matched"
    review.resolved_at, review.resolved_by, review.note = at, actor, note
    await emit_changes(session, changes.events)
    await audit(
        session,
        actor=actor,
        action="resolveReview",
        target_type="review",
        target_id=str(review_id),
        before={"status": "open", "score": review.score},
        after={"status": review.status, "note": note},
    )
    return result
