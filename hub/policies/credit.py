"""Credit: a rating, settlement terms and a recommended limit from the customer's record.

Pure functions over :class:`~hub.policies.figures.CustomerFigures`; the policy
comes from the versioned file ``hub/rules/credit.toml``. Points per factor
(payment behaviour, receivables, value tier, relationship age, complaints) add
up to a rating; the rating gives settlement terms and the share of the
customer's purchases we finance. A limit-change request is re-assessed on the
same record; the advice goes to a credit officer, who decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from hub.errors import Invalid
from hub.policies.classification import Tier
from hub.policies.figures import CustomerFigures
from hub.policies.ruleset import Entry, invalid, load_toml, root, version_of

WHAT = "credit"
MONTHS_PER_YEAR = 12
CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")


class Rating(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    NR = "NR"


RATED = (Rating.A, Rating.B, Rating.C, Rating.D, Rating.E)


class SettlementTerms(StrEnum):
    """结算方式, the domain's settlement terms."""

    CASH_ON_DELIVERY = "cash_on_delivery"
    ONLINE_SETTLEMENT = "online_settlement"
    PAYMENT_ON_INVOICE = "payment_on_invoice"
    PAYMENT_WITHIN_1_MONTH = "payment_within_1_month"
    PAYMENT_WITHIN_2_MONTHS = "payment_within_2_months"
    PAYMENT_WITHIN_3_MONTHS = "payment_within_3_months"


class Factor(StrEnum):
    PAYMENT_DELAY = "payment_delay"
    RECEIVABLES_RATIO = "receivables_ratio"
    VALUE_TIER = "value_tier"
    RELATIONSHIP_YEARS = "relationship_years"
    OPEN_COMPLAINTS = "open_complaints"


# Factors measured on a scale (the others map a value to points directly), and
# those whose measure can be unknown, so the policy must say what that is worth.
BANDED = (
    Factor.PAYMENT_DELAY,
    Factor.RECEIVABLES_RATIO,
    Factor.RELATIONSHIP_YEARS,
    Factor.OPEN_COMPLAINTS,
)
MAY_BE_UNKNOWN = frozenset({Factor.PAYMENT_DELAY, Factor.RECEIVABLES_RATIO})


class BoundKind(StrEnum):
    UP_TO = "up_to"  # lower is better: days late, complaints
    AT_LEAST = "at_least"  # higher is better: years of relationship


class LimitSource(StrEnum):
    OVERRIDE = "override"
    CURRENT = "current"


class Recommendation(StrEnum):
    APPROVE = "approve"
    APPROVE_PARTIALLY = "approve_partially"
    REFER = "refer"
    REJECT = "reject"


# ── Policy ──────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Band:
    """Points for the values up to (or from) ``bound``; no bound: everything else."""

    points: int
    bound: Decimal | None


@dataclass(frozen=True, slots=True)
class BandedFactor:
    """A factor scored by the first band that holds for its measure."""

    factor: Factor
    kind: BoundKind
    bands: tuple[Band, ...]
    unknown_points: int | None = None

    def __post_init__(self) -> None:
        where = f"factors.{self.factor}"
        if not self.bands or self.bands[-1].bound is not None:
            raise invalid(WHAT, f"{where}.bands", "must end with a band without a bound")
        bounds: list[Decimal] = []
        for index, band in enumerate(self.bands[:-1]):
            if band.bound is None:
                raise invalid(WHAT, f"{where}.bands[{index}]", f"needs `{self.kind}`")
            bounds.append(band.bound)
        ordered = bounds == sorted(bounds, reverse=self.kind is BoundKind.AT_LEAST)
        if not ordered or len(set(bounds)) != len(bounds):
            direction = "rise" if self.kind is BoundKind.UP_TO else "fall"
            raise invalid(WHAT, f"{where}.bands", f"`{self.kind}` bounds must {direction} strictly")
        for index, band in enumerate(self.bands):
            if band.points < 0:
                raise invalid(WHAT, f"{where}.bands[{index}].points", "cannot be negative")
        if self.factor in MAY_BE_UNKNOWN and self.unknown_points is None:
            raise invalid(WHAT, f"{where}.unknown", "is missing")
        if self.unknown_points is not None and self.unknown_points < 0:
            raise invalid(WHAT, f"{where}.unknown", "cannot be negative")

    def band_for(self, measure: Decimal) -> tuple[Band, str]:
        """The band that holds for ``measure`` and how it reads (``≤ 7``)."""
        previous: Decimal | None = None
        for band in self.bands:
            if band.bound is None:
                break
            if self.kind is BoundKind.UP_TO and measure <= band.bound:
                return band, f"≤ {band.bound}"
            if self.kind is BoundKind.AT_LEAST and measure >= band.bound:
                return band, f"≥ {band.bound}"
            previous = band.bound
        sign = ">" if self.kind is BoundKind.UP_TO else "<"
        return self.bands[-1], f"{sign} {previous}" if previous is not None else "any"

    @property
    def most_points(self) -> int:
        return max([band.points for band in self.bands] + [self.unknown_points or 0])


