"""A customer's derived profile: metrics, then classification and credit from them.

Refreshed whenever what it derives from changes: interactions arriving, records
joining or leaving the customer (merge, split, matching), and in batch
(``hub recompute``, which also recomputes the Pareto cutoffs of the tiers).
Every stored result carries the rule-set version and the inputs it used.

The policies run in Python (they are the specification, see ``hub/policies``);
everything around them is set-based: one statement recomputes the metrics of a
batch and reads its figures (with the tier cutoffs), one stores its
classifications, retention alerts, credit standing and first limits. A
retention alert is raised when a customer starts meeting an alert rule and
cleared, never deleted, when it stops.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import CustomerMetrics, GoldenRecord, TierCutoff
from hub.db.sql import among
from hub.policies import (
    ClassificationRules,
    CreditAssessment,
    CreditPolicy,
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
from hub.policies.classification import NO_ALERT
from hub.services.metrics import UPSERT_METRICS, metrics_parameters

# Amounts in other currencies are stored exactly but left out of the figures.
BASE_CURRENCY = "CNY"
POLICY_ACTOR = "credit policy"
NO_LONGER_ACTIVE = "the customer is no longer active (merged or retired)"
# The classification columns, in the order of the policy's dimensions.
DIMENSION_COLUMNS = tuple(dimension.value for dimension in Dimension)


async def refresh_profiles(
    session: AsyncSession, golden_ids: Sequence[int], *, now: datetime
) -> None:
    """Recompute metrics, classification and credit of ``golden_ids``.

    Two statements in the usual case: one recomputes the metrics and reads them
    back with the golden values and the latest tier cutoffs, one stores what
    the policies derive from them. Customers that are no longer active get
    their open retention alerts cleared.
    """
    if not golden_ids:
        return
    ids = sorted(set(golden_ids))
    rules = default_classification_rules()
    stored_cutoffs, figures = await recompute_figures(session, ids, rules, now=now)
    cutoffs = stored_cutoffs or await recompute_cutoffs(session, rules, now=now)
    profiles = derive_profiles(figures, cutoffs, rules, default_credit_policy(), now)
    await store_profiles(session, profiles, now=now)
    inactive = sorted(set(ids) - {f.golden_id for f in figures})
    await close_retention_alerts(session, inactive, now=now, why=NO_LONGER_ACTIVE)


# ── Reading the figures ────────────────────────────────────────────────────


def _string_attribute(name: str) -> ColumnElement[Any]:
    """A golden attribute when it is a JSON string, else NULL: what the policies accept."""
    value = GoldenRecord.attributes[name]
    return case((func.jsonb_typeof(value) == "string", value.astext), else_=None).label(name)


# What the policies read, in the order ``_figures`` takes it: golden columns,
# golden attributes that must be JSON strings, metrics columns.
_GOLDEN_FIGURES = ("id", "party_type")
_STRING_FIGURES = ("ownership", "category")
_PLACE_FIGURES = ("region", "industry")
_METRICS_FIGURES = (
    "transaction_count",
    "transaction_amount",
    "revenue_12m",
    "first_transaction_at",
    "last_transaction_at",
    "last_contact_at",
    "average_days_late",
    "open_complaints",
    "open_receivables",
    "close_requested_at",
)

_FIGURES = (
    select(
        *(getattr(GoldenRecord, name) for name in _GOLDEN_FIGURES),
        *(_string_attribute(name) for name in _STRING_FIGURES),
        *(getattr(GoldenRecord, name) for name in _PLACE_FIGURES),
        *(getattr(CustomerMetrics, name) for name in _METRICS_FIGURES),
    )
    .join(CustomerMetrics, CustomerMetrics.golden_id == GoldenRecord.id)
    .where(GoldenRecord.status == "active")
    .order_by(GoldenRecord.id)
)


async def load_figures(session: AsyncSession, golden_ids: Sequence[int]) -> list[CustomerFigures]:
    """What the policies read about each active customer: golden values and metrics."""
    rows = await session.execute(_FIGURES.where(among(GoldenRecord.id, golden_ids)))
    return _figures(rows)


async def load_figures_after(
    session: AsyncSession, last_id: int, limit: int, *, before: int | None = None
) -> list[CustomerFigures]:
    """The figures of the next ``limit`` active customers after ``last_id`` (and below
    ``before``), in id order."""
    query = _FIGURES.where(GoldenRecord.id > last_id)
    if before is not None:
        query = query.where(GoldenRecord.id < before)
    return _figures(await session.execute(query.limit(limit)))


# The columns of ``_FIGURES`` over golden_record g and customer_metrics m.
_FIGURE_COLUMNS = ", ".join(
    [
        *(f"g.{name}" for name in _GOLDEN_FIGURES),
        *(
            f"CASE WHEN jsonb_typeof(g.attributes -> '{name}') = 'string'"
            f" THEN g.attributes ->> '{name}' END"
            for name in _STRING_FIGURES
        ),
        *(f"g.{name}" for name in _PLACE_FIGURES),
        *(f"m.{name}" for name in _METRICS_FIGURES),
    ]
)
_CUTOFF_COLUMNS = 4

# The metrics upsert returns the stored metrics of the active customers; they
# are read back with their golden values (what ``_FIGURES`` reads) and, in the
# same row, the latest tier cutoffs of the rule set. One row at least: with no
# active customer it carries the cutoffs alone.
_RECOMPUTE_FIGURES = text(
    f"""
    WITH metrics AS ({UPSERT_METRICS} RETURNING m.*
    ), latest_cutoff AS (
        SELECT key_min_revenue, regular_min_revenue, customers, total_revenue
        FROM tier_cutoff
        WHERE rule_set_version = :rule_set_version
        ORDER BY id DESC
        LIMIT 1
    )
    SELECT {_FIGURE_COLUMNS},
        c.key_min_revenue, c.regular_min_revenue, c.customers, c.total_revenue
    FROM (VALUES (1)) AS one (row)
    LEFT JOIN latest_cutoff AS c ON true
    LEFT JOIN (metrics AS m JOIN golden_record AS g ON g.id = m.golden_id) ON true
    ORDER BY g.id
    """  # noqa: S608 - fixed column names only
)


async def recompute_figures(
    session: AsyncSession, golden_ids: Sequence[int], rules: ClassificationRules, *, now: datetime
) -> tuple[TierCutoffs | None, list[CustomerFigures]]:
    """Recompute the metrics of ``golden_ids`` and read the figures of the active ones,
    with the latest stored tier cutoffs of ``rules`` (None if there are none)."""
    rows = (
        await session.execute(
            _RECOMPUTE_FIGURES,
            metrics_parameters(golden_ids, now=now, base_currency=BASE_CURRENCY)
            | {"rule_set_version": rules.version},
        )
    ).all()
    key_min, regular_min, customers, total = rows[0][-_CUTOFF_COLUMNS:]
    cutoffs = (
        None
        if customers is None
        else TierCutoffs(
            key_min_revenue=key_min,
            regular_min_revenue=regular_min,
            customers=customers,
            total_revenue=total,
        )
    )
    return cutoffs, _figures(row[:-_CUTOFF_COLUMNS] for row in rows if row[0] is not None)


def _figures(rows: Iterable[Sequence[Any]]) -> list[CustomerFigures]:
    return [
        CustomerFigures(
            golden_id=golden_id,
            party_type=party_type,
            ownership=ownership,
            category=category,
            region=region,
            industry=industry,
            transaction_count=count,
            transaction_amount=amount,
            revenue_12m=revenue,
            first_transaction_at=first,
            last_transaction_at=last,
            last_contact_at=contact,
            average_days_late=late,
            open_complaints=complaints,
            open_receivables=receivables,
            close_requested_at=close,
        )
        for (
            golden_id,
            party_type,
            ownership,
            category,
            region,
            industry,
            count,
            amount,
            revenue,
            first,
            last,
            contact,
            late,
            complaints,
            receivables,
            close,
        ) in rows
    ]


# ── Tier cutoffs ────────────────────────────────────────────────────────────


_LATEST_CUTOFF = (
    select(TierCutoff)
    .where(TierCutoff.rule_set_version == bindparam("rule_set_version"))
    .order_by(TierCutoff.id.desc())
    .limit(1)
)


async def current_cutoffs(
    session: AsyncSession, rules: ClassificationRules, *, now: datetime
) -> TierCutoffs:
    """The latest stored tier cutoffs of this rule set, computed now if there are none."""
    stored = (
        await session.execute(_LATEST_CUTOFF, {"rule_set_version": rules.version})
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


# ── Deriving (pure) ─────────────────────────────────────────────────────────


@dataclass(slots=True)
class Profiles:
    """Classification and credit of a batch of customers.

    The policies read a customer's figures, never its id, and customers often
    share them (new ones have no history yet and a handful of categories and
    regions): each distinct profile is kept once, and ``slots[n]`` is the one
    of ``golden_ids[n]``. ``values`` holds one list per dimension; it and the
    lists below it hold one entry per distinct profile.
    """

    rule_set_version: str
    policy_version: str
    golden_ids: list[int] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    values: list[list[str]] = field(default_factory=lambda: [[] for _ in DIMENSION_COLUMNS])
    explanations: list[str] = field(default_factory=list)
    ratings: list[str] = field(default_factory=list)
    recommended_limits: list[Decimal] = field(default_factory=list)
    settlement_terms: list[str] = field(default_factory=list)
    credit_inputs: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.golden_ids)


# Everything the policies read: the figures but the customer's id. Figures
# read from PostgreSQL carry one scale of money and one time zone, so values
# that compare equal also print alike in the explanations.
_FIGURE_VALUES = attrgetter(*(f.name for f in fields(CustomerFigures) if f.name != "golden_id"))


def derive_profiles(
    figures: Sequence[CustomerFigures],
    cutoffs: TierCutoffs,
    rules: ClassificationRules,
    policy: CreditPolicy,
    now: datetime,
) -> Profiles:
    """Run the classification and credit policies over each distinct figures once."""
    profiles = Profiles(rule_set_version=rules.version, policy_version=policy.version)
    distinct: dict[tuple[Any, ...], int] = {}
    for customer in figures:
        key = _FIGURE_VALUES(customer)
        slot = distinct.get(key)
        if slot is None:
            slot = distinct[key] = len(distinct)
            _derive_one(profiles, customer, cutoffs=cutoffs, rules=rules, policy=policy, now=now)
        profiles.golden_ids.append(customer.golden_id)
        profiles.slots.append(slot)
    return profiles


def _derive_one(
    profiles: Profiles,
    customer: CustomerFigures,
    *,
    cutoffs: TierCutoffs,
    rules: ClassificationRules,
    policy: CreditPolicy,
    now: datetime,
) -> None:
    """Append the profile ``customer``'s figures give to ``profiles``."""
    results = classify(customer, cutoffs, rules, now)
    explained: dict[str, Any] = {}
    for column, result in zip(profiles.values, results, strict=True):
        column.append(result.value)
        explained[result.dimension.value] = {"rule": result.rule, "inputs": result.inputs}
    # classify() answers in Dimension order: the tier comes first.
    assessment = assess(customer, Tier(results[0].value), policy, now)
    profiles.explanations.append(_json(explained))
    profiles.ratings.append(assessment.rating.value)
    profiles.recommended_limits.append(assessment.recommended_limit)
    profiles.settlement_terms.append(assessment.settlement_terms.value)
    profiles.credit_inputs.append(_json(credit_inputs(assessment)))


