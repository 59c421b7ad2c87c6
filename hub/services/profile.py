"""A customer's derived profile: metrics, then classification and credit from them.

Refreshed whenever what it derives from changes: interactions arriving, records
joining or leaving the customer (merge, split, matching), and in batch
(``hub recompute``, which also recomputes the Pareto cutoffs of the tiers).
Every stored result carries the rule-set version and the inputs it used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    Classification,
    CreditDecision,
    CreditProfile,
    CustomerMetrics,
    GoldenRecord,
    TierCutoff,
)
from hub.policies import (
    ClassificationResult,
    ClassificationRules,
    CreditAssessment,
    CustomerFigures,
    Dimension,
    Tier,
    TierCutoffs,
    assess,
    classify,
    default_classification_rules,
    default_credit_policy,
    tier_cutoffs,
)
from hub.services.metrics import recompute_metrics

# Amounts in other currencies are stored exactly but left out of the figures.
BASE_CURRENCY = "CNY"
POLICY_ACTOR = "credit policy"


async def refresh_profiles(
    session: AsyncSession, golden_ids: Sequence[int], *, now: datetime
) -> None:
    """Recompute metrics, classification and credit of ``golden_ids``."""
    if not golden_ids:
        return
    ids = sorted(set(golden_ids))
    await recompute_metrics(session, ids, now=now, base_currency=BASE_CURRENCY)
    await reclassify(session, ids, now=now)


async def reclassify(session: AsyncSession, golden_ids: Sequence[int], *, now: datetime) -> None:
    """Classification and credit of ``golden_ids`` from their stored metrics."""
    ids = sorted(set(golden_ids))
    rules = default_classification_rules()
    policy = default_credit_policy()
    cutoffs = await current_cutoffs(session, rules, now=now)
    for figures in await load_figures(session, ids):
        results = classify(figures, cutoffs, rules, now)
        await _store_classification(session, figures.golden_id, results, rules.version, now)
        tier = Tier(next(r.value for r in results if r.dimension is Dimension.TIER))
        await _store_credit(session, figures, assess(figures, tier, policy, now), now)


async def load_figures(session: AsyncSession, golden_ids: Sequence[int]) -> list[CustomerFigures]:
    """What the policies read about each customer: its golden values and metrics."""
    rows = await session.execute(
        select(GoldenRecord, CustomerMetrics)
        .join(CustomerMetrics, CustomerMetrics.golden_id == GoldenRecord.id)
        .where(GoldenRecord.id.in_(golden_ids), GoldenRecord.status == "active")
        .order_by(GoldenRecord.id)
    )
    figures = []
    for golden, metrics in rows:
        attributes = golden.attributes
        figures.append(
            CustomerFigures(
                golden_id=golden.id,
                party_type=golden.party_type,
                ownership=_text(attributes.get("ownership")),
                category=_text(attributes.get("category")),
                region=golden.region,
                industry=golden.industry,
                transaction_count=metrics.transaction_count,
                transaction_amount=metrics.transaction_amount,
                revenue_12m=metrics.revenue_12m,
                first_transaction_at=metrics.first_transaction_at,
                last_transaction_at=metrics.last_transaction_at,
                last_contact_at=metrics.last_contact_at,
                average_days_late=metrics.average_days_late,
                open_complaints=metrics.open_complaints,
                open_receivables=metrics.open_receivables,
                close_requested_at=metrics.close_requested_at,
            )
        )
    return figures


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def current_cutoffs(
    session: AsyncSession, rules: ClassificationRules, *, now: datetime
) -> TierCutoffs:
    """The latest stored tier cutoffs of this rule set, computed now if there are none."""
    stored = (
        await session.execute(
            select(TierCutoff)
            .where(TierCutoff.rule_set_version == rules.version)
            .order_by(TierCutoff.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if stored is not None:
        return TierCutoffs(
            key_min_revenue=stored.key_min_revenue,
            regular_min_revenue=stored.regular_min_revenue,
            customers=stored.customers,
            total_revenue=stored.total_revenue,
        )
    return await recompute_cutoffs(session, rules, now=now)


async def recompute_cutoffs(
    session: AsyncSession, rules: ClassificationRules, *, now: datetime
) -> TierCutoffs:
    """Pareto cutoffs over every active customer's 12-month revenue, stored for reuse."""
    revenues = (
        await session.execute(
            select(CustomerMetrics.revenue_12m)
            .join(GoldenRecord, GoldenRecord.id == CustomerMetrics.golden_id)
            .where(GoldenRecord.status == "active")
        )
    ).scalars()
    cutoffs = tier_cutoffs(revenues, rules)
    session.add(
        TierCutoff(
            rule_set_version=rules.version,
            key_min_revenue=cutoffs.key_min_revenue,
            regular_min_revenue=cutoffs.regular_min_revenue,
            customers=cutoffs.customers,
            total_revenue=cutoffs.total_revenue,
            computed_at=now,
        )
    )
    await session.flush()
    return cutoffs


async def _store_classification(
    session: AsyncSession,
    golden_id: int,
    results: Sequence[ClassificationResult],
    version: str,
    now: datetime,
) -> None:
    rows = [
        {
            "golden_id": golden_id,
            "dimension": r.dimension.value,
            "value": r.value,
            "rule_set_version": version,
            "rule": r.rule,
            "inputs": r.inputs,
            "computed_at": now,
        }
        for r in results
    ]
    statement = insert(Classification).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Classification.golden_id, Classification.dimension],
            set_={
                "value": statement.excluded.value,
                "rule_set_version": statement.excluded.rule_set_version,
                "rule": statement.excluded.rule,
                "inputs": statement.excluded.inputs,
                "computed_at": statement.excluded.computed_at,
            },
        )
    )


async def _store_credit(
    session: AsyncSession, figures: CustomerFigures, assessment: CreditAssessment, now: datetime
) -> None:
    """Store the policy's view; a first limit comes from the policy and is recorded."""
    profile = await session.get(CreditProfile, figures.golden_id, with_for_update=True)
    inputs = assessment.inputs | {
        "points": assessment.points,
        "reasons": assessment.reasons,
        "term_months": str(assessment.term_months),
    }
    if profile is None:
        profile = CreditProfile(golden_id=figures.golden_id)
        session.add(profile)
    first_limit = profile.current_limit is None and assessment.recommended_limit > 0
    profile.rating = assessment.rating.value
    profile.recommended_limit = assessment.recommended_limit
    profile.settlement_terms = assessment.settlement_terms.value
    profile.policy_version = assessment.policy_version
    profile.inputs = inputs
    profile.updated_at = now
    if first_limit:
        profile.current_limit = assessment.recommended_limit
        session.add(
            CreditDecision(
                golden_id=figures.golden_id,
                kind="policy",
                status="applied",
                previous_limit=None,
                requested_limit=None,
                decided_limit=assessment.recommended_limit,
                assessment=inputs,
                reason=f"first limit from credit policy {assessment.policy_version}",
                requested_by=POLICY_ACTOR,
                decided_by=POLICY_ACTOR,
                decided_at=now,
            )
        )
    await session.flush()