@dataclass(frozen=True, slots=True)
class RatingRule:
    """What a rating earns: its lowest total, the share financed, the settlement terms."""

    rating: Rating
    min_points: int
    factor: Decimal
    settlement_terms: SettlementTerms

    def __post_init__(self) -> None:
        if self.factor < 0:
            raise invalid(WHAT, f"ratings.{self.rating}.factor", "cannot be negative")


@dataclass(frozen=True, slots=True)
class LimitRules:
    max_limit: Decimal
    round_to: Decimal

    def __post_init__(self) -> None:
        if self.max_limit <= 0:
            raise invalid(WHAT, "limit.max_limit", "must be positive")
        if self.round_to <= 0:
            raise invalid(WHAT, "limit.round_to", "must be positive")


@dataclass(frozen=True, slots=True)
class RequestRules:
    stretch: Decimal
    reject_ratings: frozenset[Rating]

    def __post_init__(self) -> None:
        if self.stretch < 1:
            raise invalid(WHAT, "request.stretch", f"is {self.stretch}; it must be at least 1")


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    """A parsed, validated credit policy file."""

    version: str
    banded: Mapping[Factor, BandedFactor]
    tier_points: Mapping[Tier, int]
    ratings: Mapping[Rating, RatingRule]
    not_rated_terms: SettlementTerms
    term_months: Mapping[SettlementTerms, Decimal]
    limit: LimitRules
    request: RequestRules
    source_text: str = field(repr=False, default="")

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise invalid(WHAT, "version", "must be a non-empty text")
        for factor in BANDED:
            if factor not in self.banded:
                raise invalid(WHAT, f"factors.{factor}", "is missing")
        for tier in Tier:
            if tier not in self.tier_points:
                raise invalid(WHAT, f"factors.value_tier.points.{tier}", "is missing")
            if self.tier_points[tier] < 0:
                raise invalid(WHAT, f"factors.value_tier.points.{tier}", "cannot be negative")
        for terms in SettlementTerms:
            if terms not in self.term_months:
                raise invalid(WHAT, f"settlement_terms.{terms}", "is missing")
            if self.term_months[terms] < 0:
                raise invalid(WHAT, f"settlement_terms.{terms}", "cannot be negative")
        self._check_ratings()

    def _check_ratings(self) -> None:
        if Rating.NR in self.ratings:
            raise invalid(WHAT, "ratings.NR", "is given to customers without transactions")
        for rating in RATED:
            if rating not in self.ratings:
                raise invalid(WHAT, f"ratings.{rating}", "is missing")
        for better, worse in pairwise(RATED):
            if self.ratings[worse].min_points >= self.ratings[better].min_points:
                raise invalid(
                    WHAT,
                    f"ratings.{worse}.min_points",
                    f"is {self.ratings[worse].min_points}; it must be below "
                    f"{better}'s {self.ratings[better].min_points}",
                )
        if self.ratings[Rating.E].min_points != 0:
            raise invalid(WHAT, "ratings.E.min_points", "must be 0, so every total is rated")

    def rating_for(self, total_points: int) -> Rating:
        """The best rating whose minimum the total reaches."""
        for rating in RATED:
            if total_points >= self.ratings[rating].min_points:
                return rating
        return Rating.E


