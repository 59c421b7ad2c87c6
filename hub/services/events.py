"""Change events (the outbox) and the audit log, written in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import AuditEntry, ChangeEvent
from hub.domain import AuditRecord, Page, decode_cursor, encode_cursor, format_customer_id

# Writers of change events take this transaction-level lock just before they
# insert, so sequence numbers become visible in commit order and a consumer
# polling with `after` never skips an event that commits late.
OUTBOX_LOCK_KEY = 0x68756202


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    MERGED = "merged"
    SPLIT = "split"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class Change:
    """One event of the ordered change sequence."""

    seq: int
    kind: ChangeKind
    customer_ids: tuple[str, ...]
    payload: dict[str, Any]
    occurred_at: datetime


_EMIT = text(
    "INSERT INTO change_event (kind, golden_ids, payload)"
    " SELECT e.kind, CAST(e.golden_ids AS bigint[]), e.payload"
    " FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS text[]), CAST(:payloads AS jsonb[]))"
    "  WITH ORDINALITY AS e(kind, golden_ids, payload, position)"
    " WHERE (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(:key)) AS locked) = 1"
    " ORDER BY e.position"
)


async def emit_changes(
    session: AsyncSession, changes: Sequence[tuple[ChangeKind, Sequence[int], dict[str, Any]]]
) -> None:
    """Append events to the outbox, in order, as part of the caller's transaction.

    One statement: the lock is a one-time filter, taken before the first
    event draws its sequence number.
    """
    if not changes:
        return
    await session.execute(
        _EMIT,
        {
            "kinds": [kind.value for kind, _, _ in changes],
            "ids": ["{" + ",".join(str(int(i)) for i in ids) + "}" for _, ids, _ in changes],
            "payloads": [jsonb_text(payload) for _, _, payload in changes],
            "key": OUTBOX_LOCK_KEY,
        },
    )


def jsonb_text(value: object) -> str:
    """JSON text for a jsonb array element (as the engine writes a jsonb parameter)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits: json writes them.
        return json.dumps(value, ensure_ascii=False)


async def changes_after(session: AsyncSession, seq: int, limit: int) -> list[Change]:
    """At most ``limit`` events with a sequence number above ``seq``, in order."""
    rows = (
        (
            await session.execute(
                select(ChangeEvent)
                .where(ChangeEvent.seq > seq)
                .order_by(ChangeEvent.seq)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    return [
        Change(
            seq=row.seq,
            kind=ChangeKind(row.kind),
            customer_ids=tuple(format_customer_id(i) for i in row.golden_ids),
            payload=row.payload,
            occurred_at=row.occurred_at,
        )
        for row in rows
    ]


async def last_change_seq(session: AsyncSession) -> int:
    """The sequence number of the newest event (0 when there is none)."""
    return (await session.execute(select(func.coalesce(func.max(ChangeEvent.seq), 0)))).scalar_one()


async def list_changes(session: AsyncSession, *, after: str | None, first: int) -> Page[Change]:
    """Events after the cursor ``after`` in sequence order (for polling consumers)."""
    start = decode_cursor(after) if after is not None else 0
    rows = await changes_after(session, start, first + 1)
    total = (await session.execute(select(func.count()).select_from(ChangeEvent))).scalar_one()
    page = rows[:first]
    return Page(
        items=page,
        cursors=[encode_cursor(change.seq) for change in page],
        has_next_page=len(rows) > first,
        has_previous_page=start > 0,
        total_count=total,
    )


async def audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Record who did what, with the state before and after."""
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
        )
    )


async def list_audit(
    session: AsyncSession,
    *,
    first: int,
    after: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    actor: str | None = None,
) -> Page[AuditRecord]:
    """Audit entries, newest first, optionally for one target or actor."""
    before_id = decode_cursor(after) if after is not None else None
    query = select(AuditEntry)
    counted = select(func.count()).select_from(AuditEntry)
    for column, value in (
        (AuditEntry.target_type, target_type),
        (AuditEntry.target_id, target_id),
        (AuditEntry.actor, actor),
    ):
        if value is not None:
            query, counted = query.where(column == value), counted.where(column == value)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = (
        (await session.execute(query.order_by(AuditEntry.id.desc()).limit(first + 1)))
        .scalars()
        .all()
    )
    page = rows[:first]
    return Page(
        items=[
            AuditRecord(
                entry_id=row.id,
                actor=row.actor,
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                before=row.before,
                after=row.after,
                at=row.at,
            )
            for row in page
        ],
        cursors=[encode_cursor(row.id) for row in page],
        has_next_page=len(rows) > first,
        has_previous_page=before_id is not None,
        total_count=(await session.execute(counted)).scalar_one(),
    )
