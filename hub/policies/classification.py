"""Classification: tier, lifecycle, nature, region, category, contact and retention.

Pure functions over :class:`~hub.policies.figures.CustomerFigures`; the rules
come from the versioned file ``hub/rules/classification.toml``. Every result
carries the rule text and the exact inputs that produced it, so a steward can
see why a customer is KEY or why an alert fired.

The value tier is a Pareto split of the whole customer base: :func:`tier_cutoffs`
turns everyone's 12-month revenue into two revenue cutoffs, which are stored
and then compared with one customer's revenue as it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from hub.policies.figures import CustomerFigures
from hub.policies.ruleset import (
    Entry,
    invalid,
    load_toml,
    normalise_code,
    root,
    version_of,
)

WHAT = "classification"
UNKNOWN = "UNKNOWN"
NO_ALERT = "NONE"
CLOSE_REQUESTED = "CLOSE_REQUESTED"
_DAY = timedelta(days=1)


class Dimension(StrEnum):
    TIER = "tier"
    LIFECYCLE = "lifecycle"
    NATURE = "nature"
    REGION = "region"
    CATEGORY = "category"
    CONTACT = "contact"
    RETENTION = "retention"


class Tier(StrEnum):
    KEY = "KEY"
    REGULAR = "REGULAR"
    OCCASIONAL = "OCCASIONAL"


class Lifecycle(StrEnum):
    PROSPECT = "PROSPECT"
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    DORMANT = "DORMANT"
    CHURNED = "CHURNED"


class Nature(StrEnum):
    GOVERNMENT = "GOVERNMENT"
    STATE_OWNED = "STATE_OWNED"
    PRIVATE = "PRIVATE"
    JOINT_VENTURE = "JOINT_VENTURE"
    FOREIGN_OWNED = "FOREIGN_OWNED"
    INDIVIDUAL = "INDIVIDUAL"
    PARTNER = "PARTNER"
    UNKNOWN = UNKNOWN


class Category(StrEnum):
    END_CUSTOMER = "END_CUSTOMER"
    PROSPECT = "PROSPECT"
    MAJOR_ACCOUNT = "MAJOR_ACCOUNT"
    THIRD_PARTY_SUPPLY = "THIRD_PARTY_SUPPLY"
    STRATEGIC = "STRATEGIC"
    KEY = "KEY"
    COOPERATIVE = "COOPERATIVE"
    UNKNOWN = UNKNOWN


class ContactStatus(StrEnum):
    OVERDUE = "OVERDUE"
    NOT_DUE = "NOT_DUE"


class NatureSource(StrEnum):
    """The attributes that can say what a customer's nature is."""

    PARTY_TYPE = "party_type"
    CATEGORY = "category"
    OWNERSHIP = "ownership"


# ── Rules ───────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class TierRules:
    """Pareto shares of revenue: KEY up to ``key_share``, REGULAR up to ``regular_share``."""

    key_share: Decimal
    regular_share: Decimal

    def __post_init__(self) -> None:
        if not 0 < self.key_share <= 1:
            raise invalid(WHAT, "tier.key_share", f"is {self.key_share}; it must be in (0, 1]")
        if not self.key_share <= self.regular_share <= 1:
            raise invalid(
                WHAT,
                "tier.regular_share",
                f"is {self.regular_share}; it must be between key_share {self.key_share} and 1",
            )


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    """Day limits of the lifecycle stages, counted in whole days before ``now``."""

    new_days: int
    active_days: int
    churn_days: int

    def __post_init__(self) -> None:
        for name in ("new_days", "active_days", "churn_days"):
            if getattr(self, name) <= 0:
                raise invalid(WHAT, f"lifecycle.{name}", "must be a positive number of days")
        if self.active_days >= self.churn_days:
            raise invalid(
                WHAT,
                "lifecycle.churn_days",
                f"is {self.churn_days}; it must be longer than active_days {self.active_days}",
            )


