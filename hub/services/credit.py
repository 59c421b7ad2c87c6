"""Credit: the customer's standing, limit change requests, decisions and overrides.

A request to change a limit is re-assessed against the customer's current
record (the credit policy in ``hub/rules/credit.toml``), and a credit officer
approves or rejects it with a reason. Manual overrides carry an expiry after
which the current limit applies again. Every change keeps who, when and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Classification, CreditDecision, CreditProfile, CustomerMetrics
from hub.domain import Page, decode_cursor, encode_cursor, format_customer_id
from hub.errors import Conflict, Invalid, NotFound
from hub.policies import (
    Tier,
    assess,
    assess_request,
    default_credit_policy,
    effective_limit,
    utilization,
)
from hub.services.customers import resolve_golden_id
from hub.services.events import audit
from hub.services.profile import DIMENSION_COLUMNS, load_figures

MAX_LIMIT = Decimal("1e13")


@dataclass(frozen=True, slots=True)
class ClassificationView:
    dimension: str
    value: str
    rule: str
    inputs: dict[str, Any]
    rule_set_version: str
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class CreditView:
    """A customer's credit standing as of now."""

    golden_id: int
    rating: str | None
    recommended_limit: Decimal | None
    current_limit: Decimal | None
    effective_limit: Decimal | None
    limit_source: str | None
    settlement_terms: str | None
    open_receivables: Decimal
    utilization: Decimal | None
    override_limit: Decimal | None
    override_expires_at: datetime | None
    policy_version: str | None
    inputs: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CreditDecisionView:
    """One entry of a customer's credit history: a request, a decision, an override."""

    decision_id: int
    golden_id: int
    kind: str
    status: str
    previous_limit: Decimal | None
    requested_limit: Decimal | None
    decided_limit: Decimal | None
    assessment: dict[str, Any]
    reason: str | None
    requested_by: str
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None


