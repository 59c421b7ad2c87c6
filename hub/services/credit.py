"""Credit: the customer's standing, limit change requests, decisions and overrides.

A request to change a limit is re-assessed against the customer's current
record (the credit policy in ``hub/rules/credit.toml``), and a credit officer
approves or rejects it with a reason. Manual overrides carry an expiry after
which the current limit applies again. Every change keeps who, when and why.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Label,
    Select,
    bindparam,
    func,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import FromClause

from hub.db.engine import read_rows
from hub.db.models import (
    Classification,
    CreditDecision,
    CreditProfile,
    CustomerMetrics,
    GoldenRecord,
)
from hub.domain import (
    Customer,
    InteractionView,
    Page,
    SourceRecordRef,
    decode_cursor,
    encode_cursor,
    format_customer_id,
    maker_of,
)
from hub.errors import Conflict, Invalid, NotFound
from hub.policies import (
    Tier,
    assess,
    assess_request,
    default_credit_policy,
    effective_limit,
    utilization,
)
from hub.services import customers
from hub.services.customers import resolve_golden_id
from hub.services.events import audit
from hub.services.interactions import InteractionQuery, PageAlong, interactions_of
from hub.services.metrics import Metrics
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


def _credit_view(
    golden_id: int,
    profile: Sequence[Any],
    receivables: Decimal | None,
    now: datetime,
) -> CreditView:
    """A credit standing from the columns of ``_CREDIT_COLUMNS`` (in that order)."""
    (
        rating,
        recommended_limit,
        current_limit,
        settlement_terms,
        override_limit,
        override_expires_at,
        policy_version,
        inputs,
        updated_at,
    ) = profile
    limit, source = (None, None)
    if current_limit is not None or override_limit is not None:
        limit, source_enum = effective_limit(
            current_limit or Decimal(0), override_limit, override_expires_at, now
        )
        source = source_enum.value
    open_receivables = receivables or Decimal(0)
    return CreditView(
        golden_id=golden_id,
        rating=rating,
        recommended_limit=recommended_limit,
        current_limit=current_limit,
        effective_limit=limit,
        limit_source=source,
        settlement_terms=settlement_terms,
        open_receivables=open_receivables,
        utilization=utilization(open_receivables, limit) if limit is not None else None,
        override_limit=override_limit,
        override_expires_at=override_expires_at,
        policy_version=policy_version,
        inputs=inputs if inputs is not None else {},  # None: left out (``with_standing``)
        updated_at=updated_at,
    )


_CREDIT_COLUMNS = (
    "rating",
    "recommended_limit",
    "current_limit",
    "settlement_terms",
    "override_limit",
    "override_expires_at",
    "policy_version",
    "inputs",
    "updated_at",
)
# The columns of the metrics read along, in the order of Metrics' fields after
# ``golden_id`` (``standing_from`` builds one from them as they come).
_METRICS_COLUMNS = tuple(item.name for item in fields(Metrics) if item.name != "golden_id")
_CLASSIFICATION_COLUMNS = ("rule_set_version", *DIMENSION_COLUMNS, "explanations", "computed_at")

# Plain columns by position, no ORM entities: a profile or a page reads these
# for every customer it shows, and building mapped objects cost more than the
# query. Each table's key says whether its row exists; the labels keep them
# apart from the golden record's columns when both are read in one statement.
_STANDING_WIDTH = 3 + len(_METRICS_COLUMNS) + len(_CLASSIFICATION_COLUMNS) + len(_CREDIT_COLUMNS)
_C = 3 + len(_METRICS_COLUMNS)
_P = _C + len(_CLASSIFICATION_COLUMNS)


def with_standing(
    query: Select[Any],
    source: FromClause,
    golden_id: ColumnElement[int] | Mapped[int],
    *,
    with_reasons: bool = True,
) -> Select[Any]:
    """``query`` with the standing of the customer ``golden_id`` of its FROM ``source``
    added to its columns (read them with ``standing_from``).

    Without ``with_reasons`` the classification's rules and inputs and the credit's
    inputs are left out (NULL in their places; read as empty): a page that shows
    neither spares PostgreSQL sending, and the hub decoding, two JSON documents
    per customer.

    Each table is joined LATERAL, a lookup by key per row of ``query``: with
    plain joins PostgreSQL merged whole tables in key order up to the page, so
    a page deep in a listing read every row before it.
    """
    # LIMIT 1 (one row per key at most anyway) keeps the planner from flattening
    # the lookups back into joins.
    metrics = (
        select(CustomerMetrics).where(CustomerMetrics.golden_id == golden_id).limit(1).lateral("m")
    )
    classified = (
        select(Classification).where(Classification.golden_id == golden_id).limit(1).lateral("c")
    )
    credit = select(CreditProfile).where(CreditProfile.golden_id == golden_id).limit(1).lateral("p")
    return query.add_columns(
        metrics.c.golden_id.is_not(None).label("has_metrics"),
        classified.c.golden_id.is_not(None).label("has_classification"),
        credit.c.golden_id.is_not(None).label("has_credit"),
        *(metrics.c[name].label(f"metrics_{name}") for name in _METRICS_COLUMNS),
        *(
            _reason(classified, name, with_reasons, "classification")
            for name in _CLASSIFICATION_COLUMNS
        ),
        *(_reason(credit, name, with_reasons, "credit") for name in _CREDIT_COLUMNS),
    ).select_from(
        source.outerjoin(metrics, true()).outerjoin(classified, true()).outerjoin(credit, true())
    )


# The JSON columns of the standing that only explain it (see ``with_standing``).
_REASONS = frozenset({"explanations", "inputs"})


def _reason(table: FromClause, name: str, with_reasons: bool, prefix: str) -> Label[Any]:
    """The column ``name`` of ``table``, or NULL in its place when it explains the
    standing and ``with_reasons`` is off."""
    if not with_reasons and name in _REASONS:
        return null().label(f"{prefix}_{name}")
    return table.c[name].label(f"{prefix}_{name}")


@dataclass(frozen=True, slots=True)
class Standing:
    """What is derived about a customer: metrics, classification and credit (each may
    not exist yet)."""

    metrics: Metrics | None
    classification: list[ClassificationView]
    credit: CreditView | None


_make_metrics = maker_of(Metrics)


def standing_from(row: Sequence[Any], golden_id: int, now: datetime) -> Standing:
    """The standing in the last columns of a row of a ``with_standing`` query."""
    values = row[len(row) - _STANDING_WIDTH :]
    has_metrics, has_classification, has_credit = values[:3]
    metrics = _make_metrics((golden_id, *values[3:_C])) if has_metrics else None
    return Standing(
        metrics=metrics,
        classification=_classification_views(values[_C:_P]) if has_classification else [],
        credit=_credit_view(
            golden_id, values[_P:], metrics.open_receivables if metrics else None, now
        )
        if has_credit
        else None,
    )


_IDS = func.unnest(bindparam("ids", type_=ARRAY(BigInteger))).table_valued("id").render_derived("g")
_STANDING = with_standing(select(_IDS.c.id), _IDS, _IDS.c.id)


async def standing_of(
    session: AsyncSession, golden_ids: Sequence[int], *, now: datetime
) -> dict[int, Standing]:
    """Metrics, classification and credit standing of ``golden_ids`` (one query)."""
    if not golden_ids:
        return {}
    rows = await read_rows(session, _STANDING, {"ids": list(golden_ids)})
    return {row[0]: standing_from(row, row[0], now) for row in rows}


@functools.cache
def _customer_with_standing_and(columns: tuple[Label[Any], ...]) -> Select[Any]:
    """The customer, ``columns`` and its standing (last, for ``standing_from``); one
    statement per set of columns, built once."""
    query = customers.select_customers().where(GoldenRecord.id == bindparam("golden_id"))
    return with_standing(query.add_columns(*columns), GoldenRecord.__table__, GoldenRecord.id)


@dataclass(frozen=True, slots=True)
class Profile:
    """A customer with its standing and, when asked, a page of its interactions."""

    customer: Customer
    standing: Standing
    interactions: Page[InteractionView] | None


async def read_profile(
    session: AsyncSession,
    golden_id: int,
    *,
    now: datetime,
    interactions: InteractionQuery | None = None,
) -> Profile:
    """``customers.get_customer``, the customer's standing and the page of interactions
    ``interactions`` asks for, in one statement (one per merge followed).

    A merged-away id resolves to its survivor as ``get_customer`` does.
    """
    along = PageAlong.of(interactions, "golden_record.id") if interactions else None
    statement = _customer_with_standing_and(along.columns if along else ())
    parameters = along.parameters if along else {}
    current = golden_id
    for _ in range(customers.MAX_MERGE_CHAIN):
        rows = await read_rows(session, statement, {**parameters, "golden_id": current})
        row = rows[0] if rows else None
        if row is None:
            raise NotFound(f"no customer with id C{golden_id}", field="id")
        if row.status != "merged" or row.merged_into_id is None:
            return Profile(
                customer=customers.customer_from_row(row, requested_id=golden_id),
                standing=standing_from(row, current, now),
                interactions=along.page_from(row) if along else None,
            )
        current = row.merged_into_id
    raise RuntimeError(f"merge chain from golden record {golden_id} does not end")


@dataclass(frozen=True, slots=True)
class ListedProfiles:
    """A page of customers and, by golden id, what was read with them: their standing,
    their source records (None when not asked) and a page of their interactions."""

    page: Page[Customer]
    standing: dict[int, Standing]
    source_records: dict[int, list[SourceRecordRef]] | None
    interactions: dict[int, Page[InteractionView]]


@functools.cache
def _listing_with_standing(listing: Select[Any], with_reasons: bool) -> Select[Any]:
    """The listing statement with each customer's standing; built once per listing."""
    return with_standing(
        listing, GoldenRecord.__table__, GoldenRecord.id, with_reasons=with_reasons
    )