@dataclass(frozen=True, slots=True)
class NatureRules:
    """Which attribute decides first, and each one's mapping table (normalised codes)."""

    order: tuple[NatureSource, ...]
    tables: Mapping[NatureSource, Mapping[str, Nature]]

    def __post_init__(self) -> None:
        if not self.order or len(set(self.order)) != len(self.order):
            raise invalid(WHAT, "nature.order", "must list each source once")
        for source in self.order:
            if source not in self.tables:
                raise invalid(WHAT, f"nature.{source}", "is in nature.order but has no table")
        for source, table in self.tables.items():
            for code, nature in table.items():
                if nature is Nature.UNKNOWN:
                    raise invalid(
                        WHAT,
                        f"nature.{source}.{code}",
                        "maps to UNKNOWN; leave the code out instead",
                    )


@dataclass(frozen=True, slots=True)
class RegionRules:
    """The sales regions and the other names they go by."""

    names: tuple[str, ...]
    aliases: Mapping[str, str]

    def __post_init__(self) -> None:
        if not self.names or len(set(self.names)) != len(self.names):
            raise invalid(WHAT, "region.names", "must list each region once")
        for alias, name in self.aliases.items():
            if name not in self.names:
                raise invalid(
                    WHAT, f"region.aliases.{alias}", f"is {name!r}, which is not in region.names"
                )

    def region_of(self, text: str) -> str | None:
        code = normalise_code(text)
        for name in self.names:
            if normalise_code(name) == code:
                return name
        return self.aliases.get(code)


@dataclass(frozen=True, slots=True)
class ContactRules:
    """Contact cycle per tier, and the tiers that are overdue when never contacted."""

    cycle_days: Mapping[Tier, int]
    never_contacted_overdue: frozenset[Tier]

    def __post_init__(self) -> None:
        for tier in Tier:
            if tier not in self.cycle_days:
                raise invalid(WHAT, f"contact.cycle_days.{tier}", "is missing")
            if self.cycle_days[tier] <= 0:
                raise invalid(WHAT, f"contact.cycle_days.{tier}", "must be a positive number")


@dataclass(frozen=True, slots=True)
class RetentionRules:
    """When a customer raises a retention alert."""

    alert_tiers: frozenset[Tier]
    alert_lifecycles: frozenset[Lifecycle]
    close_request_days: int

    def __post_init__(self) -> None:
        if self.close_request_days <= 0:
            raise invalid(WHAT, "retention.close_request_days", "must be a positive number")


@dataclass(frozen=True, slots=True)
class ClassificationRules:
    """A parsed, validated classification rules file."""

    version: str
    tier: TierRules
    lifecycle: LifecycleRules
    nature: NatureRules
    region: RegionRules
    categories: Mapping[str, Category]
    contact: ContactRules
    retention: RetentionRules
    source_text: str = field(repr=False, default="")

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise invalid(WHAT, "version", "must be a non-empty text")
        for code, category in self.categories.items():
            if category is Category.UNKNOWN:
                raise invalid(WHAT, f"category.{code}", "maps to UNKNOWN; leave the code out")


def parse_classification_rules(text: str) -> ClassificationRules:
    """Rules from the TOML text of a classification file; errors name the offending entry."""
    document = root(load_toml(text, WHAT), WHAT)
    document.allow(
        "version", "tier", "lifecycle", "nature", "region", "category", "contact", "retention"
    )
    return ClassificationRules(
        version=version_of(document),
        tier=_tier_rules(document.table("tier")),
        lifecycle=_lifecycle_rules(document.table("lifecycle")),
        nature=_nature_rules(document.table("nature")),
        region=_region_rules(document.table("region")),
        categories=document.codes("category", Category),
        contact=_contact_rules(document.table("contact")),
        retention=_retention_rules(document.table("retention")),
        source_text=text,
    )


def _tier_rules(entry: Entry) -> TierRules:
    entry.allow("key_share", "regular_share")
    return TierRules(entry.decimal("key_share"), entry.decimal("regular_share"))


def _lifecycle_rules(entry: Entry) -> LifecycleRules:
    entry.allow("new_days", "active_days", "churn_days")
    return LifecycleRules(
        new_days=entry.integer("new_days"),
        active_days=entry.integer("active_days"),
        churn_days=entry.integer("churn_days"),
    )


def _nature_rules(entry: Entry) -> NatureRules:
    entry.allow("order", *(source.value for source in NatureSource))
    order = entry.choices("order", NatureSource)
    tables = {
        source: entry.codes(source.value, Nature)
        for source in NatureSource
        if entry.has(source.value)
    }
    return NatureRules(order=order, tables=tables)