def parse_credit_policy(text: str) -> CreditPolicy:
    """A policy from the TOML text of a credit file; errors name the offending entry."""
    document = root(load_toml(text, WHAT), WHAT)
    document.allow(
        "version", "factors", "ratings", "not_rated", "settlement_terms", "limit", "request"
    )
    factors = document.table("factors")
    known = {factor.value for factor in Factor}
    for name in factors.data:
        if name not in known:
            raise factors.fail(name, f"is not a factor; factors are {', '.join(sorted(known))}")
    value_tier = factors.table(Factor.VALUE_TIER)
    value_tier.allow("points")
    tier_table = value_tier.table("points")
    ratings = document.table("ratings")
    for name in ratings.data:
        ratings.parse_choice(name, name, Rating)
    terms = document.table("settlement_terms")
    not_rated = document.table("not_rated")
    not_rated.allow("settlement_terms")
    limit = document.table("limit")
    limit.allow("max_limit", "round_to")
    request = document.table("request")
    request.allow("stretch", "reject_ratings")
    return CreditPolicy(
        version=version_of(document),
        banded={factor: _banded(factors, factor) for factor in BANDED if factors.has(factor)},
        tier_points={
            tier_table.parse_choice(name, name, Tier): tier_table.integer(name)
            for name in tier_table.data
        },
        ratings={
            Rating(name): _rating_rule(ratings.table(name), Rating(name)) for name in ratings.data
        },
        not_rated_terms=not_rated.choice("settlement_terms", SettlementTerms),
        term_months={
            terms.parse_choice(name, name, SettlementTerms): terms.decimal(name)
            for name in terms.data
        },
        limit=LimitRules(limit.decimal("max_limit"), limit.decimal("round_to")),
        request=RequestRules(
            stretch=request.decimal("stretch"),
            reject_ratings=frozenset(request.choices("reject_ratings", Rating)),
        ),
        source_text=text,
    )


def _banded(factors: Entry, factor: Factor) -> BandedFactor:
    entry = factors.table(factor)
    entry.allow("bands", "unknown")
    bands = entry.tables("bands")
    for band in bands:
        band.allow("points", *(kind.value for kind in BoundKind))
    kinds = {kind for band in bands for kind in BoundKind if band.has(kind)}
    if len(kinds) > 1:
        raise entry.fail("bands", "must use either `up_to` or `at_least`, not both")
    kind = kinds.pop() if kinds else BoundKind.UP_TO
    return BandedFactor(
        factor=factor,
        kind=kind,
        bands=tuple(
            Band(band.integer("points"), band.decimal(kind) if band.has(kind) else None)
            for band in bands
        ),
        unknown_points=entry.integer("unknown") if entry.has("unknown") else None,
    )


def _rating_rule(entry: Entry, rating: Rating) -> RatingRule:
    entry.allow("min_points", "factor", "settlement_terms")
    return RatingRule(
        rating=rating,
        min_points=entry.integer("min_points"),
        factor=entry.decimal("factor"),
        settlement_terms=entry.choice("settlement_terms", SettlementTerms),
    )


@cache
def default_credit_policy() -> CreditPolicy:
    """The credit policy file shipped with the hub."""
    text = resources.files("hub.rules").joinpath("credit.toml").read_text(encoding="utf-8")
    return parse_credit_policy(text)


# ── Assessing a customer ───────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class CreditAssessment:
    """A customer's rating, the points behind it, its terms and recommended limit."""

    rating: Rating
    points: dict[str, int]
    recommended_limit: Decimal
    settlement_terms: SettlementTerms
    inputs: dict[str, Any]
    policy_version: str
    reasons: list[str]
    term_months: Decimal

    @property
    def total_points(self) -> int:
        return sum(self.points.values())


@dataclass(frozen=True, slots=True)
class _Score:
    factor: Factor
    points: int
    reason: str


def assess(
    figures: CustomerFigures, tier: Tier, policy: CreditPolicy, now: datetime
) -> CreditAssessment:
    """The credit assessment of one customer at ``now``, with a reason per step."""
    inputs = _inputs(figures, tier, now)
    if not figures.has_transactions or figures.first_transaction_at is None:
        return _not_rated(inputs, policy)
    ratio = receivables_ratio(figures.open_receivables, figures.revenue_12m)
    years = full_years(figures.first_transaction_at, now)
    inputs["receivables_ratio"] = None if ratio is None else str(ratio.quantize(RATIO_PLACES))
    inputs["relationship_years"] = years
    scores = [
        _score_payment_delay(figures, policy),
        _score_receivables(figures, ratio, policy),
        _score_tier(tier, policy),
        _score_relationship(years, policy),
        _score_complaints(figures, policy),
    ]
    total = sum(score.points for score in scores)
    rating = policy.rating_for(total)
    rule = policy.ratings[rating]
    limit, limit_reasons = recommended_limit(figures.revenue_12m, rule, policy)
    reasons = [
        *(score.reason for score in scores),
        f"{total} points ≥ {rating} minimum {rule.min_points} → rating {rating}",
        *limit_reasons,
    ]
    return CreditAssessment(
        rating=rating,
        points={score.factor.value: score.points for score in scores},
        recommended_limit=limit,
        settlement_terms=rule.settlement_terms,
        inputs=inputs,
        policy_version=policy.version,
        reasons=reasons,
        term_months=policy.term_months[rule.settlement_terms],
    )