async def list_profiles(
    session: AsyncSession,
    *,
    first: int,
    after: str | None,
    wanted: customers.CustomerFilter,
    order: customers.CustomerOrder,
    with_total: bool,
    now: datetime,
    standing: bool,
    source_records: bool,
    interactions: InteractionQuery | None,
    lineage: bool = True,
    reasons: bool = True,
) -> ListedProfiles:
    """``customers.list_customers`` with each customer's standing (read by the listing's
    own statement), source records and page of interactions ``interactions`` (a
    statement each for the whole page), each only when asked; so are the customers'
    lineage and the reasons of their standing (see ``with_standing``).
    """
    listing = customers.Listing.of(
        first=first, after=after, wanted=wanted, order=order, with_lineage=lineage
    )
    statement = _listing_with_standing(listing.query, reasons) if standing else listing.query
    read = await read_rows(session, statement, listing.parameters)
    total = await customers.count_customers(session, wanted) if with_total else -1
    rows = read[:first]  # one more was read: whether a next page exists
    ids = [row.id for row in rows]
    refs = None
    if source_records:
        refs = await customers.source_records_of(session, ids) if ids else {}
    return ListedProfiles(
        page=listing.page(read, total),
        standing={row.id: standing_from(row, row.id, now) for row in rows} if standing else {},
        source_records=refs,
        interactions=await interactions_of(session, ids, interactions) if interactions else {},
    )