def parse_amount(value: str, *, field_name: str) -> Decimal:
    """A positive limit with at most two decimals."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise Invalid(f"'{value}' is not a decimal amount", field=field_name) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_LIMIT:
        raise Invalid("must be a finite amount between 0 and 10^13", field=field_name)
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("has more than two decimal places", field=field_name)
    return amount


def _decision_view(row: CreditDecision) -> CreditDecisionView:
    return CreditDecisionView(
        decision_id=row.id,
        golden_id=row.golden_id,
        kind=row.kind,
        status=row.status,
        previous_limit=row.previous_limit,
        requested_limit=row.requested_limit,
        decided_limit=row.decided_limit,
        assessment=row.assessment,
        reason=row.reason,
        requested_by=row.requested_by,
        decided_by=row.decided_by,
        created_at=row.created_at,
        decided_at=row.decided_at,
        expires_at=row.expires_at,
    )


async def credit_of(
    session: AsyncSession, golden_ids: Sequence[int], *, now: datetime
) -> dict[int, CreditView]:
    """Credit standing of ``golden_ids`` (one query)."""
    rows = await session.execute(
        select(CreditProfile, CustomerMetrics.open_receivables)
        .outerjoin(CustomerMetrics, CustomerMetrics.golden_id == CreditProfile.golden_id)
        .where(CreditProfile.golden_id.in_(golden_ids))
    )
    found: dict[int, CreditView] = {}
    for profile, receivables in rows:
        limit, source = (None, None)
        if profile.current_limit is not None or profile.override_limit is not None:
            limit, source_enum = effective_limit(
                profile.current_limit or Decimal(0),
                profile.override_limit,
                profile.override_expires_at,
                now,
            )
            source = source_enum.value
        open_receivables = receivables or Decimal(0)
        found[profile.golden_id] = CreditView(
            golden_id=profile.golden_id,
            rating=profile.rating,
            recommended_limit=profile.recommended_limit,
            current_limit=profile.current_limit,
            effective_limit=limit,
            limit_source=source,
            settlement_terms=profile.settlement_terms,
            open_receivables=open_receivables,
            utilization=utilization(open_receivables, limit) if limit is not None else None,
            override_limit=profile.override_limit,
            override_expires_at=profile.override_expires_at,
            policy_version=profile.policy_version,
            inputs=profile.inputs,
            updated_at=profile.updated_at,
        )
    return found


async def classifications_of(
    session: AsyncSession, golden_ids: Sequence[int]
) -> dict[int, list[ClassificationView]]:
    """Every classification dimension of ``golden_ids``, by dimension name (one query)."""
    rows = (
        (
            await session.execute(
                select(Classification).where(Classification.golden_id.in_(golden_ids))
            )
        )
        .scalars()
        .all()
    )
    return {row.golden_id: classification_views(row) for row in rows}


def classification_views(row: Classification) -> list[ClassificationView]:
    """A stored classification as one view per dimension, ordered by dimension name."""
    return [
        ClassificationView(
            dimension=dimension,
            value=getattr(row, dimension),
            rule=row.explanations[dimension]["rule"],
            inputs=row.explanations[dimension]["inputs"],
            rule_set_version=row.rule_set_version,
            computed_at=row.computed_at,
        )
        for dimension in sorted(DIMENSION_COLUMNS)
    ]


async def credit_history_of(
    session: AsyncSession, golden_ids: Sequence[int]
) -> dict[int, list[CreditDecisionView]]:
    """Every credit decision of ``golden_ids``, newest first (one query)."""
    rows = (
        (
            await session.execute(
                select(CreditDecision)
                .where(CreditDecision.golden_id.in_(golden_ids))
                .order_by(CreditDecision.golden_id, CreditDecision.id.desc())
            )
        )
        .scalars()
        .all()
    )
    found: dict[int, list[CreditDecisionView]] = {}
    for row in rows:
        found.setdefault(row.golden_id, []).append(_decision_view(row))
    return found


async def _profile_for_update(session: AsyncSession, golden_id: int) -> CreditProfile:
    profile = await session.get(CreditProfile, golden_id, with_for_update=True)
    if profile is None:
        raise NotFound(
            f"customer {format_customer_id(golden_id)} has no credit profile yet",
            field="customerId",
        )
    return profile


async def request_credit_limit(
    session: AsyncSession,
    golden_id: int,
    requested_limit: Decimal,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> CreditDecisionView:
    """Raise a limit change request, re-assessed now against the customer's record."""
    if not reason.strip():
        raise Invalid("a request needs a reason", field="reason")
    target = await resolve_golden_id(session, golden_id)
    profile = await _profile_for_update(session, target)
    pending = await session.scalar(
        select(func.count()).where(
            CreditDecision.golden_id == target,
            CreditDecision.kind == "request",
            CreditDecision.status == "pending",
        )
    )
    if pending:
        raise Conflict(
            f"customer {format_customer_id(target)} already has a pending request",
            field="customerId",
        )
    figures = (await load_figures(session, [target]))[0]
    tier = await session.scalar(
        select(Classification.tier).where(Classification.golden_id == target)
    )
    policy = default_credit_policy()
    assessment = assess(figures, Tier(tier or Tier.OCCASIONAL.value), policy, now)
    advice = assess_request(assessment, requested_limit, profile.current_limit, policy)
    row = CreditDecision(
        golden_id=target,
        kind="request",
        status="pending",
        previous_limit=profile.current_limit,
        requested_limit=requested_limit,
        assessment={
            "recommendation": advice.recommendation.value,
            "supported_limit": str(advice.supported_limit),
            "reasons": advice.reasons,
            "rating": assessment.rating.value,
            "recommended_limit": str(assessment.recommended_limit),
            "points": assessment.points,
            "inputs": assessment.inputs,
            "policy_version": assessment.policy_version,
        },
        reason=reason,
        requested_by=actor,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await audit(
        session,
        actor=actor,
        action="requestCreditLimit",
        target_type="credit",
        target_id=format_customer_id(target),
        before={"current_limit": str(profile.current_limit)},
        after={"requested_limit": str(requested_limit), "recommendation": advice.recommendation},
    )
    return _decision_view(row)


async def decide_credit_request(
    session: AsyncSession,
    request_id: int,
    *,
    approve: bool,
    reason: str,
    actor: str,
    now: datetime,
    limit: Decimal | None = None,
) -> CreditDecisionView:
    """A credit officer's decision; an approval sets the customer's current limit."""
    if not reason.strip():
        raise Invalid("a decision needs a reason", field="reason")
    row = (
        await session.execute(
            select(CreditDecision).where(CreditDecision.id == request_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.kind != "request":
        raise NotFound(f"no credit request {request_id}", field="id")
    if row.status != "pending":
        raise Conflict(f"credit request {request_id} is already {row.status}", field="id")
    profile = await _profile_for_update(session, row.golden_id)
    before = {"current_limit": str(profile.current_limit), "status": row.status}
    row.status = "approved" if approve else "rejected"
    row.decided_by, row.decided_at, row.reason = actor, now, f"{row.reason} | decision: {reason}"
    if approve:
        decided = limit if limit is not None else row.requested_limit
        row.decided_limit = decided
        row.previous_limit = profile.current_limit
        profile.current_limit = decided
        profile.updated_at = now
    await session.flush()
    await audit(
        session,
        actor=actor,
        action="decideCreditRequest",
        target_type="credit",
        target_id=format_customer_id(row.golden_id),
        before=before,
        after={"current_limit": str(profile.current_limit), "status": row.status, "reason": reason},
    )
    return _decision_view(row)


async def override_credit_limit(
    session: AsyncSession,
    golden_id: int,
    limit: Decimal,
    *,
    expires_at: datetime,
    reason: str,
    actor: str,
    now: datetime,
) -> CreditDecisionView:
    """Set a manual limit until ``expires_at``; then the current limit applies again."""
    if not reason.strip():
        raise Invalid("an override needs a reason", field="reason")
    if expires_at.tzinfo is None:
        raise Invalid("must carry a time zone", field="expiresAt")
    if expires_at <= now:
        raise Invalid("must be in the future", field="expiresAt")
    target = await resolve_golden_id(session, golden_id)
    profile = await _profile_for_update(session, target)
    before = {
        "override_limit": str(profile.override_limit),
        "override_expires_at": profile.override_expires_at.isoformat()
        if profile.override_expires_at
        else None,
    }
    profile.override_limit, profile.override_expires_at, profile.updated_at = limit, expires_at, now
    row = CreditDecision(
        golden_id=target,
        kind="override",
        status="applied",
        previous_limit=profile.current_limit,
        decided_limit=limit,
        reason=reason,
        requested_by=actor,
        decided_by=actor,
        created_at=now,
        decided_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    await audit(
        session,
        actor=actor,
        action="overrideCreditLimit",
        target_type="credit",
        target_id=format_customer_id(target),
        before=before,
        after={
            "override_limit": str(limit),
            "expires_at": expires_at.isoformat(),
            "reason": reason,
        },
    )
    return _decision_view(row)


async def list_credit_requests(
    session: AsyncSession, *, status: str | None, first: int, after: str | None
) -> Page[CreditDecisionView]:
    """Limit change requests, oldest first (the officer's queue)."""
    position = decode_cursor(after) if after is not None else 0
    query = select(CreditDecision).where(CreditDecision.kind == "request")
    counted = select(func.count()).where(CreditDecision.kind == "request")
    if status is not None:
        query = query.where(CreditDecision.status == status)
        counted = counted.where(CreditDecision.status == status)
    rows = (
        (
            await session.execute(
                query.order_by(CreditDecision.created_at, CreditDecision.id)
                .offset(position)
                .limit(first + 1)
            )
        )
        .scalars()
        .all()
    )
    page = rows[:first]
    return Page(
        items=[_decision_view(row) for row in page],
        cursors=[encode_cursor(position + k + 1) for k in range(len(page))],
        has_next_page=len(rows) > first,
        has_previous_page=position > 0,
        total_count=(await session.execute(counted)).scalar_one(),
    )