def _not_rated(inputs: dict[str, Any], policy: CreditPolicy) -> CreditAssessment:
    terms = policy.not_rated_terms
    return CreditAssessment(
        rating=Rating.NR,
        points={},
        recommended_limit=Decimal(0).quantize(CENT),
        settlement_terms=terms,
        inputs=inputs,
        policy_version=policy.version,
        reasons=[f"no transaction yet: not rated, {terms}, no credit"],
        term_months=policy.term_months[terms],
    )


def _inputs(figures: CustomerFigures, tier: Tier, now: datetime) -> dict[str, Any]:
    first = figures.first_transaction_at
    return {
        "transaction_count": figures.transaction_count,
        "average_days_late": figures.average_days_late,
        "open_receivables": str(figures.open_receivables),
        "revenue_12m": str(figures.revenue_12m),
        "tier": tier.value,
        "first_transaction_at": None if first is None else first.isoformat(),
        "open_complaints": figures.open_complaints,
        "as_of": now.isoformat(),
    }


def _score_payment_delay(figures: CustomerFigures, policy: CreditPolicy) -> _Score:
    factor = policy.banded[Factor.PAYMENT_DELAY]
    late = figures.average_days_late
    if late is None:
        points = factor.unknown_points or 0
        return _Score(factor.factor, points, f"payment: nothing paid yet → {points} points")
    # repr() is the float's shortest exact spelling: 7.0 stays 7.0, not 7.00000000001.
    band, reads = factor.band_for(Decimal(repr(late)))
    return _Score(
        factor.factor,
        band.points,
        f"payment: average {late:g} days late, {reads} → {band.points} points",
    )


def _score_receivables(
    figures: CustomerFigures, ratio: Decimal | None, policy: CreditPolicy
) -> _Score:
    factor = policy.banded[Factor.RECEIVABLES_RATIO]
    owed = f"{figures.open_receivables:,.2f}"
    if ratio is None:
        points = factor.unknown_points or 0
        reason = f"receivables: {owed} open without revenue in 12 months → {points} points"
        return _Score(factor.factor, points, reason)
    band, reads = factor.band_for(ratio)
    reason = (
        f"receivables: {owed} open ÷ revenue_12m {figures.revenue_12m:,.2f} = "
        f"{ratio.quantize(RATIO_PLACES)}, {reads} → {band.points} points"
    )
    return _Score(factor.factor, band.points, reason)


def receivables_ratio(open_receivables: Decimal, revenue_12m: Decimal) -> Decimal | None:
    """Open receivables ÷ 12-month revenue; ``None`` when money is owed without revenue."""
    if open_receivables <= 0:
        return Decimal(0)
    if revenue_12m <= 0:
        return None
    return open_receivables / revenue_12m


def _score_tier(tier: Tier, policy: CreditPolicy) -> _Score:
    points = policy.tier_points[tier]
    return _Score(Factor.VALUE_TIER, points, f"value: tier {tier} → {points} points")


def _score_relationship(years: int, policy: CreditPolicy) -> _Score:
    factor = policy.banded[Factor.RELATIONSHIP_YEARS]
    band, reads = factor.band_for(Decimal(years))
    return _Score(
        factor.factor,
        band.points,
        f"relationship: {years} full year(s) since the first transaction, {reads} "
        f"→ {band.points} points",
    )


def full_years(since: datetime, now: datetime) -> int:
    """Whole years from ``since`` to ``now``: the anniversary itself completes a year."""
    since = since.astimezone(now.tzinfo) if now.tzinfo is not None else since
    years = now.year - since.year
    if (now.month, now.day, now.time()) < (since.month, since.day, since.time()):
        years -= 1
    return max(years, 0)


def _score_complaints(figures: CustomerFigures, policy: CreditPolicy) -> _Score:
    factor = policy.banded[Factor.OPEN_COMPLAINTS]
    band, reads = factor.band_for(Decimal(figures.open_complaints))
    return _Score(
        factor.factor,
        band.points,
        f"complaints: {figures.open_complaints} open, {reads} → {band.points} points",
    )