async def credit_of(
    session: AsyncSession, golden_ids: Sequence[int], *, now: datetime
) -> dict[int, CreditView]:
    """Credit standing of ``golden_ids`` (one query)."""
    found = await standing_of(session, golden_ids, now=now)
    return {g: s.credit for g, s in found.items() if s.credit is not None}


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
    return _classification_views([getattr(row, name) for name in _CLASSIFICATION_COLUMNS])


_DIMENSIONS_SORTED = tuple(
    (dimension, 1 + DIMENSION_COLUMNS.index(dimension)) for dimension in sorted(DIMENSION_COLUMNS)
)


_make_classification = maker_of(ClassificationView)


def _classification_views(columns: Sequence[Any]) -> list[ClassificationView]:
    """The views of the columns of ``_CLASSIFICATION_COLUMNS`` (in that order)."""
    version, explanations, computed_at = columns[0], columns[-2], columns[-1]
    if explanations is None:
        # Left out (see ``with_standing``): the rules and inputs read as empty.
        return [
            _make_classification((dimension, columns[position], "", {}, version, computed_at))
            for dimension, position in _DIMENSIONS_SORTED
        ]
    return [
        _make_classification(
            (
                dimension,
                columns[position],
                explanations[dimension]["rule"],
                explanations[dimension]["inputs"],
                version,
                computed_at,
            )
        )
        for dimension, position in _DIMENSIONS_SORTED
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
