"""A customer's derived profile: metrics, then classification and credit from them.

Refreshed whenever what it derives from changes: interactions arriving, records
joining or leaving the customer (merge, split, matching), and in batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.services.metrics import recompute_metrics

# Amounts in other currencies are stored exactly but left out of the figures.
BASE_CURRENCY = "CNY"


async def refresh_profiles(
    session: AsyncSession, golden_ids: Sequence[int], *, now: datetime
) -> None:
    """Recompute the derived profile of ``golden_ids``."""
    if not golden_ids:
        return
    await recompute_metrics(session, golden_ids, now=now, base_currency=BASE_CURRENCY)