def _region_rules(entry: Entry) -> RegionRules:
    entry.allow("names", "aliases")
    names = entry.data.get("names")
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise entry.fail("names", "must be a list of region names")
    aliases_entry = entry.table("aliases") if entry.has("aliases") else None
    aliases: dict[str, str] = {}
    for alias, name in (aliases_entry.data if aliases_entry else {}).items():
        if not isinstance(name, str):
            raise entry.fail(f"aliases.{alias}", "must be a region name")
        aliases[normalise_code(alias)] = name
    return RegionRules(names=tuple(names), aliases=aliases)


def _contact_rules(entry: Entry) -> ContactRules:
    entry.allow("cycle_days", "never_contacted_overdue")
    cycles = entry.table("cycle_days")
    cycle_days = {
        cycles.parse_choice(name, name, Tier): cycles.integer(name) for name in cycles.data
    }
    return ContactRules(
        cycle_days=cycle_days,
        never_contacted_overdue=frozenset(entry.choices("never_contacted_overdue", Tier)),
    )


def _retention_rules(entry: Entry) -> RetentionRules:
    entry.allow("alert_tiers", "alert_lifecycles", "close_request_days")
    return RetentionRules(
        alert_tiers=frozenset(entry.choices("alert_tiers", Tier)),
        alert_lifecycles=frozenset(entry.choices("alert_lifecycles", Lifecycle)),
        close_request_days=entry.integer("close_request_days"),
    )


@cache
def default_classification_rules() -> ClassificationRules:
    """The classification rules file shipped with the hub."""
    text = resources.files("hub.rules").joinpath("classification.toml").read_text(encoding="utf-8")
    return parse_classification_rules(text)


# ── Tier cutoffs (the whole customer base) ─────────────────────────────────


@dataclass(frozen=True, slots=True)
class TierCutoffs:
    """The revenues at which KEY and REGULAR start; ``None`` when nobody has revenue."""

    key_min_revenue: Decimal | None
    regular_min_revenue: Decimal | None
    customers: int
    total_revenue: Decimal

    def __post_init__(self) -> None:
        key, regular = self.key_min_revenue, self.regular_min_revenue
        if (key is None) != (regular is None):
            raise invalid(WHAT, "tier cutoffs", "need both cutoffs or neither")
        if key is not None and regular is not None and not 0 < regular <= key:
            raise invalid(WHAT, "tier cutoffs", f"need 0 < regular {regular} ≤ key {key} cutoff")


def tier_cutoffs(revenues: Iterable[Decimal], rules: ClassificationRules) -> TierCutoffs:
    """The Pareto cutoffs of a customer base, from every customer's 12-month revenue.

    Ranked largest first, the customer whose revenue takes the running total to
    ``key_share`` of all revenue sets the KEY cutoff (it is KEY itself), and
    likewise for REGULAR. Customers without revenue count, but never qualify.
    """
    customers = 0
    paying: list[Decimal] = []
    for revenue in revenues:
        customers += 1
        if revenue > 0:
            paying.append(revenue)
    paying.sort(reverse=True)
    total = sum(paying, Decimal(0))
    return TierCutoffs(
        key_min_revenue=_revenue_at_share(paying, total * rules.tier.key_share),
        regular_min_revenue=_revenue_at_share(paying, total * rules.tier.regular_share),
        customers=customers,
        total_revenue=total,
    )


def _revenue_at_share(ranked: Sequence[Decimal], target: Decimal) -> Decimal | None:
    running = Decimal(0)
    for revenue in ranked:
        running += revenue
        if running >= target:
            return revenue
    return ranked[-1] if ranked else None


def tier_of(revenue_12m: Decimal, cutoffs: TierCutoffs) -> Tier:
    """One customer's tier against the stored cutoffs; equal to a cutoff is in."""
    if revenue_12m <= 0 or cutoffs.key_min_revenue is None:
        return Tier.OCCASIONAL
    if revenue_12m >= cutoffs.key_min_revenue:
        return Tier.KEY
    if cutoffs.regular_min_revenue is not None and revenue_12m >= cutoffs.regular_min_revenue:
        return Tier.REGULAR
    return Tier.OCCASIONAL


# ── Classifying one customer ───────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ClassificationResult:
    """One dimension's value, the rule that gave it, the inputs it used, the rules version."""

    dimension: Dimension
    value: str
    rule: str
    inputs: dict[str, Any]
    version: str


