"""Interactions: the customer's history, as each department records it.

An interaction names the customer by the department's own key and is attached
through that department's source record, so merges and splits of golden
records carry it along without touching it. Idempotent by (source, key).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import CrossReference, Interaction, SourceRecord
from hub.domain import InteractionView, Page, decode_keyset, encode_keyset
from hub.errors import Invalid
from hub.services.profile import refresh_profiles
from hub.services.sources import ensure_source

MAX_TEXT = 2_000
MAX_AMOUNT = Decimal("1e15")


class InteractionType(StrEnum):
    ORDER = "ORDER"
    PAYMENT = "PAYMENT"
    VISIT = "VISIT"
    CALL = "CALL"
    COMPLAINT = "COMPLAINT"
    TICKET = "TICKET"
    EMAIL = "EMAIL"
    WEB_REGISTRATION = "WEB_REGISTRATION"
    FEEDBACK = "FEEDBACK"
    PROMOTION_RESPONSE = "PROMOTION_RESPONSE"


class InteractionError(Invalid):
    """An interaction breaks its contract; ``field`` names what."""


@dataclass(frozen=True, slots=True)
class InteractionInput:
    """A validated interaction, ready to store."""

    interaction_key: str
    customer_key: str
    type: InteractionType
    occurred_at: datetime
    channel: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    due_date: date | None = None
    paid_date: date | None = None
    summary: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


_KNOWN = {
    "interaction_key",
    "customer_key",
    "type",
    "occurred_at",
    "channel",
    "amount",
    "currency",
    "due_date",
    "paid_date",
    "summary",
    "source",
}


def _text(raw: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InteractionError("is required", field=name)
        return None
    if isinstance(value, int) and not isinstance(value, bool) and name.endswith("_key"):
        value = str(value)
    if not isinstance(value, str):
        raise InteractionError(f"must be text, got {type(value).__name__}", field=name)
    if len(value) > MAX_TEXT or "\x00" in value:
        raise InteractionError(f"must be at most {MAX_TEXT} characters without NUL", field=name)
    return value.strip()


def _date(raw: Mapping[str, Any], name: str) -> date | None:
    text = _text(raw, name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InteractionError(f"'{text}' is not an ISO date", field=name) from None


def parse_interaction(raw: object) -> InteractionInput:
    """Check one interaction against its contract."""
    if not isinstance(raw, Mapping):
        raise InteractionError("an interaction must be a JSON object")
    kind_text = _text(raw, "type", required=True) or ""
    try:
        kind = InteractionType(kind_text.upper())
    except ValueError:
        allowed = ", ".join(t.value for t in InteractionType)
        raise InteractionError(f"'{kind_text}' is not one of {allowed}", field="type") from None
    occurred_text = _text(raw, "occurred_at", required=True) or ""
    try:
        occurred = datetime.fromisoformat(occurred_text)
    except ValueError:
        raise InteractionError(
            f"'{occurred_text}' is not an ISO timestamp", field="occurred_at"
        ) from None
    amount = _amount(raw.get("amount"))
    currency = _text(raw, "currency")
    if currency is not None:
        currency = currency.upper()
        if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
            raise InteractionError(f"'{currency}' is not an ISO 4217 code", field="currency")
    if amount is not None and currency is None:
        raise InteractionError("is required when an amount is given", field="currency")
    return InteractionInput(
        interaction_key=_text(raw, "interaction_key", required=True) or "",
        customer_key=_text(raw, "customer_key", required=True) or "",
        type=kind,
        occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
        channel=_text(raw, "channel"),
        amount=amount,
        currency=currency,
        due_date=_date(raw, "due_date"),
        paid_date=_date(raw, "paid_date"),
        summary=_text(raw, "summary"),
        attributes={k: v for k, v in raw.items() if k not in _KNOWN},
    )


def _amount(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InteractionError("must be a decimal number or text", field="amount")
    try:
        # Floats go through their shortest text form, so 0.1 stays 0.1.
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InteractionError(f"'{value}' is not a decimal number", field="amount") from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise InteractionError("must be a finite amount below 10^15", field="amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise InteractionError("has more than two decimal places", field="amount")
    return amount


@dataclass(frozen=True, slots=True)
class InteractionRejection:
    index: int
    interaction_key: str | None
    field: str | None
    message: str


@dataclass(slots=True)
class RecordInteractionsResult:
    created: int = 0
    unchanged: int = 0
    unattached: int = 0
    rejections: list[InteractionRejection] = field(default_factory=list)


async def record_interactions(
    session: AsyncSession,
    source: str,
    raw: Sequence[object],
    *,
    max_items: int = 5000,
    now: datetime | None = None,
) -> RecordInteractionsResult:
    """Store a department's interactions; a repeated key is a no-op."""
    if len(raw) > max_items:
        raise Invalid(
            f"a batch holds at most {max_items} interactions, got {len(raw)}", field="interactions"
        )
    result = RecordInteractionsResult()
    accepted: list[InteractionInput] = []
    keys: set[str] = set()
    for index, item in enumerate(raw):
        try:
            parsed = parse_interaction(item)
        except InteractionError as error:
            key = item.get("interaction_key") if isinstance(item, Mapping) else None
            result.rejections.append(
                InteractionRejection(
                    index, str(key) if key is not None else None, error.field, error.message
                )
            )
            continue
        if parsed.interaction_key in keys:
            result.rejections.append(
                InteractionRejection(
                    index,
                    parsed.interaction_key,
                    "interaction_key",
                    "repeats an earlier interaction of this batch",
                )
            )
            continue
        keys.add(parsed.interaction_key)
        accepted.append(parsed)
    if not accepted:
        return result
    source_id = await ensure_source(session, source)
    records = dict(
        (
            await session.execute(
                select(SourceRecord.source_key, SourceRecord.id).where(
                    SourceRecord.source_id == source_id,
                    SourceRecord.source_key.in_({a.customer_key for a in accepted}),
                )
            )
        ).all()
    )
    rows = [
        {
            "source_id": source_id,
            "interaction_key": a.interaction_key,
            "customer_key": a.customer_key,
            "source_record_id": records.get(a.customer_key),
            "type": a.type.value,
            "occurred_at": a.occurred_at,
            "channel": a.channel,
            "amount": a.amount,
            "currency": a.currency,
            "due_date": a.due_date,
            "paid_date": a.paid_date,
            "summary": a.summary,
            "attributes": a.attributes,
        }
        for a in accepted
    ]
    inserted = (
        (
            await session.execute(
                insert(Interaction)
                .values(rows)
                .on_conflict_do_nothing(
                    index_elements=[Interaction.source_id, Interaction.interaction_key]
                )
                .returning(Interaction.source_record_id)
            )
        )
        .scalars()
        .all()
    )
    result.created = len(inserted)
    result.unchanged = len(accepted) - len(inserted)
    result.unattached = sum(1 for r in inserted if r is None)
    if result.created:
        touched = await golden_ids_of_interactions(
            session, source_id, sorted({a.customer_key for a in accepted})
        )
        await refresh_profiles(session, touched, now=now or datetime.now(UTC))
    return result