def credit_inputs(assessment: CreditAssessment) -> dict[str, object]:
    """What a credit profile (and a first limit) records of the assessment behind it."""
    return assessment.inputs | {
        "points": assessment.points,
        "reasons": assessment.reasons,
        "term_months": str(assessment.term_months),
    }


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ── Storing (set-based) ─────────────────────────────────────────────────────


async def store_profiles(session: AsyncSession, profiles: Profiles, *, now: datetime) -> None:
    """Store a batch's classifications, retention alerts, credit standing and first limits."""
    if not profiles:
        return
    await session.execute(
        _STORE_PROFILES,
        {
            "golden_ids": profiles.golden_ids,
            "slots": profiles.slots,
            **dict(zip(DIMENSION_COLUMNS, profiles.values, strict=True)),
            "explanations": profiles.explanations,
            "rule_set_version": profiles.rule_set_version,
            "no_alert": NO_ALERT,
            "ratings": profiles.ratings,
            "recommended_limits": profiles.recommended_limits,
            "settlement_terms": profiles.settlement_terms,
            "inputs": profiles.credit_inputs,
            "policy_version": profiles.policy_version,
            "first_limit_reason": f"first limit from credit policy {profiles.policy_version}",
            "actor": POLICY_ACTOR,
            "now": now,
        },
    )