def classify(
    figures: CustomerFigures,
    cutoffs: TierCutoffs,
    rules: ClassificationRules,
    now: datetime,
) -> list[ClassificationResult]:
    """Every dimension of one customer's classification, in :class:`Dimension` order."""
    tier, tier_rule, tier_inputs = _classify_tier(figures, cutoffs)
    lifecycle, lifecycle_rule, lifecycle_inputs = _classify_lifecycle(figures, rules, now)
    found = [
        (Dimension.TIER, tier, tier_rule, tier_inputs),
        (Dimension.LIFECYCLE, lifecycle, lifecycle_rule, lifecycle_inputs),
        (Dimension.NATURE, *_classify_nature(figures, rules)),
        (Dimension.REGION, *_classify_region(figures, rules)),
        (Dimension.CATEGORY, *_classify_category(figures, rules)),
        (Dimension.CONTACT, *_classify_contact(figures, tier, rules, now)),
        (Dimension.RETENTION, *_classify_retention(figures, tier, lifecycle, rules, now)),
    ]
    return [
        ClassificationResult(dimension, str(value), rule, inputs, rules.version)
        for dimension, value, rule, inputs in found
    ]


_Found = tuple[str, str, dict[str, Any]]


def _classify_tier(
    figures: CustomerFigures, cutoffs: TierCutoffs
) -> tuple[Tier, str, dict[str, Any]]:
    revenue = figures.revenue_12m
    key, regular = cutoffs.key_min_revenue, cutoffs.regular_min_revenue
    inputs = {
        "revenue_12m": _money(revenue),
        "key_min_revenue": _money(key),
        "regular_min_revenue": _money(regular),
    }
    tier = tier_of(revenue, cutoffs)
    if revenue <= 0:
        rule = f"revenue_12m {_amount(revenue)}: no revenue in 12 months"
    elif key is None or regular is None:
        rule = "no customer has revenue, so there are no tier cutoffs yet"
    elif tier is Tier.KEY:
        rule = f"revenue_12m {_amount(revenue)} ≥ key cutoff {_amount(key)}"
    elif tier is Tier.REGULAR:
        rule = (
            f"revenue_12m {_amount(revenue)} < key cutoff {_amount(key)} "
            f"and ≥ regular cutoff {_amount(regular)}"
        )
    else:
        rule = f"revenue_12m {_amount(revenue)} < regular cutoff {_amount(regular)}"
    return tier, rule, inputs


def lifecycle_of(figures: CustomerFigures, rules: ClassificationRules, now: datetime) -> Lifecycle:
    """The customer's lifecycle stage at ``now``."""
    return _classify_lifecycle(figures, rules, now)[0]


def _classify_lifecycle(
    figures: CustomerFigures, rules: ClassificationRules, now: datetime
) -> tuple[Lifecycle, str, dict[str, Any]]:
    limits = rules.lifecycle
    inputs = {
        "transaction_count": figures.transaction_count,
        "first_transaction_at": _when(figures.first_transaction_at),
        "last_transaction_at": _when(figures.last_transaction_at),
        "as_of": _when(now),
    }
    first, last = figures.first_transaction_at, figures.last_transaction_at
    if not figures.has_transactions or first is None:
        return Lifecycle.PROSPECT, "no transaction yet", inputs
    since_first = _days_between(first, now)
    if since_first <= limits.new_days:
        rule = f"first transaction {since_first} days ago ≤ new_days {limits.new_days}"
        return Lifecycle.NEW, rule, inputs
    since_last = _days_between(last or first, now)
    if since_last <= limits.active_days:
        rule = f"last transaction {since_last} days ago ≤ active_days {limits.active_days}"
        return Lifecycle.ACTIVE, rule, inputs
    if since_last <= limits.churn_days:
        rule = (
            f"last transaction {since_last} days ago > active_days {limits.active_days} "
            f"and ≤ churn_days {limits.churn_days}"
        )
        return Lifecycle.DORMANT, rule, inputs
    rule = f"last transaction {since_last} days ago > churn_days {limits.churn_days}"
    return Lifecycle.CHURNED, rule, inputs


