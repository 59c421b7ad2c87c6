"""Credit policy: points bands, ratings, limits, overrides, utilization and limit requests."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from hub.errors import Invalid
from hub.policies import (
    CreditAssessment,
    CustomerFigures,
    LimitSource,
    Rating,
    Recommendation,
    SettlementTerms,
    Tier,
    assess,
    assess_request,
    default_credit_policy,
    effective_limit,
    parse_credit_policy,
    utilization,
)
from hub.policies.credit import full_years

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
POLICY = default_credit_policy()
CHINA = timezone(timedelta(hours=8))


def years_ago(years: int, *, days: int = 0) -> datetime:
    return NOW.replace(year=NOW.year - years) + timedelta(days=days)


def figures(**changes: Any) -> CustomerFigures:
    """A model customer: six years of business, pays on time, nothing owed or disputed."""
    base = CustomerFigures(
        golden_id=42,
        party_type="organization",
        ownership="private",
        category="key",
        region="华北",
        industry="electronics",
        transaction_count=60,
        transaction_amount=Decimal("7000000.00"),
        revenue_12m=Decimal("1200000.00"),
        first_transaction_at=years_ago(6),
        last_transaction_at=NOW - timedelta(days=10),
        last_contact_at=NOW - timedelta(days=5),
        average_days_late=0.0,
        open_complaints=0,
        open_receivables=Decimal("0.00"),
        close_requested_at=None,
    )
    return replace(base, **changes)


def assessed(tier: Tier = Tier.KEY, **changes: Any) -> CreditAssessment:
    return assess(figures(**changes), tier, POLICY, NOW)


def policy_with(old: str, new: str) -> str:
    text = POLICY.source_text
    assert old in text, f"the default policy no longer contains {old!r}"
    return text.replace(old, new, 1)


# ── Points per factor ───────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("days_late", "points"),
    [
        (None, 15),  # nothing paid yet
        (-2.0, 30),  # early
        (0.0, 30),
        (0.5, 25),
        (7.0, 25),
        (7.01, 18),
        (15.0, 18),
        (15.5, 10),
        (30.0, 10),
        (60.0, 4),
        (60.01, 0),
    ],
)
def test_payment_delay_points_by_band(days_late: float | None, points: int) -> None:
    assert assessed(average_days_late=days_late).points["payment_delay"] == points


@pytest.mark.parametrize(
    ("receivables", "revenue", "points"),
    [
        ("0.00", "1000000.00", 20),
        ("100000.00", "1000000.00", 20),  # exactly 10% of a year's business
        ("100000.01", "1000000.00", 15),
        ("250000.00", "1000000.00", 15),
        ("500000.00", "1000000.00", 8),
        ("1000000.00", "1000000.00", 3),
        ("1000000.01", "1000000.00", 0),
        ("5000.00", "0.00", 0),  # owed without any revenue in 12 months
        ("0.00", "0.00", 20),  # nothing bought lately, nothing owed
        ("-300.00", "1000000.00", 20),  # a credit balance owes nothing
    ],
)
def test_receivables_points_by_share_of_a_years_revenue(
    receivables: str, revenue: str, points: int
) -> None:
    found = assessed(open_receivables=Decimal(receivables), revenue_12m=Decimal(revenue))
    assert found.points["receivables_ratio"] == points


@pytest.mark.parametrize(
    ("tier", "points"), [(Tier.KEY, 20), (Tier.REGULAR, 12), (Tier.OCCASIONAL, 5)]
)
def test_value_points_follow_the_tier(tier: Tier, points: int) -> None:
    assert assessed(tier).points["value_tier"] == points


@pytest.mark.parametrize(
    ("first", "points"),
    [
        (NOW - timedelta(days=3), 3),
        (years_ago(1, days=1), 3),  # one day before the first anniversary
        (years_ago(1), 8),  # the anniversary completes the year
        (years_ago(3, days=1), 8),
        (years_ago(3), 12),
        (years_ago(5, days=1), 12),
        (years_ago(5), 15),
    ],
)
def test_relationship_points_count_full_years(first: datetime, points: int) -> None:
    assert assessed(first_transaction_at=first).points["relationship_years"] == points


def test_full_years_are_counted_in_the_time_zone_of_now() -> None:
    # 2025-11-26 01:00 in Beijing is still 2025-11-25 in UTC: a full year on 2026-11-25 UTC.
    first = datetime(2025, 11, 26, 1, 0, tzinfo=CHINA)
    assert full_years(first, datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == 1
    assert full_years(first, datetime(2026, 11, 25, 16, 59, tzinfo=UTC)) == 0


@pytest.mark.parametrize(("complaints", "points"), [(0, 15), (1, 10), (2, 5), (3, 5), (4, 0)])
def test_open_complaints_points_by_band(complaints: int, points: int) -> None:
    assert assessed(open_complaints=complaints).points["open_complaints"] == points


# ── Rating ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("total", "rating"),
    [
        (100, Rating.A),
        (85, Rating.A),
        (84, Rating.B),
        (70, Rating.B),
        (69, Rating.C),
        (55, Rating.C),
        (54, Rating.D),
        (40, Rating.D),
        (39, Rating.E),
        (0, Rating.E),
    ],
)
def test_a_rating_starts_exactly_at_its_minimum_points(total: int, rating: Rating) -> None:
    assert POLICY.rating_for(total) is rating


def test_a_model_customer_is_rated_a_with_points_per_factor_and_reasons() -> None:
    found = assessed()
    assert found.rating is Rating.A
    assert found.points == {
        "payment_delay": 30,
        "receivables_ratio": 20,
        "value_tier": 20,
        "relationship_years": 15,
        "open_complaints": 15,
    }
    assert found.total_points == 100
    assert found.settlement_terms is SettlementTerms.PAYMENT_WITHIN_3_MONTHS
    assert found.term_months == 3
    assert found.policy_version == POLICY.version
    assert "100 points ≥ A minimum 85 → rating A" in found.reasons
    assert json.loads(json.dumps(found.inputs))["revenue_12m"] == "1200000.00"


def test_a_customer_without_transactions_is_not_rated_and_pays_cash() -> None:
    found = assessed(
        Tier.OCCASIONAL,
        transaction_count=0,
        revenue_12m=Decimal(0),
        first_transaction_at=None,
        last_transaction_at=None,
    )
    assert found.rating is Rating.NR
    assert found.points == {}
    assert found.recommended_limit == Decimal("0.00")
    assert found.settlement_terms is SettlementTerms.CASH_ON_DELIVERY


def test_a_poor_payer_is_rated_e_and_gets_no_credit() -> None:
    found = assessed(
        Tier.OCCASIONAL,
        average_days_late=75.0,
        open_receivables=Decimal("2000000.00"),
        open_complaints=5,
        first_transaction_at=NOW - timedelta(days=200),
    )
    assert found.rating is Rating.E
    assert found.recommended_limit == Decimal("0.00")
    assert found.settlement_terms is SettlementTerms.CASH_ON_DELIVERY


def weak() -> CreditAssessment:
    """Rated D: 0 + 20 + 5 + 15 + 5 = 45 points."""
    return assessed(Tier.OCCASIONAL, average_days_late=90.0, open_complaints=2)


@pytest.mark.parametrize(
    ("tier", "days_late", "rating", "terms"),
    [
        (Tier.KEY, 0.0, Rating.A, SettlementTerms.PAYMENT_WITHIN_3_MONTHS),
        (Tier.REGULAR, 10.0, Rating.B, SettlementTerms.PAYMENT_WITHIN_2_MONTHS),  # 18+20+12+15+15
        (Tier.OCCASIONAL, 20.0, Rating.C, SettlementTerms.PAYMENT_WITHIN_1_MONTH),  # 10+20+5+15+15
    ],
)
def test_settlement_terms_follow_the_rating(
    tier: Tier, days_late: float, rating: Rating, terms: SettlementTerms
) -> None:
    found = assessed(tier, average_days_late=days_late)
    assert (found.rating, found.settlement_terms) == (rating, terms)


def test_rating_d_settles_on_invoice_with_a_small_limit() -> None:
    found = weak()
    assert found.rating is Rating.D
    assert found.settlement_terms is SettlementTerms.PAYMENT_ON_INVOICE
    # 0.5 × 100,000 × 0.5 month = 25,000 → 20,000
    assert found.recommended_limit == Decimal("20000.00")


# ── Recommended limit ───────────────────────────────────────────────────────


def test_limit_is_factor_times_monthly_purchases_times_term_months_exactly() -> None:
    # A: 1.0 × (1,200,000 ÷ 12) × 3 months = 300,000 exactly, not 299,999.99…
    assert assessed().recommended_limit == Decimal("300000.00")


def test_limit_for_rating_b_uses_its_factor_and_term() -> None:
    # B: 0.8 × 100,000 × 2 months = 160,000
    found = assessed(Tier.REGULAR, average_days_late=10.0)
    assert found.rating is Rating.B
    assert found.recommended_limit == Decimal("160000.00")


def test_limit_is_rounded_down_to_the_step() -> None:
    # 1.0 × (1,250,000 ÷ 12) × 3 = 312,500 → 310,000
    found = assessed(revenue_12m=Decimal("1250000.00"))
    assert found.recommended_limit == Decimal("310000.00")
    assert "rounded down to a multiple of 10,000.00 → 310,000.00" in found.reasons


@pytest.mark.parametrize(
    ("revenue", "limit", "capped"),
    [
        ("20000000.00", "5000000.00", False),  # 1.0 × 20,000,000 ÷ 12 × 3 = exactly the cap
        ("20000040.00", "5000000.00", True),
        ("90000000.00", "5000000.00", True),
    ],
)
def test_limit_is_capped_at_the_maximum(revenue: str, limit: str, capped: bool) -> None:
    found = assessed(revenue_12m=Decimal(revenue))
    assert found.recommended_limit == Decimal(limit)
    assert ("capped at max_limit 5,000,000.00" in found.reasons) is capped


def test_limits_are_exact_decimals() -> None:
    found = assessed(revenue_12m=Decimal("1000000.00"))
    assert isinstance(found.recommended_limit, Decimal)
    assert found.recommended_limit == Decimal("250000.00")  # 250,000 exactly


# ── Limit in force: overrides ───────────────────────────────────────────────

CURRENT = Decimal("300000.00")
OVERRIDE = Decimal("800000.00")


def test_a_manual_override_applies_until_its_expiry() -> None:
    expires = NOW + timedelta(days=30)
    assert effective_limit(CURRENT, OVERRIDE, expires, NOW) == (OVERRIDE, LimitSource.OVERRIDE)
    assert effective_limit(CURRENT, OVERRIDE, expires, expires - timedelta(seconds=1)) == (
        OVERRIDE,
        LimitSource.OVERRIDE,
    )


def test_an_expired_override_falls_back_to_the_policy_limit() -> None:
    expires = NOW - timedelta(days=1)
    assert effective_limit(CURRENT, OVERRIDE, expires, NOW) == (CURRENT, LimitSource.CURRENT)


def test_an_override_has_expired_at_its_expiry_instant() -> None:
    assert effective_limit(CURRENT, OVERRIDE, NOW, NOW) == (CURRENT, LimitSource.CURRENT)


def test_without_an_override_the_current_limit_applies() -> None:
    assert effective_limit(CURRENT, None, None, NOW) == (CURRENT, LimitSource.CURRENT)


def test_an_override_without_expiry_holds_until_withdrawn() -> None:
    assert effective_limit(CURRENT, OVERRIDE, None, NOW) == (OVERRIDE, LimitSource.OVERRIDE)


# ── Utilization ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("receivables", "limit", "used"),
    [
        ("50000.00", "200000.00", "0.2500"),
        ("0.00", "200000.00", "0.0000"),
        ("200000.00", "200000.00", "1.0000"),
        ("250000.00", "200000.00", "1.2500"),  # over the limit
        ("100000.00", "300000.00", "0.3333"),
        ("-500.00", "200000.00", "0.0000"),  # a credit balance uses nothing
    ],
)
def test_utilization_is_open_receivables_over_the_limit(
    receivables: str, limit: str, used: str
) -> None:
    assert utilization(Decimal(receivables), Decimal(limit)) == Decimal(used)


def test_utilization_without_a_limit_is_undefined() -> None:
    assert utilization(Decimal("5000.00"), Decimal("0.00")) is None
    assert utilization(Decimal("0.00"), Decimal("0")) is None


# ── Limit change requests ───────────────────────────────────────────────────
# The model customer is rated A with a recommended limit of 300,000; stretch 1.2 → 360,000.


def test_a_request_up_to_the_recommended_limit_is_approved() -> None:
    advice = assess_request(assessed(), Decimal("300000.00"), Decimal("100000.00"), POLICY)
    assert advice.recommendation is Recommendation.APPROVE
    assert advice.supported_limit == Decimal("300000.00")


def test_a_request_within_the_stretch_is_referred_to_the_officer_with_the_record() -> None:
    found = assessed()
    advice = assess_request(found, Decimal("360000.00"), Decimal("100000.00"), POLICY)
    assert advice.recommendation is Recommendation.REFER
    assert advice.supported_limit == Decimal("300000.00")
    assert "a credit officer decides" in advice.reasons[0]
    assert set(found.reasons) <= set(advice.reasons)


def test_a_request_beyond_the_stretch_is_approved_partially_at_the_recommended_limit() -> None:
    advice = assess_request(assessed(), Decimal("360000.01"), Decimal("100000.00"), POLICY)
    assert advice.recommendation is Recommendation.APPROVE_PARTIALLY
    assert advice.supported_limit == Decimal("300000.00")


def test_a_request_beyond_the_stretch_with_a_weak_rating_is_rejected() -> None:
    advice = assess_request(weak(), Decimal("40000.00"), Decimal("10000.00"), POLICY)
    assert advice.recommendation is Recommendation.REJECT
    assert advice.supported_limit == Decimal("10000.00")
    assert "rating D" in advice.reasons[0]


def test_a_weak_rating_within_the_stretch_still_goes_to_the_officer() -> None:
    advice = assess_request(weak(), Decimal("20000.01"), None, POLICY)
    assert advice.recommendation is Recommendation.REFER


def test_a_customer_without_transactions_gets_no_credit_on_request() -> None:
    unrated = assessed(
        Tier.OCCASIONAL,
        transaction_count=0,
        revenue_12m=Decimal(0),
        first_transaction_at=None,
        last_transaction_at=None,
    )
    advice = assess_request(unrated, Decimal("50000.00"), None, POLICY)
    assert advice.recommendation is Recommendation.REJECT
    assert advice.supported_limit == Decimal(0)


def test_a_lower_limit_than_the_current_one_is_approved() -> None:
    advice = assess_request(assessed(), Decimal("50000.00"), Decimal("400000.00"), POLICY)
    assert advice.recommendation is Recommendation.APPROVE
    assert advice.supported_limit == Decimal("50000.00")


def test_an_increase_the_record_does_not_support_is_rejected_keeping_the_current_limit() -> None:
    advice = assess_request(assessed(), Decimal("900000.00"), Decimal("400000.00"), POLICY)
    assert advice.recommendation is Recommendation.REJECT
    assert advice.supported_limit == Decimal("400000.00")
    assert "supports no increase" in advice.reasons[0]


def test_a_grown_customer_is_re_assessed_on_its_record_not_refused_by_a_fixed_rule() -> None:
    request, current = Decimal("600000.00"), Decimal("300000.00")
    last_year = assess_request(assessed(), request, current, POLICY)
    grown = assess_request(assessed(revenue_12m=Decimal("2400000.00")), request, current, POLICY)
    assert last_year.recommendation is Recommendation.REJECT
    assert grown.recommendation is Recommendation.APPROVE
    assert grown.supported_limit == request


def test_a_negative_request_is_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        assess_request(assessed(), Decimal("-1"), None, POLICY)
    assert caught.value.field == "requested_limit"


# ── The policy file ─────────────────────────────────────────────────────────


def test_the_shipped_policy_is_valid_versioned_and_scores_at_most_100() -> None:
    assert POLICY.version
    assert parse_credit_policy(POLICY.source_text) == POLICY
    best = sum(f.most_points for f in POLICY.banded.values()) + max(POLICY.tier_points.values())
    assert best == 100


@pytest.mark.parametrize(
    ("old", "new", "entry"),
    [
        ("[ratings.C]\nmin_points = 55", "[ratings.C]\nmin_points = 75", "ratings.C.min_points"),
        ("[ratings.E]\nmin_points = 0", "[ratings.E]\nmin_points = 10", "ratings.E.min_points"),
        ("[ratings.E]", "[ratings.F]", "ratings.F"),
        (
            'settlement_terms = "payment_within_2_months"',
            'settlement_terms = "barter"',
            "ratings.B.settlement_terms",
        ),
        ("online_settlement = 0 ", "online_payment = 0 ", "settlement_terms.online_payment"),
        ("[factors.open_complaints]", "[factors.loyalty]", "factors.loyalty"),
        (
            "{ up_to = 7, points = 25 }",
            "{ up_to = 70, points = 25 }",
            "factors.payment_delay.bands",
        ),
        (
            "{ at_least = 3, points = 12 }",
            "{ up_to = 3, points = 12 }",
            "factors.relationship_years",
        ),
        (
            "{ points = 0 },                # more",
            "{ up_to = 90, points = 0 },    # more",
            "payment_delay.bands",
        ),
        ("{ up_to = 0, points = 30 }", "{ up_to = 0, points = -30 }", "bands[0].points"),
        ("{ up_to = 0, points = 30 }", "{ up_to = 0, point = 30 }", "bands[0].point"),
        ("unknown = 15", "", "factors.payment_delay.unknown"),
        ("OCCASIONAL = 5", "", "factors.value_tier.points.OCCASIONAL"),
        ("max_limit = 5000000", "max_limit = 0", "limit.max_limit"),
        ("round_to = 10000", "round_to = -1", "limit.round_to"),
        ("stretch = 1.2", "stretch = 0.9", "request.stretch"),
        ('reject_ratings = ["D"', 'reject_ratings = ["X"', "request.reject_ratings[0]"),
        ("[limit]", "[limits]", "limits"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_entry(old: str, new: str, entry: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_credit_policy(policy_with(old, new))
    assert entry in caught.value.message
    assert caught.value.message.startswith("credit rules:")


def test_a_missing_settlement_term_is_named() -> None:
    with pytest.raises(Invalid, match=r"settlement_terms\.online_settlement is missing"):
        parse_credit_policy(
            policy_with("online_settlement = 0          # paid online when the order is placed", "")
        )


def test_a_missing_factor_is_named() -> None:
    text = POLICY.source_text
    start, end = text.index("[factors.open_complaints]"), text.index("# ── Ratings")
    with pytest.raises(Invalid, match=r"factors\.open_complaints is missing"):
        parse_credit_policy(text[:start] + text[end:])
