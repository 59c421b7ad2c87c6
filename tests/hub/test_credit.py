"""Classification and credit follow the customer's record; every decision is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import AuditEntry
from hub.errors import Conflict, Invalid
from hub.services.credit import (
    classifications_of,
    credit_history_of,
    credit_of,
    decide_credit_request,
    list_credit_requests,
    override_credit_limit,
    request_credit_limit,
)
from hub.services.customers import CompositionDimension, composition
from hub.services.interactions import record_interactions
from hub.services.records import submit_records

NOW = datetime.now(UTC)


# Different trade names and streets: customers the matcher must keep apart.
NAMES = {"K1": ("恒通机械", "张江路368号"), "K2": ("绿源物流", "世纪大道100号")}


async def customer_with_orders(
    session: AsyncSession, key: str, monthly: str, months: int = 12, late_days: int = 0
) -> int:
    trade, street = NAMES[key]
    async with session.begin_nested():
        result = await submit_records(
            session,
            "finance",
            [
                {
                    "source_key": key,
                    "party_type": "organization",
                    "name": f"上海{trade}有限公司",
                    "ownership": "国有",
                    "address": f"上海市浦东新区{street}",
                }
            ],
            actor="t",
        )
    items: list[dict[str, Any]] = []
    for m in range(months):
        when = NOW - timedelta(days=30 * m + 5)
        items.append(
            {
                "interaction_key": f"{key}-O{m}",
                "customer_key": key,
                "type": "ORDER",
                "occurred_at": when.isoformat(),
                "amount": monthly,
                "currency": "CNY",
            }
        )
        due = (when + timedelta(days=30)).date()
        if when + timedelta(days=30 + late_days) < NOW:
            items.append(
                {
                    "interaction_key": f"{key}-P{m}",
                    "customer_key": key,
                    "type": "PAYMENT",
                    "occurred_at": when.isoformat(),
                    "amount": monthly,
                    "currency": "CNY",
                    "due_date": due.isoformat(),
                    "paid_date": (due + timedelta(days=late_days)).isoformat(),
                }
            )
    async with session.begin_nested():
        await record_interactions(session, "finance", items)
    golden_id = result.outcomes[0].golden_id
    assert golden_id is not None
    return golden_id


async def test_classification_is_stored_with_its_rule_and_inputs(session: AsyncSession) -> None:
    golden = await customer_with_orders(session, "K1", "100000.00")
    entries = {c.dimension: c for c in (await classifications_of(session, [golden]))[golden]}
    assert entries["lifecycle"].value == "ACTIVE"
    assert entries["nature"].value == "STATE_OWNED"
    assert entries["region"].value == "华东"
    assert "revenue_12m" in entries["tier"].inputs
    assert entries["tier"].rule
    assert entries["tier"].rule_set_version


async def test_a_customer_without_transactions_is_a_prospect_and_not_rated(
    session: AsyncSession,
) -> None:
    async with session.begin_nested():
        result = await submit_records(
            session,
            "sales",
            [{"source_key": "S1", "party_type": "person", "name": "王芳"}],
            actor="t",
        )
    golden = result.outcomes[0].golden_id
    assert golden is not None
    entries = {c.dimension: c.value for c in (await classifications_of(session, [golden]))[golden]}
    assert entries["lifecycle"] == "PROSPECT"
    view = (await credit_of(session, [golden], now=NOW))[golden]
    assert view.rating == "NR"
    assert view.recommended_limit == 0


async def test_the_first_limit_comes_from_the_policy_and_is_recorded(
    session: AsyncSession,
) -> None:
    golden = await customer_with_orders(session, "K1", "100000.00")
    view = (await credit_of(session, [golden], now=NOW))[golden]
    assert view.rating not in {None, "NR"}
    assert view.current_limit == view.recommended_limit > 0
    assert view.effective_limit == view.current_limit
    history = (await credit_history_of(session, [golden]))[golden]
    assert [(h.kind, h.status) for h in history] == [("policy", "applied")]


async def test_a_change_request_lives_from_request_to_approval(session: AsyncSession) -> None:
    golden = await customer_with_orders(session, "K1", "100000.00")
    before = (await credit_of(session, [golden], now=NOW))[golden]
    requested = (before.recommended_limit or Decimal(0)) + Decimal("10000")
    async with session.begin_nested():
        request = await request_credit_limit(
            session, golden, requested, reason="expanding production", actor="sales rep", now=NOW
        )
    assert request.status == "pending"
    assert request.assessment["recommendation"] in {"refer", "approve_partially", "approve"}
    queue = await list_credit_requests(session, status="pending", first=10, after=None)
    assert [r.decision_id for r in queue.items] == [request.decision_id]
    with pytest.raises(Conflict, match="pending request"):
        await request_credit_limit(session, golden, requested, reason="again", actor="x", now=NOW)

    async with session.begin_nested():
        decided = await decide_credit_request(
            session,
            request.decision_id,
            approve=True,
            reason="good payer",
            actor="officer",
            now=NOW,
        )
    assert (decided.status, decided.decided_limit) == ("approved", requested)
    after = (await credit_of(session, [golden], now=NOW))[golden]
    assert after.current_limit == requested
    with pytest.raises(Conflict, match="already approved"):
        await decide_credit_request(
            session, request.decision_id, approve=False, reason="late", actor="officer", now=NOW
        )
    actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert actions[-2:] == ["requestCreditLimit", "decideCreditRequest"]


async def test_a_rejected_request_leaves_the_limit_alone(session: AsyncSession) -> None:
    golden = await customer_with_orders(session, "K1", "100000.00")
    before = (await credit_of(session, [golden], now=NOW))[golden]
    async with session.begin_nested():
        request = await request_credit_limit(
            session, golden, Decimal("9000000"), reason="big deal", actor="sales", now=NOW
        )
    async with session.begin_nested():
        await decide_credit_request(
            session, request.decision_id, approve=False, reason="too high", actor="officer", now=NOW
        )
    after = (await credit_of(session, [golden], now=NOW))[golden]
    assert after.current_limit == before.current_limit


async def test_an_override_applies_until_it_expires_then_the_limit_falls_back(
    session: AsyncSession,
) -> None:
    golden = await customer_with_orders(session, "K1", "100000.00")
    current = (await credit_of(session, [golden], now=NOW))[golden].current_limit
    expires = NOW + timedelta(days=7)
    async with session.begin_nested():
        await override_credit_limit(
            session,
            golden,
            Decimal("5"),
            expires_at=expires,
            reason="dispute",
            actor="officer",
            now=NOW,
        )
    during = (await credit_of(session, [golden], now=NOW + timedelta(days=1)))[golden]
    assert (during.effective_limit, during.limit_source) == (Decimal("5"), "override")
    later = (await credit_of(session, [golden], now=expires + timedelta(seconds=1)))[golden]
    assert (later.effective_limit, later.limit_source) == (current, "current")


async def test_an_override_needs_a_future_expiry_and_a_reason(session: AsyncSession) -> None:
    golden = await customer_with_orders(session, "K1", "100000.00")
    with pytest.raises(Invalid, match="in the future"):
        await override_credit_limit(
            session,
            golden,
            Decimal(1),
            expires_at=NOW - timedelta(days=1),
            reason="x",
            actor="o",
            now=NOW,
        )
    with pytest.raises(Invalid, match="needs a reason"):
        await override_credit_limit(
            session,
            golden,
            Decimal(1),
            expires_at=NOW + timedelta(days=1),
            reason=" ",
            actor="o",
            now=NOW,
        )


async def test_late_payers_rate_lower_than_punctual_ones(session: AsyncSession) -> None:
    punctual = await customer_with_orders(session, "K1", "50000.00", late_days=0)
    late = await customer_with_orders(session, "K2", "50000.00", late_days=60)
    views = await credit_of(session, [punctual, late], now=NOW)
    assert (views[punctual].rating or "") < (views[late].rating or "")


async def test_composition_counts_customers_and_revenue_by_region(session: AsyncSession) -> None:
    await customer_with_orders(session, "K1", "1000.00", months=3)
    await customer_with_orders(session, "K2", "2000.00", months=3)
    rows = await composition(session, CompositionDimension.REGION)
    east = next(r for r in rows if r.key == "华东")
    assert (east.customers, east.revenue_12m) == (2, Decimal("9000.00"))