def _classify_nature(figures: CustomerFigures, rules: ClassificationRules) -> _Found:
    said = {
        NatureSource.PARTY_TYPE: figures.party_type,
        NatureSource.CATEGORY: figures.category,
        NatureSource.OWNERSHIP: figures.ownership,
    }
    inputs: dict[str, Any] = {source.value: said[source] for source in rules.nature.order}
    for source in rules.nature.order:
        raw = said[source]
        if raw is None:
            continue
        nature = rules.nature.tables[source].get(normalise_code(raw))
        if nature is not None:
            return nature, f"{source} {raw!r} → {nature}", inputs
    told = ", ".join(f"{s} {said[s]!r}" for s in rules.nature.order if said[s] is not None)
    rule = f"no nature table knows {told}" if told else "no ownership or category known"
    return Nature.UNKNOWN, rule, inputs


def _classify_region(figures: CustomerFigures, rules: ClassificationRules) -> _Found:
    raw = figures.region
    inputs = {"region": raw}
    if raw is None or not raw.strip():
        return UNKNOWN, "no region on the golden record", inputs
    region = rules.region.region_of(raw)
    if region is None:
        return UNKNOWN, f"region {raw!r} is not one of the sales regions", inputs
    if region == raw:
        return region, f"region {region} from the golden record", inputs
    return region, f"region {raw!r} is another name of {region}", inputs


def _classify_category(figures: CustomerFigures, rules: ClassificationRules) -> _Found:
    raw = figures.category
    inputs = {"category": raw}
    if raw is None or not raw.strip():
        return Category.UNKNOWN, "no category from the sources", inputs
    category = rules.categories.get(normalise_code(raw))
    if category is None:
        return Category.UNKNOWN, f"category {raw!r} is not in the category table", inputs
    return category, f"category {raw!r} → {category}", inputs


def _classify_contact(
    figures: CustomerFigures, tier: Tier, rules: ClassificationRules, now: datetime
) -> _Found:
    contact = rules.contact
    cycle = contact.cycle_days[tier]
    inputs = {
        "tier": tier.value,
        "last_contact_at": _when(figures.last_contact_at),
        "cycle_days": cycle,
        "as_of": _when(now),
    }
    if figures.last_contact_at is None:
        if tier in contact.never_contacted_overdue:
            rule = f"never contacted; {tier} customers are contacted every {cycle} days"
            return ContactStatus.OVERDUE, rule, inputs
        return ContactStatus.NOT_DUE, f"never contacted; {tier} customers are not chased", inputs
    since = _days_between(figures.last_contact_at, now)
    if since > cycle:
        return (
            ContactStatus.OVERDUE,
            f"last contact {since} days ago > {tier} cycle {cycle} days",
            inputs,
        )
    return (
        ContactStatus.NOT_DUE,
        f"last contact {since} days ago ≤ {tier} cycle {cycle} days",
        inputs,
    )


def _classify_retention(
    figures: CustomerFigures,
    tier: Tier,
    lifecycle: Lifecycle,
    rules: ClassificationRules,
    now: datetime,
) -> _Found:
    retention = rules.retention
    inputs = {
        "tier": tier.value,
        "lifecycle": lifecycle.value,
        "close_requested_at": _when(figures.close_requested_at),
        "as_of": _when(now),
    }
    reasons: list[str] = []
    said: list[str] = []
    if tier in retention.alert_tiers and lifecycle in retention.alert_lifecycles:
        reasons.append(f"{tier}_{lifecycle}")
        said.append(f"a {tier} customer is {lifecycle}")
    if figures.close_requested_at is not None:
        since = _days_between(figures.close_requested_at, now)
        if since <= retention.close_request_days:
            reasons.append(CLOSE_REQUESTED)
            said.append(
                f"asked to close an account {since} days ago ≤ {retention.close_request_days}"
            )
    if not reasons:
        return (
            NO_ALERT,
            f"no alert: a {tier} customer is {lifecycle}, no recent close request",
            inputs,
        )
    return "+".join(reasons), "; ".join(said), inputs


# ── Formatting inputs and rule texts ───────────────────────────────────────


def _days_between(earlier: datetime, now: datetime) -> int:
    """Whole days elapsed: a day limit of n holds until n full days have passed."""
    return (now - earlier) // _DAY


def _money(value: Decimal | None) -> str | None:
    # Text, not float: inputs are stored as JSON and money must stay exact.
    return None if value is None else str(value)


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
