"""A customer's derived profile: metrics, then classification and credit from them.

Refreshed whenever what it derives from changes: interactions arriving, records
joining or leaving the customer (merge, split, matching), and in batch
(``hub recompute``, which also recomputes the Pareto cutoffs of the tiers).
Every stored result carries the rule-set version and the inputs it used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
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
from hub.db.sql import among
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
    """Classification and credit of ``golden_ids`` from their stored metrics (set-based)."""
    ids = sorted(set(golden_ids))
    rules = default_classification_rules()
    policy = default_credit_policy()
    cutoffs = await current_cutoffs(session, rules, now=now)
    classification_rows: list[dict[str, object]] = []
    assessments: list[tuple[CustomerFigures, CreditAssessment]] = []
    for figures in await load_figures(session, ids):
        results = classify(figures, cutoffs, rules, now)
        classification_rows.extend(
            _classification_row(figures.golden_id, r, rules.version, now) for r in results
        )
        tier = Tier(next(r.value for r in results if r.dimension is Dimension.TIER))
        assessments.append((figures, assess(figures, tier, policy, now)))
    await _store_classifications(session, classification_rows)
    await _store_credit(session, assessments, now)


async def load_figures(session: AsyncSession, golden_ids: Sequence[int]) -> list[CustomerFigures]:
    """What the policies read about each customer: its golden values and metrics."""
    rows = await session.execute(
        select(GoldenRecord, CustomerMetrics)
        .join(CustomerMetrics, CustomerMetrics.golden_id == GoldenRecord.id)
        .where(among(GoldenRecord.id, golden_ids), GoldenRecord.status == "active")
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


def _classification_row(
    golden_id: int, result: ClassificationResult, version: str, now: datetime
) -> dict[str, object]:
    return {
        "golden_id": golden_id,
        "dimension": result.dimension.value,
        "value": result.value,
        "rule_set_version": version,
        "rule": result.rule,
        "inputs": result.inputs,
        "computed_at": now,
    }


async def _store_classifications(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    statement = insert(Classification)
    # A list of rows runs as batched multi-row inserts (insertmanyvalues).
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
        ),
        rows,
    )


def _credit_inputs(assessment: CreditAssessment) -> dict[str, object]:
    return assessment.inputs | {
        "points": assessment.points,
        "reasons": assessment.reasons,
        "term_months": str(assessment.term_months),
    }


async def _store_credit(
    session: AsyncSession,
    assessments: Sequence[tuple[CustomerFigures, CreditAssessment]],
    now: datetime,
) -> None:
    """Store the policy's view; a customer's first limit comes from the policy, recorded."""
    if not assessments:
        return
    ids = [figures.golden_id for figures, _ in assessments]
    limits = dict(
        (
            await session.execute(
                select(CreditProfile.golden_id, CreditProfile.current_limit).where(
                    among(CreditProfile.golden_id, ids)
                )
            )
        ).all()
    )
    statement = insert(CreditProfile)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CreditProfile.golden_id],
            set_={
                "rating": statement.excluded.rating,
                "recommended_limit": statement.excluded.recommended_limit,
                "settlement_terms": statement.excluded.settlement_terms,
                "policy_version": statement.excluded.policy_version,
                "inputs": statement.excluded.inputs,
                "updated_at": statement.excluded.updated_at,
                # An approved limit stays; only a customer without one takes the policy's.
                "current_limit": func.coalesce(
                    CreditProfile.current_limit, statement.excluded.current_limit
                ),
            },
        ),
        [
            {
                "golden_id": figures.golden_id,
                "rating": a.rating.value,
                "recommended_limit": a.recommended_limit,
                "current_limit": a.recommended_limit if a.recommended_limit > 0 else None,
                "settlement_terms": a.settlement_terms.value,
                "policy_version": a.policy_version,
                "inputs": _credit_inputs(a),
                "updated_at": now,
            }
            for figures, a in assessments
        ],
    )
    first_limits = [
        {
            "golden_id": figures.golden_id,
            "kind": "policy",
            "status": "applied",
            "decided_limit": a.recommended_limit,
            "assessment": _credit_inputs(a),
            "reason": f"first limit from credit policy {a.policy_version}",
            "requested_by": POLICY_ACTOR,
            "decided_by": POLICY_ACTOR,
            "decided_at": now,
        }
        for figures, a in assessments
        if limits.get(figures.golden_id) is None and a.recommended_limit > 0
    ]
    if first_limits:
        await session.execute(insert(CreditDecision), first_limits)