def _lasting(alias: str) -> str:
    """SQL for what a stored classification says apart from the moment it was computed.

    The inputs of every dimension without ``as_of``: the rule texts derive from
    the inputs and that moment ("last transaction 37 days ago"), so equal
    values and equal lasting inputs mean the stored row still holds.
    """
    parts = ", ".join(
        f"({alias}.explanations -> '{dimension}' -> 'inputs') - 'as_of'"
        for dimension in DIMENSION_COLUMNS
    )
    return f"jsonb_build_array({parts})"


_VALUES = ", ".join(("rule_set_version", *DIMENSION_COLUMNS))

# One statement stores a batch; every part reads the state from before it, and
# each writes its own table. The distinct profiles arrive as one array per
# column, and each customer's slot among them (JSON is parsed once per profile,
# not once per customer).
#
# Retention alerts follow the retention value ('KEY_DORMANT+CLOSE_REQUESTED' is
# two reasons): a reason that appears is raised (unless already open), an open
# one that disappears is cleared with the rule that no longer raises it.
#
# The credit profile is the policy's view of each customer. A customer without
# a current limit takes the policy's recommendation as its first limit,
# recorded as a decision; an approved limit stays whatever the policy now says.
#
# A stored classification or credit profile whose values and lasting inputs
# are unchanged (apart from ``as_of``) is left alone, not even locked:
# ``computed_at``, ``updated_at`` and ``as_of`` say since when it holds.
_STORE_PROFILES = text(
    f"""
    WITH profile AS (
        SELECT * FROM unnest(
            CAST(:tier AS text[]), CAST(:lifecycle AS text[]),
            CAST(:nature AS text[]), CAST(:region AS text[]), CAST(:category AS text[]),
            CAST(:contact AS text[]), CAST(:retention AS text[]), CAST(:explanations AS jsonb[]),
            CAST(:ratings AS text[]), CAST(:recommended_limits AS numeric[]),
            CAST(:settlement_terms AS text[]), CAST(:inputs AS jsonb[])
        ) WITH ORDINALITY AS profile(tier, lifecycle, nature, region, category, contact,
                  retention, explanations, rating, recommended_limit, settlement_terms, inputs,
                  slot)
    ), item AS MATERIALIZED (
        SELECT customer.golden_id, profile.*
        FROM unnest(CAST(:golden_ids AS bigint[]), CAST(:slots AS bigint[]))
            AS customer(golden_id, slot)
        JOIN profile ON profile.slot = customer.slot + 1
    ), alerting AS (
        SELECT item.golden_id, part.reason, item.explanations -> 'retention' AS retention
        FROM item, unnest(string_to_array(item.retention, '+')) AS part(reason)
        WHERE item.retention <> :no_alert
    ), raised AS (
        INSERT INTO retention_alert (golden_id, reason, rule, inputs, rule_set_version, raised_at)
        SELECT golden_id, reason, retention ->> 'rule', retention -> 'inputs',
            CAST(:rule_set_version AS text), :now
        FROM alerting
        ON CONFLICT (golden_id, reason) WHERE cleared_at IS NULL DO NOTHING
    ), cleared AS (
        UPDATE retention_alert AS alert
        SET cleared_at = :now, cleared_rule = item.explanations -> 'retention' ->> 'rule'
        FROM item
        WHERE alert.golden_id = ANY(CAST(:golden_ids AS bigint[]))
            AND alert.cleared_at IS NULL
            AND alert.golden_id = item.golden_id
            AND alert.reason <> ALL(string_to_array(item.retention, '+'))
    ), classified AS (
        INSERT INTO classification AS c (golden_id, {_VALUES}, explanations, computed_at)
        SELECT item.golden_id, CAST(:rule_set_version AS text),
            {", ".join(f"item.{d}" for d in DIMENSION_COLUMNS)}, item.explanations, :now
        FROM item
        LEFT JOIN classification AS old ON old.golden_id = item.golden_id
        WHERE old.golden_id IS NULL
            OR ({", ".join(f"old.{v}" for v in _VALUES.split(", "))})
                IS DISTINCT FROM
                (CAST(:rule_set_version AS text),
                 {", ".join(f"item.{d}" for d in DIMENSION_COLUMNS)})
            OR {_lasting("old")} IS DISTINCT FROM {_lasting("item")}
        ON CONFLICT (golden_id) DO UPDATE SET
            ({_VALUES}, explanations, computed_at)
            = (excluded.rule_set_version,
               {", ".join(f"excluded.{d}" for d in DIMENSION_COLUMNS)},
               excluded.explanations, excluded.computed_at)
    ), first_limit AS (
        INSERT INTO credit_decision (
            golden_id, kind, status, decided_limit, assessment, reason, requested_by,
            decided_by, decided_at)
        SELECT item.golden_id, 'policy', 'applied', item.recommended_limit, item.inputs,
            :first_limit_reason, :actor, :actor, :now
        FROM item
        LEFT JOIN credit_profile p ON p.golden_id = item.golden_id
        WHERE p.current_limit IS NULL AND item.recommended_limit > 0
    )
    INSERT INTO credit_profile AS p (
        golden_id, rating, recommended_limit, current_limit, settlement_terms, policy_version,
        inputs, updated_at)
    SELECT item.golden_id, item.rating, item.recommended_limit,
        CASE WHEN item.recommended_limit > 0 THEN item.recommended_limit END,
        item.settlement_terms, CAST(:policy_version AS text), item.inputs, :now
    FROM item
    LEFT JOIN credit_profile AS old ON old.golden_id = item.golden_id
    WHERE old.golden_id IS NULL
        OR (old.rating, old.recommended_limit, old.settlement_terms, old.policy_version)
            IS DISTINCT FROM
            (item.rating, item.recommended_limit, item.settlement_terms,
             CAST(:policy_version AS text))
        OR old.inputs - 'as_of' IS DISTINCT FROM item.inputs - 'as_of'
        OR (old.current_limit IS NULL AND item.recommended_limit > 0)
    ON CONFLICT (golden_id) DO UPDATE SET
        rating = excluded.rating,
        recommended_limit = excluded.recommended_limit,
        settlement_terms = excluded.settlement_terms,
        policy_version = excluded.policy_version,
        inputs = excluded.inputs,
        updated_at = excluded.updated_at,
        current_limit = coalesce(p.current_limit, excluded.current_limit)
    """  # noqa: S608 - fixed column names only
)


async def close_retention_alerts(
    session: AsyncSession, golden_ids: Sequence[int], *, now: datetime, why: str
) -> None:
    """Clear the open retention alerts of ``golden_ids``, saying why."""
    if not golden_ids:
        return
    await session.execute(
        text(
            "UPDATE retention_alert SET cleared_at = :now, cleared_rule = :why"
            " WHERE golden_id = ANY(CAST(:golden_ids AS bigint[])) AND cleared_at IS NULL"
        ),
        {"now": now, "why": why, "golden_ids": list(golden_ids)},
    )
