"""Retention alerts: a good customer leaving, or asking to close an account.

An alert is raised by the profile refresh (``hub/services/profile.py``) when a
customer starts meeting a retention rule of ``hub/rules/classification.toml``
(a KEY customer turning DORMANT or CHURNED, a recent request to close an
account), and cleared, never deleted, when it stops: the day it was raised,
the rule and inputs that raised it, and when and why it cleared stay readable.
Front ends list the open ones, newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import GoldenRecord, RetentionAlert
from hub.db.sql import among
from hub.domain import Page, decode_keyset, encode_keyset, epoch_micros, from_epoch_micros


@dataclass(frozen=True, slots=True)
class RetentionAlertView:
    """One alert: what raised it and when, and when it cleared (``None`` while open)."""

    alert_id: int
    golden_id: int
    reason: str
    rule: str
    inputs: dict[str, Any]
    rule_set_version: str
    raised_at: datetime
    cleared_at: datetime | None
    cleared_rule: str | None

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


def _view(row: RetentionAlert) -> RetentionAlertView:
    return RetentionAlertView(
        alert_id=row.id,
        golden_id=row.golden_id,
        reason=row.reason,
        rule=row.rule,
        inputs=row.inputs,
        rule_set_version=row.rule_set_version,
        raised_at=row.raised_at,
        cleared_at=row.cleared_at,
        cleared_rule=row.cleared_rule,
    )


async def list_open_retention_alerts(
    session: AsyncSession,
    *,
    first: int,
    after: str | None = None,
    reason: str | None = None,
    region: str | None = None,
) -> Page[RetentionAlertView]:
    """Open alerts of active customers, newest first; optionally of one reason or region."""
    query = (
        select(RetentionAlert)
        .join(GoldenRecord, GoldenRecord.id == RetentionAlert.golden_id)
        .where(RetentionAlert.cleared_at.is_(None), GoldenRecord.status == "active")
    )
    if reason is not None:
        query = query.where(RetentionAlert.reason == reason)
    if region is not None:
        query = query.where(GoldenRecord.region == region)
    counted = select(func.count()).select_from(query.subquery())
    if after is not None:
        micros, last_id = decode_keyset(after, 2)
        raised = from_epoch_micros(micros)
        query = query.where(
            tuple_(RetentionAlert.raised_at, RetentionAlert.id) < tuple_(raised, last_id)
        )
    rows = (
        (
            await session.execute(
                query.order_by(RetentionAlert.raised_at.desc(), RetentionAlert.id.desc()).limit(
                    first + 1
                )
            )
        )
        .scalars()
        .all()
    )
    page = [_view(row) for row in rows[:first]]
    return Page(
        items=page,
        cursors=[encode_keyset(epoch_micros(a.raised_at), a.alert_id) for a in page],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
        total_count=(await session.execute(counted)).scalar_one(),
    )


async def retention_alerts_of(
    session: AsyncSession, golden_ids: Sequence[int]
) -> dict[int, list[RetentionAlertView]]:
    """Every alert of ``golden_ids``, open and cleared, newest first (one query)."""
    rows = (
        (
            await session.execute(
                select(RetentionAlert)
                .where(among(RetentionAlert.golden_id, golden_ids))
                .order_by(
                    RetentionAlert.golden_id,
                    RetentionAlert.raised_at.desc(),
                    RetentionAlert.id.desc(),
                )
            )
        )
        .scalars()
        .all()
    )
    found: dict[int, list[RetentionAlertView]] = {}
    for row in rows:
        found.setdefault(row.golden_id, []).append(_view(row))
    return found