async def attach_waiting_interactions(
    session: AsyncSession, source_id: int, source_key: str, record_id: int
) -> None:
    """Interactions that arrived before their customer's record get attached to it now."""
    await session.execute(
        update(Interaction)
        .where(
            Interaction.source_id == source_id,
            Interaction.customer_key == source_key,
            Interaction.source_record_id.is_(None),
        )
        .values(source_record_id=record_id)
    )


@dataclass(frozen=True, slots=True)
class InteractionQuery:
    """Which interactions of a customer to list: newest first, ``first`` at a time."""

    types: tuple[str, ...] = ()
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    first: int = 20
    after: str | None = None


def _interaction_filter(query: InteractionQuery) -> tuple[str, dict[str, Any]]:
    """SQL conditions (fixed text, values bound as parameters) for ``query``."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if query.types:
        clauses.append("i.type = ANY(:types)")
        params["types"] = list(query.types)
    if query.occurred_from is not None:
        clauses.append("i.occurred_at >= :occurred_from")
        params["occurred_from"] = query.occurred_from
    if query.occurred_to is not None:
        clauses.append("i.occurred_at < :occurred_to")
        params["occurred_to"] = query.occurred_to
    return "".join(f" AND {c}" for c in clauses), params


async def interactions_of(
    session: AsyncSession, golden_ids: Sequence[int], query: InteractionQuery
) -> dict[int, Page[InteractionView]]:
    """A page of interactions for each of ``golden_ids`` (two statements in all)."""
    if not golden_ids:
        return {}
    condition, params = _interaction_filter(query)
    keyset = ""
    if query.after is not None:
        micros, last_id = decode_keyset(query.after, 2)
        keyset = " AND (i.occurred_at, i.id) < (:after_time, :after_id)"
        params |= {"after_time": datetime.fromtimestamp(micros / 1e6, tz=UTC), "after_id": last_id}
    params |= {"ids": list(golden_ids), "limit": query.first + 1}
    # condition and keyset are fixed clauses; every value is a bound parameter.
    page_sql = (
        "SELECT g.gid, s.code AS source, i.* FROM unnest(CAST(:ids AS bigint[])) AS g(gid)"  # noqa: S608
        " CROSS JOIN LATERAL (SELECT i.* FROM interaction i"
        "   JOIN cross_reference x ON x.source_record_id = i.source_record_id"
        f"   WHERE x.golden_id = g.gid{condition}{keyset}"
        "   ORDER BY i.occurred_at DESC, i.id DESC LIMIT :limit) AS i"
        " JOIN source_system s ON s.id = i.source_id"
        " ORDER BY g.gid, i.occurred_at DESC, i.id DESC"
    )
    count_sql = (
        "SELECT x.golden_id, count(*) FROM interaction i"  # noqa: S608
        " JOIN cross_reference x ON x.source_record_id = i.source_record_id"
        f" WHERE x.golden_id = ANY(:ids){condition} GROUP BY x.golden_id"
    )
    rows = await session.execute(text(page_sql), params)
    found: dict[int, list[InteractionView]] = {g: [] for g in golden_ids}
    for row in rows:
        found[row.gid].append(
            InteractionView(
                interaction_id=row.id,
                source=row.source,
                interaction_key=row.interaction_key,
                customer_key=row.customer_key,
                type=row.type,
                occurred_at=row.occurred_at,
                channel=row.channel,
                amount=row.amount,
                currency=row.currency,
                due_date=row.due_date,
                paid_date=row.paid_date,
                summary=row.summary,
                attributes=row.attributes,
            )
        )
    counted: dict[int, int] = dict((await session.execute(text(count_sql), params)).all())
    return {
        golden_id: Page(
            items=items[: query.first],
            cursors=[
                encode_keyset(int(v.occurred_at.timestamp() * 1_000_000), v.interaction_id)
                for v in items[: query.first]
            ],
            has_next_page=len(items) > query.first,
            has_previous_page=query.after is not None,
            total_count=counted.get(golden_id, 0),
        )
        for golden_id, items in found.items()
    }


async def golden_ids_of_interactions(
    session: AsyncSession, source_id: int, customer_keys: Sequence[str]
) -> list[int]:
    """The customers whose history a batch of interactions touched."""
    rows = await session.execute(
        select(CrossReference.golden_id)
        .join(SourceRecord, SourceRecord.id == CrossReference.source_record_id)
        .where(SourceRecord.source_id == source_id, SourceRecord.source_key.in_(customer_keys))
        .distinct()
    )
    return list(rows.scalars())