def recommended_limit(
    revenue_12m: Decimal, rule: RatingRule, policy: CreditPolicy
) -> tuple[Decimal, list[str]]:
    """factor × average monthly purchases × term months, capped, rounded down; and why."""
    months = policy.term_months[rule.settlement_terms]
    purchases = max(revenue_12m, Decimal(0))
    # Divide last: 1,200,000 ÷ 12 × 12 must stay exact, not 1,199,999.99…
    raw = rule.factor * purchases * months / MONTHS_PER_YEAR
    monthly = purchases / MONTHS_PER_YEAR
    reasons = [
        f"limit: factor {rule.factor} × average monthly purchases {monthly:,.2f} × "
        f"{months} months ({rule.settlement_terms}) = {raw:,.2f}"
    ]
    cap = policy.limit.max_limit
    if raw > cap:
        raw = cap
        reasons.append(f"capped at max_limit {cap:,.2f}")
    step = policy.limit.round_to
    limit = ((raw / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(CENT)
    reasons.append(f"rounded down to a multiple of {step:,.2f} → {limit:,.2f}")
    return limit, reasons


# ── Limits in force ─────────────────────────────────────────────────────────


def effective_limit(
    current_limit: Decimal,
    override_limit: Decimal | None,
    override_expires_at: datetime | None,
    now: datetime,
) -> tuple[Decimal, LimitSource]:
    """The limit in force: a manual override until it expires, else the current limit.

    The override holds up to, not including, its expiry; one without an expiry
    holds until it is withdrawn.
    """
    if override_limit is not None and (override_expires_at is None or now < override_expires_at):
        return override_limit, LimitSource.OVERRIDE
    return current_limit, LimitSource.CURRENT


def utilization(open_receivables: Decimal, limit: Decimal) -> Decimal | None:
    """Open receivables ÷ limit (1 = fully used); ``None`` when no credit is granted."""
    if limit <= 0:
        return None
    owed = max(open_receivables, Decimal(0))
    return (owed / limit).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


# ── Limit change requests ──────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class RequestAssessment:
    """The advice stored with a limit-change request; the credit officer decides."""

    recommendation: Recommendation
    supported_limit: Decimal
    reasons: list[str]


def assess_request(
    assessment: CreditAssessment,
    requested_limit: Decimal,
    current_limit: Decimal | None,
    policy: CreditPolicy,
) -> RequestAssessment:
    """Advice on a requested limit, re-assessed on the customer's current record.

    Up to the recommended limit: approve. Up to ``stretch`` × recommended: refer
    to the officer. Beyond: approve partially at the recommended limit, or
    reject when the rating is one the policy does not stretch for or the record
    supports no increase.
    """
    if requested_limit < 0:
        raise Invalid("a credit limit cannot be negative", field="requested_limit")
    current = current_limit if current_limit is not None else Decimal(0)
    recommendation, supported, why = _advise(assessment, requested_limit, current, policy)
    record = (
        f"rating {assessment.rating} ({assessment.total_points} points), recommended "
        f"{assessment.recommended_limit:,.2f}, policy {assessment.policy_version}"
    )
    reasons = [why, record]
    if recommendation is not Recommendation.APPROVE:
        # The officer decides: give the whole assessment, factor by factor.
        reasons.extend(assessment.reasons)
    return RequestAssessment(recommendation, supported, reasons)


def _advise(
    assessment: CreditAssessment, requested: Decimal, current: Decimal, policy: CreditPolicy
) -> tuple[Recommendation, Decimal, str]:
    recommended = assessment.recommended_limit
    stretch = policy.request.stretch
    stretched = recommended * stretch
    asked = f"requested {requested:,.2f}"
    if requested <= current:
        return Recommendation.APPROVE, requested, f"{asked} ≤ current {current:,.2f}"
    if requested <= recommended:
        return (
            Recommendation.APPROVE,
            requested,
            f"{asked} ≤ recommended {recommended:,.2f}: the record supports it",
        )
    if requested <= stretched:
        return (
            Recommendation.REFER,
            recommended,
            f"{asked} > recommended {recommended:,.2f} but ≤ {stretch} × recommended "
            f"= {stretched:,.2f}: a credit officer decides",
        )
    beyond = f"{asked} > {stretch} × recommended = {stretched:,.2f}"
    if assessment.rating in policy.request.reject_ratings:
        return (
            Recommendation.REJECT,
            current,
            f"{beyond}, and rating {assessment.rating} is not stretched",
        )
    if recommended <= current:
        return (
            Recommendation.REJECT,
            current,
            f"{beyond}, and the record supports no increase over current {current:,.2f}",
        )
    return (
        Recommendation.APPROVE_PARTIALLY,
        recommended,
        f"{beyond}: approve the recommended {recommended:,.2f}",
    )
