"""Classification policy: every rule's boundaries, the mapping tables, and the rules file."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.errors import Invalid
from hub.policies import (
    Category,
    ClassificationResult,
    ContactStatus,
    CustomerFigures,
    Dimension,
    Lifecycle,
    Nature,
    Tier,
    TierCutoffs,
    classify,
    default_classification_rules,
    lifecycle_of,
    parse_classification_rules,
    tier_cutoffs,
    tier_of,
)

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
RULES = default_classification_rules()
CUTOFFS = TierCutoffs(
    key_min_revenue=Decimal("800000.00"),
    regular_min_revenue=Decimal("100000.00"),
    customers=1000,
    total_revenue=Decimal("90000000.00"),
)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def figures(**changes: Any) -> CustomerFigures:
    """An active regular private company in 华东, contacted last week."""
    base = CustomerFigures(
        golden_id=7,
        party_type="organization",
        ownership="private",
        category="end_customer",
        region="华东",
        industry="machinery",
        transaction_count=12,
        transaction_amount=Decimal("900000.00"),
        revenue_12m=Decimal("300000.00"),
        first_transaction_at=days_ago(800),
        last_transaction_at=days_ago(20),
        last_contact_at=days_ago(7),
        average_days_late=3.0,
        open_complaints=0,
        open_receivables=Decimal("40000.00"),
        close_requested_at=None,
    )
    return replace(base, **changes)


def result(
    found: CustomerFigures, dimension: Dimension, cutoffs: TierCutoffs = CUTOFFS
) -> ClassificationResult:
    return next(r for r in classify(found, cutoffs, RULES, NOW) if r.dimension is dimension)


def revenues(*amounts: str) -> list[Decimal]:
    return [Decimal(a) for a in amounts]


def rules_with(old: str, new: str) -> str:
    text = RULES.source_text
    assert old in text, f"the default rules no longer contain {old!r}"
    return text.replace(old, new, 1)


# ── Value tier: Pareto cutoffs ──────────────────────────────────────────────


def test_the_customer_whose_revenue_reaches_the_key_share_is_the_last_key_customer() -> None:
    # 50 + 30 = 80: exactly the 80% key share, so 30 is KEY and 20 is not.
    cutoffs = tier_cutoffs(revenues("50", "30", "20"), RULES)
    assert cutoffs.key_min_revenue == Decimal("30")
    assert [tier_of(r, cutoffs) for r in revenues("50", "30", "20")] == [
        Tier.KEY,
        Tier.KEY,
        Tier.REGULAR,
    ]


def test_the_customer_that_crosses_the_key_share_is_still_key() -> None:
    # 60 < 80 ≤ 60 + 30: the customer that crosses 80% belongs to the key accounts.
    cutoffs = tier_cutoffs(revenues("60", "30", "10"), RULES)
    assert cutoffs.key_min_revenue == Decimal("30")
    assert tier_of(Decimal("30"), cutoffs) is Tier.KEY


def test_regular_customers_fill_up_to_the_regular_share_the_rest_are_occasional() -> None:
    amounts = revenues("500", "300", "100", "60", "40")  # running: 50%, 80%, 90%, 96%, 100%
    cutoffs = tier_cutoffs(amounts, RULES)
    assert (cutoffs.key_min_revenue, cutoffs.regular_min_revenue) == (Decimal(300), Decimal(60))
    assert [tier_of(r, cutoffs) for r in amounts] == [
        Tier.KEY,
        Tier.KEY,
        Tier.REGULAR,
        Tier.REGULAR,
        Tier.OCCASIONAL,
    ]


def test_customers_tied_at_a_cutoff_share_its_tier() -> None:
    # 60 + 20 reaches 80%; the other customer with 20 is KEY as well.
    cutoffs = tier_cutoffs(revenues("20", "60", "20"), RULES)
    assert [tier_of(r, cutoffs) for r in revenues("60", "20", "20")] == [Tier.KEY] * 3


def test_customers_without_revenue_count_but_are_always_occasional() -> None:
    cutoffs = tier_cutoffs(revenues("100", "0", "0", "-5"), RULES)
    assert cutoffs.customers == 4
    assert cutoffs.total_revenue == Decimal("100")
    assert tier_of(Decimal("0"), cutoffs) is Tier.OCCASIONAL
    assert tier_of(Decimal("-5"), cutoffs) is Tier.OCCASIONAL


def test_a_customer_base_without_revenue_has_no_cutoffs_and_no_key_accounts() -> None:
    cutoffs = tier_cutoffs(revenues("0", "0"), RULES)
    assert cutoffs.key_min_revenue is None
    assert cutoffs.regular_min_revenue is None
    found = result(figures(revenue_12m=Decimal("0")), Dimension.TIER, cutoffs)
    assert found.value == Tier.OCCASIONAL


@pytest.mark.parametrize(
    ("revenue", "tier"),
    [
        ("800000.00", Tier.KEY),  # exactly at the key cutoff
        ("799999.99", Tier.REGULAR),
        ("100000.00", Tier.REGULAR),  # exactly at the regular cutoff
        ("99999.99", Tier.OCCASIONAL),
        ("0.01", Tier.OCCASIONAL),
        ("0.00", Tier.OCCASIONAL),
    ],
)
def test_one_customer_is_tiered_against_the_stored_cutoffs(revenue: str, tier: Tier) -> None:
    assert tier_of(Decimal(revenue), CUTOFFS) is tier


def test_the_tier_result_states_the_comparison_and_its_inputs() -> None:
    found = result(figures(revenue_12m=Decimal("1250000.00")), Dimension.TIER)
    assert found.value == "KEY"
    assert found.rule == "revenue_12m 1,250,000.00 ≥ key cutoff 800,000.00"
    assert found.inputs == {
        "revenue_12m": "1250000.00",
        "key_min_revenue": "800000.00",
        "regular_min_revenue": "100000.00",
    }
    assert found.version == RULES.version


def test_stored_cutoffs_must_be_consistent() -> None:
    with pytest.raises(Invalid, match="tier cutoffs"):
        TierCutoffs(Decimal("10"), Decimal("20"), customers=2, total_revenue=Decimal("30"))
    with pytest.raises(Invalid, match="both cutoffs or neither"):
        TierCutoffs(Decimal("10"), None, customers=2, total_revenue=Decimal("30"))


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=60))
def test_key_cutoff_is_the_smallest_revenue_that_completes_the_key_share(
    cents: list[int],
) -> None:
    amounts = [Decimal(c) / 100 for c in cents]
    cutoffs = tier_cutoffs(amounts, RULES)
    total = sum(amounts, Decimal(0))
    if total == 0:
        assert cutoffs.key_min_revenue is None
        return
    key_min = cutoffs.key_min_revenue
    assert key_min is not None
    target = total * RULES.tier.key_share
    above = sum((a for a in amounts if a > key_min), Decimal(0))
    at_or_above = sum((a for a in amounts if a >= key_min), Decimal(0))
    assert above < target <= at_or_above


# ── Lifecycle ───────────────────────────────────────────────────────────────


def test_a_customer_that_never_bought_is_a_prospect() -> None:
    prospect = figures(
        transaction_count=0,
        revenue_12m=Decimal(0),
        first_transaction_at=None,
        last_transaction_at=None,
    )
    found = result(prospect, Dimension.LIFECYCLE)
    assert found.value == Lifecycle.PROSPECT
    assert found.rule == "no transaction yet"


@pytest.mark.parametrize(
    ("first_days", "last_days", "lifecycle"),
    [
        (90, 90, Lifecycle.NEW),  # first purchase exactly new_days ago
        (90.99, 1, Lifecycle.NEW),  # not yet 91 full days
        (91, 1, Lifecycle.ACTIVE),
        (800, 180, Lifecycle.ACTIVE),  # last purchase exactly active_days ago
        (800, 181, Lifecycle.DORMANT),
        (800, 365, Lifecycle.DORMANT),  # exactly churn_days ago
        (800, 366, Lifecycle.CHURNED),
    ],
)
def test_lifecycle_day_limits_hold_up_to_and_including_the_limit(
    first_days: float, last_days: float, lifecycle: Lifecycle
) -> None:
    found = figures(
        first_transaction_at=days_ago(first_days), last_transaction_at=days_ago(last_days)
    )
    assert lifecycle_of(found, RULES, NOW) is lifecycle


def test_the_lifecycle_rule_names_the_days_and_the_limit() -> None:
    found = result(figures(last_transaction_at=days_ago(200)), Dimension.LIFECYCLE)
    assert found.rule == "last transaction 200 days ago > active_days 180 and ≤ churn_days 365"
    assert found.inputs["as_of"] == NOW.isoformat()


# ── Nature ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("ownership", "nature"),
    [
        ("state_owned", Nature.STATE_OWNED),
        ("国有", Nature.STATE_OWNED),
        ("國有", Nature.STATE_OWNED),  # traditional script
        ("State-Owned", Nature.STATE_OWNED),
        ("private", Nature.PRIVATE),
        ("ＰＲＩＶＡＴＥ", Nature.PRIVATE),  # full width
        ("民营", Nature.PRIVATE),
        ("partnership", Nature.PRIVATE),
        ("joint_venture", Nature.JOINT_VENTURE),
        ("合资", Nature.JOINT_VENTURE),
        ("wholly_foreign_owned", Nature.FOREIGN_OWNED),
        ("外商独资", Nature.FOREIGN_OWNED),
        ("government", Nature.GOVERNMENT),
        ("政府机关", Nature.GOVERNMENT),
        ("individual", Nature.INDIVIDUAL),
        ("个体", Nature.INDIVIDUAL),
    ],
)
def test_ownership_in_english_or_chinese_gives_the_nature(ownership: str, nature: Nature) -> None:
    found = result(figures(ownership=ownership), Dimension.NATURE)
    assert found.value == nature
    assert found.rule == f"ownership {ownership!r} → {nature}"


def test_a_person_is_an_individual_whatever_the_ownership_says() -> None:
    found = result(figures(party_type="person", ownership="private"), Dimension.NATURE)
    assert found.value == Nature.INDIVIDUAL
    assert found.rule == "party_type 'person' → INDIVIDUAL"


@pytest.mark.parametrize("category", ["cooperative", "partner", "合作伙伴"])
def test_a_cooperative_partner_is_a_partner_before_its_ownership(category: str) -> None:
    found = result(figures(category=category, ownership="国有"), Dimension.NATURE)
    assert found.value == Nature.PARTNER


def test_nature_is_unknown_when_nothing_says_and_the_rule_names_what_was_seen() -> None:
    assert result(figures(ownership=None, category=None), Dimension.NATURE).value == Nature.UNKNOWN
    found = result(figures(ownership="collective", category="vip"), Dimension.NATURE)
    assert found.value == Nature.UNKNOWN
    assert "'collective'" in found.rule
    assert found.inputs == {
        "party_type": "organization",
        "category": "vip",
        "ownership": "collective",
    }


# ── Region and category ─────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("region", "value"),
    [
        ("华北", "华北"),
        ("華南", "华南"),
        ("East China", "华东"),
        ("south-west", "西南"),
        ("火星", "UNKNOWN"),
        (None, "UNKNOWN"),
        ("  ", "UNKNOWN"),
    ],
)
def test_region_comes_from_the_golden_record(region: str | None, value: str) -> None:
    assert result(figures(region=region), Dimension.REGION).value == value


@pytest.mark.parametrize(
    ("category", "value"),
    [
        ("end_customer", Category.END_CUSTOMER),
        ("终端客户", Category.END_CUSTOMER),
        ("prospect", Category.PROSPECT),
        ("潜在客户", Category.PROSPECT),
        ("major_account", Category.MAJOR_ACCOUNT),
        ("Major Account", Category.MAJOR_ACCOUNT),
        ("大客户", Category.MAJOR_ACCOUNT),
        ("third_party_supply", Category.THIRD_PARTY_SUPPLY),
        ("第三方直供", Category.THIRD_PARTY_SUPPLY),
        ("strategic", Category.STRATEGIC),
        ("战略客户", Category.STRATEGIC),
        ("key", Category.KEY),
        ("重点客户", Category.KEY),
        ("cooperative", Category.COOPERATIVE),
        ("合作伙伴", Category.COOPERATIVE),
        ("vip", Category.UNKNOWN),
        (None, Category.UNKNOWN),
    ],
)
def test_category_from_the_sources_is_normalised(category: str | None, value: Category) -> None:
    assert result(figures(category=category), Dimension.CATEGORY).value == value


# ── Contact cycle ───────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("revenue", "days", "status"),
    [
        ("900000.00", 30, ContactStatus.NOT_DUE),  # KEY: exactly the 30-day cycle
        ("900000.00", 31, ContactStatus.OVERDUE),
        ("300000.00", 90, ContactStatus.NOT_DUE),  # REGULAR: 90 days
        ("300000.00", 91, ContactStatus.OVERDUE),
        ("5000.00", 180, ContactStatus.NOT_DUE),  # OCCASIONAL: 180 days
        ("5000.00", 181, ContactStatus.OVERDUE),
    ],
)
def test_contact_is_overdue_only_after_the_tiers_cycle(
    revenue: str, days: int, status: ContactStatus
) -> None:
    found = figures(revenue_12m=Decimal(revenue), last_contact_at=days_ago(days))
    assert result(found, Dimension.CONTACT).value == status


@pytest.mark.parametrize(
    ("revenue", "status"),
    [
        ("900000.00", ContactStatus.OVERDUE),
        ("300000.00", ContactStatus.OVERDUE),
        ("5000.00", ContactStatus.NOT_DUE),
    ],
)
def test_never_contacted_key_and_regular_customers_are_overdue(
    revenue: str, status: ContactStatus
) -> None:
    found = figures(revenue_12m=Decimal(revenue), last_contact_at=None)
    assert result(found, Dimension.CONTACT).value == status


def test_the_contact_rule_names_the_cycle() -> None:
    found = result(
        figures(revenue_12m=Decimal("900000.00"), last_contact_at=days_ago(45)), Dimension.CONTACT
    )
    assert found.rule == "last contact 45 days ago > KEY cycle 30 days"
    assert found.inputs["cycle_days"] == 30


# ── Retention alerts ────────────────────────────────────────────────────────

KEY_REVENUE = Decimal("900000.00")


def test_a_key_customer_turning_dormant_raises_a_retention_alert() -> None:
    found = result(
        figures(revenue_12m=KEY_REVENUE, last_transaction_at=days_ago(181)), Dimension.RETENTION
    )
    assert found.value == "KEY_DORMANT"
    assert found.rule == "a KEY customer is DORMANT"


def test_a_key_customer_still_active_raises_no_alert() -> None:
    found = result(
        figures(revenue_12m=KEY_REVENUE, last_transaction_at=days_ago(180)), Dimension.RETENTION
    )
    assert found.value == "NONE"


def test_a_churned_customer_still_above_the_key_cutoff_raises_an_alert() -> None:
    found = result(
        figures(revenue_12m=KEY_REVENUE, last_transaction_at=days_ago(400)), Dimension.RETENTION
    )
    assert found.value == "KEY_CHURNED"


def test_a_regular_customer_turning_dormant_is_no_retention_alert() -> None:
    found = figures(revenue_12m=Decimal("300000.00"), last_transaction_at=days_ago(200))
    assert result(found, Dimension.RETENTION).value == "NONE"


@pytest.mark.parametrize(
    ("days", "value"), [(0, "CLOSE_REQUESTED"), (90, "CLOSE_REQUESTED"), (91, "NONE")]
)
def test_any_customer_asking_to_close_an_account_raises_an_alert_for_a_while(
    days: int, value: str
) -> None:
    found = figures(revenue_12m=Decimal("5000.00"), close_requested_at=days_ago(days))
    assert result(found, Dimension.RETENTION).value == value


def test_the_alert_names_every_reason() -> None:
    found = result(
        figures(
            revenue_12m=KEY_REVENUE,
            last_transaction_at=days_ago(200),
            close_requested_at=days_ago(3),
        ),
        Dimension.RETENTION,
    )
    assert found.value == "KEY_DORMANT+CLOSE_REQUESTED"
    assert "asked to close an account 3 days ago" in found.rule


# ── The whole classification ────────────────────────────────────────────────


def test_classify_gives_every_dimension_once_with_json_ready_inputs() -> None:
    results = classify(figures(), CUTOFFS, RULES, NOW)
    assert [r.dimension for r in results] == list(Dimension)
    assert {r.version for r in results} == {RULES.version}
    assert all(r.rule for r in results)
    json.dumps([r.inputs for r in results])


@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=20))
def test_any_text_from_a_department_classifies_without_error(
    ownership: str, category: str, region: str
) -> None:
    results = classify(
        figures(ownership=ownership, category=category, region=region), CUTOFFS, RULES, NOW
    )
    assert len(results) == len(Dimension)


# ── The rules file ──────────────────────────────────────────────────────────


def test_the_shipped_rules_file_is_valid_and_versioned() -> None:
    assert RULES.version
    assert RULES.tier.key_share == Decimal("0.80")
    assert parse_classification_rules(RULES.source_text) == RULES


@pytest.mark.parametrize(
    ("old", "new", "entry"),
    [
        ("key_share = 0.80", "key_share = 0", "tier.key_share"),
        ("regular_share = 0.95", "regular_share = 0.5", "tier.regular_share"),
        ("churn_days = 365", "churn_days = 180", "lifecycle.churn_days"),
        ("new_days = 90", 'new_days = "90"', "lifecycle.new_days"),
        ("new_days = 90", "new_days = 0", "lifecycle.new_days"),
        ('"国有" = "STATE_OWNED"', '"国有" = "STATE"', "nature.ownership.国有"),
        ('order = ["party_type", ', 'order = ["industry", ', "nature.order[0]"),
        ("[nature.party_type]\nperson", "[nature.persons]\nperson", "nature.persons"),
        ('[nature.party_type]\nperson = "INDIVIDUAL"', "", "nature.party_type"),
        ("key_share = 0.80", "key_share = 0.80\nkey_shares = 0.8", "tier.key_shares"),
        ('strategic = "STRATEGIC"', 'strategic = "UNKNOWN"', "category.strategic"),
        ('north = "华北"', 'north = "北方"', "region.aliases.north"),
        ("OCCASIONAL = 180   # twice", "RARE = 180   # twice", "contact.cycle_days.RARE"),
        ("KEY = 30 ", "KEY = -30 ", "contact.cycle_days.KEY"),
        (
            'alert_lifecycles = ["DORMANT"',
            'alert_lifecycles = ["ASLEEP"',
            "retention.alert_lifecycles[0]",
        ),
        ("close_request_days = 90", "close_request_days = 0", "retention.close_request_days"),
        ('version = "', 'edition = "', "version"),
    ],
)
def test_an_invalid_rules_file_is_refused_naming_the_entry(old: str, new: str, entry: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_classification_rules(rules_with(old, new))
    assert entry in caught.value.message
    assert caught.value.message.startswith("classification rules:")


def test_a_missing_contact_cycle_is_named() -> None:
    with pytest.raises(Invalid, match=r"contact\.cycle_days\.OCCASIONAL is missing"):
        parse_classification_rules(rules_with("OCCASIONAL = 180   # twice a year", ""))


def test_two_spellings_of_one_code_must_agree() -> None:
    text = rules_with('private = "PRIVATE"', 'private = "PRIVATE"\n"Private" = "GOVERNMENT"')
    with pytest.raises(Invalid, match="'private' maps the same code"):
        parse_classification_rules(text)


def test_a_rules_file_that_is_not_toml_is_refused() -> None:
    with pytest.raises(Invalid, match="not valid TOML"):
        parse_classification_rules("version = ")
