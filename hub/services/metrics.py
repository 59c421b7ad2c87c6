"""Metrics per customer, derived from the interactions of its department records.

Computed set-based in PostgreSQL: when interactions arrive, when records
move between customers (merge, split), and in batch (``hub recompute``).
Interactions follow the customer through its source records, so a merge or a
split needs only a recomputation, never a data move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import CustomerMetrics
from hub.db.sql import among

# Words by which a customer asks to close an account, in a summary or an intent.
CLOSE_ACCOUNT_WORDS = ("注销", "销户", "关闭账户", "close account", "close my account")
CONTACT_TYPES = ("VISIT", "CALL", "EMAIL", "COMPLAINT", "TICKET", "FEEDBACK", "ORDER", "PAYMENT")
OPEN_STATES_EXCLUDED = ("closed", "resolved")

# The upsert of the metrics of ``:ids`` from their interactions, without a
# RETURNING clause: ``hub.services.profile`` reads the figures from it in the same
# statement.
UPSERT_METRICS = """
    INSERT INTO customer_metrics AS m (
        golden_id, transaction_count, transaction_amount, revenue_12m,
        first_transaction_at, last_transaction_at, average_days_late, open_complaints,
        open_receivables, last_contact_at, close_requested_at, computed_at)
    SELECT g.id,
        count(i.id) FILTER (WHERE i.type = 'ORDER'),
        coalesce(sum(i.amount) FILTER (WHERE i.type = 'ORDER' AND i.currency = :base), 0),
        coalesce(sum(i.amount) FILTER (
            WHERE i.type = 'ORDER' AND i.currency = :base AND i.occurred_at >= :since), 0),
        min(i.occurred_at) FILTER (WHERE i.type = 'ORDER'),
        max(i.occurred_at) FILTER (WHERE i.type = 'ORDER'),
        avg(greatest(i.paid_date - i.due_date, 0)) FILTER (
            WHERE i.type = 'PAYMENT' AND i.due_date IS NOT NULL AND i.paid_date IS NOT NULL),
        count(i.id) FILTER (
            WHERE i.type IN ('COMPLAINT', 'TICKET')
            AND coalesce(lower(i.attributes->>'status'), 'open') <> ALL(:closed_states)),
        greatest(
            coalesce(sum(i.amount) FILTER (WHERE i.type = 'ORDER' AND i.currency = :base), 0)
            - coalesce(sum(i.amount) FILTER (WHERE i.type = 'PAYMENT' AND i.currency = :base), 0),
            0),
        max(i.occurred_at) FILTER (WHERE i.type = ANY(:contact_types)),
        max(i.occurred_at) FILTER (
            WHERE i.attributes->>'intent' = 'close_account'
            OR lower(coalesce(i.summary, '')) LIKE ANY(:close_patterns)),
        :now
    FROM golden_record g
    LEFT JOIN cross_reference x ON x.golden_id = g.id
    LEFT JOIN interaction i ON i.source_record_id = x.source_record_id
    WHERE g.status = 'active' AND g.id = ANY(:ids)
    GROUP BY g.id
    ON CONFLICT (golden_id) DO UPDATE SET
        transaction_count = excluded.transaction_count,
        transaction_amount = excluded.transaction_amount,
        revenue_12m = excluded.revenue_12m,
        first_transaction_at = excluded.first_transaction_at,
        last_transaction_at = excluded.last_transaction_at,
        average_days_late = excluded.average_days_late,
        open_complaints = excluded.open_complaints,
        open_receivables = excluded.open_receivables,
        last_contact_at = excluded.last_contact_at,
        close_requested_at = excluded.close_requested_at,
        computed_at = excluded.computed_at
    """

_UPSERT = text(UPSERT_METRICS)


@dataclass(frozen=True, slots=True)
class Metrics:
    """A customer's figures as of ``computed_at``."""

    golden_id: int
    transaction_count: int
    transaction_amount: Decimal
    revenue_12m: Decimal
    first_transaction_at: datetime | None
    last_transaction_at: datetime | None
    average_days_late: float | None
    open_complaints: int
    open_receivables: Decimal
    last_contact_at: datetime | None
    close_requested_at: datetime | None
    computed_at: datetime


async def recompute_metrics(
    session: AsyncSession, golden_ids: Sequence[int], *, now: datetime, base_currency: str
) -> None:
    """Recompute the metrics of ``golden_ids`` from their interactions (one statement)."""
    if not golden_ids:
        return
    await session.execute(
        _UPSERT, metrics_parameters(golden_ids, now=now, base_currency=base_currency)
    )


def metrics_parameters(
    golden_ids: Sequence[int], *, now: datetime, base_currency: str
) -> dict[str, object]:
    """The parameters of :data:`UPSERT_METRICS` for ``golden_ids``."""
    return {
        "ids": sorted(set(golden_ids)),
        "base": base_currency,
        "since": now - timedelta(days=365),
        "now": now,
        "closed_states": list(OPEN_STATES_EXCLUDED),
        "contact_types": list(CONTACT_TYPES),
        "close_patterns": [f"%{w}%" for w in CLOSE_ACCOUNT_WORDS],
    }


def metrics_from_row(row: CustomerMetrics) -> Metrics:
    return Metrics(
        golden_id=row.golden_id,
        transaction_count=row.transaction_count,
        transaction_amount=row.transaction_amount,
        revenue_12m=row.revenue_12m,
        first_transaction_at=row.first_transaction_at,
        last_transaction_at=row.last_transaction_at,
        average_days_late=row.average_days_late,
        open_complaints=row.open_complaints,
        open_receivables=row.open_receivables,
        last_contact_at=row.last_contact_at,
        close_requested_at=row.close_requested_at,
        computed_at=row.computed_at,
    )


async def metrics_of(session: AsyncSession, golden_ids: Sequence[int]) -> dict[int, Metrics]:
    """Stored metrics of ``golden_ids`` (one query)."""
    rows = (
        (
            await session.execute(
                select(CustomerMetrics).where(among(CustomerMetrics.golden_id, golden_ids))
            )
        )
        .scalars()
        .all()
    )
    return {row.golden_id: metrics_from_row(row) for row in rows}
