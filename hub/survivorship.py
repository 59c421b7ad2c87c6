"""Survivorship: build a golden record's values, attribute by attribute, with lineage.

Pure functions over the member records' values; the rules come from the
versioned file ``hub/rules/survivorship.toml``. A steward override pins a value
above every rule; a validated value beats an invalid one; a group of attributes
(the address) survives together from one record.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from hub.errors import Invalid
from matching.fastpickle import pickled_by_fields
from matching.record import SourceRecord
from matching.types import StandardRecord

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Rule(StrEnum):
    SOURCE_PRIORITY = "source_priority"
    MOST_RECENT = "most_recent"
    MOST_FREQUENT = "most_frequent"
    LONGEST = "longest"
    UNION = "union"


@dataclass(frozen=True, slots=True)
class AttributeRule:
    rule: Rule
    priority: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupRule:
    rule: Rule
    attributes: tuple[str, ...]
    priority: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SurvivorshipRules:
    """A parsed, validated rules file."""

    version: str
    default_priority: tuple[str, ...]
    attributes: Mapping[str, AttributeRule]
    groups: Mapping[str, GroupRule]
    source_text: str = field(repr=False, default="")

    def priority_of(self, rule: AttributeRule | GroupRule) -> tuple[str, ...]:
        return rule.priority or self.default_priority


# Attributes a golden record may carry; the rules file must cover exactly these.
SINGLE_ATTRIBUTES = (
    "name",
    "name_en",
    "uscc",
    "national_id",
    "birth_date",
    "gender",
    "contact_name",
    "industry",
    "ownership",
    "category",
)
LIST_ATTRIBUTES = ("identifiers", "phones", "emails")
ADDRESS_ATTRIBUTES = ("address", "province", "city", "district", "postal_code", "region")
OVERRIDABLE = frozenset((*SINGLE_ATTRIBUTES, *LIST_ATTRIBUTES, *ADDRESS_ATTRIBUTES))


def parse_rules(text: str) -> SurvivorshipRules:
    """Rules from the TOML text of a rules file; errors name the offending entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Invalid(f"survivorship rules are not valid TOML: {exc}") from exc
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise Invalid("survivorship rules need a text `version`")
    default_priority = _priority(data.get("default_priority", []), "default_priority")
    attributes = {
        name: AttributeRule(
            rule=_rule(spec, f"attributes.{name}"),
            priority=_priority(spec.get("priority", []), f"attributes.{name}.priority"),
        )
        for name, spec in _table(data, "attributes").items()
    }
    groups = {
        name: GroupRule(
            rule=_rule(spec, f"groups.{name}"),
            attributes=tuple(spec.get("attributes", ())),
            priority=_priority(spec.get("priority", []), f"groups.{name}.priority"),
        )
        for name, spec in _table(data, "groups").items()
    }
    _check_coverage(attributes, groups)
    return SurvivorshipRules(version, default_priority, attributes, groups, text)


def _table(data: Mapping[str, Any], key: str) -> dict[str, Mapping[str, Any]]:
    table = data.get(key, {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise Invalid(f"survivorship rules: `{key}` must be a table of tables")
    return table


def _rule(spec: Mapping[str, Any], where: str) -> Rule:
    try:
        return Rule(str(spec.get("rule")))
    except ValueError:
        allowed = ", ".join(r.value for r in Rule)
        raise Invalid(f"survivorship rules: {where}.rule must be one of {allowed}") from None


def _priority(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"survivorship rules: {where} must be a list of source codes")
    return tuple(value)


def _check_coverage(
    attributes: Mapping[str, AttributeRule], groups: Mapping[str, GroupRule]
) -> None:
    covered = set(attributes)
    for name, group in groups.items():
        if group.rule is Rule.UNION:
            raise Invalid(f"survivorship rules: group {name} cannot use union")
        covered.update(group.attributes)
    expected = set(OVERRIDABLE)
    if covered != expected:
        missing, unknown = sorted(expected - covered), sorted(covered - expected)
        raise Invalid(
            f"survivorship rules must cover every attribute: missing {missing}, unknown {unknown}"
        )
    for name in LIST_ATTRIBUTES:
        if name in attributes and attributes[name].rule is not Rule.UNION:
            raise Invalid(f"survivorship rules: {name} is a list and must use union")


@cache
def default_rules() -> SurvivorshipRules:
    """The rules file shipped with the hub."""
    text = resources.files("hub.rules").joinpath("survivorship.toml").read_text(encoding="utf-8")
    return parse_rules(text)


@pickled_by_fields  # members cross between the first load's workers
@dataclass(frozen=True, slots=True)
class Candidate:
    """One record's offer for one attribute; ``key`` is its standardized form."""

    value: Any
    key: str
    valid: bool = True


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Member:
    """A source record's current version, as survivorship sees it."""

    record_id: int
    source: str
    source_key: str
    version: int
    updated_at: datetime | None
    singles: Mapping[str, Candidate]
    lists: Mapping[str, Sequence[Candidate]]
    address: Mapping[str, Any]

    @property
    def recency(self) -> tuple[datetime, int, int]:
        return (self.updated_at or EPOCH, self.version, self.record_id)


@dataclass(frozen=True, slots=True)
class Override:
    attribute: str
    value: Any
    set_by: str
    set_at: datetime


def _text_candidate(
    value: str | None, key: str | None = None, *, valid: bool = True
) -> Candidate | None:
    if value is None:
        return None
    return Candidate(value=value, key=key if key is not None else value, valid=valid)


def member_from_record(
    record_id: int, version: int, raw: SourceRecord, standard: StandardRecord
) -> Member:
    """What a record offers to each attribute: display values keyed by standardized form."""
    birth = standard.birth_date or raw.birth_date
    offers: dict[str, Candidate | None] = {
        "name": _text_candidate(raw.name, standard.name.normalized),
        "name_en": _text_candidate(
            raw.name_en, standard.name_en.normalized if standard.name_en else None
        ),
        "uscc": _text_candidate(standard.uscc, valid=True)
        or _text_candidate(raw.uscc, valid=False),
        "national_id": _text_candidate(standard.national_id, valid=True)
        or _text_candidate(raw.national_id, valid=False),
        "birth_date": _text_candidate(birth.isoformat() if birth else None),
        "gender": _text_candidate(standard.gender or raw.gender),
        "contact_name": _text_candidate(raw.contact_name),
        "industry": _text_candidate(raw.industry),
        "ownership": _text_candidate(raw.ownership),
        "category": _text_candidate(raw.category),
    }
    lists = {
        "phones": [Candidate(value=p.e164, key=p.e164) for p in standard.phones],
        "emails": [Candidate(value=e, key=e) for e in standard.emails],
        "identifiers": [
            Candidate(value={"type": scheme, "value": value}, key=f"{scheme}:{value}")
            for scheme, value in standard.identifiers
        ],
    }
    address = standard.address
    return Member(
        record_id=record_id,
        source=raw.source,
        source_key=raw.source_key,
        version=version,
        updated_at=raw.updated_at,
        singles={k: v for k, v in offers.items() if v is not None},
        lists=lists,
        address={
            "address": raw.address,
            "province": address.province or raw.province,
            "city": address.city or raw.city,
            "district": address.district or raw.district,
            "postal_code": address.postal_code or raw.postal_code,
            "region": address.region,
        },
    )


@dataclass(frozen=True, slots=True)
class Survived:
    """A golden record's values and, per attribute, where each came from."""

    attributes: dict[str, Any]
    lineage: dict[str, Any]


def survive(
    members: Sequence[Member],
    rules: SurvivorshipRules,
    overrides: Iterable[Override] = (),
    *,
    at: datetime,
) -> Survived:
    """The golden values of ``members`` under ``rules``, overrides pinned on top."""
    attributes: dict[str, Any] = {}
    lineage: dict[str, Any] = {}
    # Every lineage entry carries the moment; written once (a bulk load survives 100k+).
    stamp = at.isoformat()
    # Unions take members newest first: sorted once for every list attribute.
    newest_first = members if len(members) == 1 else sorted(members, key=_recency, reverse=True)
    for name, rule in rules.attributes.items():
        if rule.rule is Rule.UNION:
            values, sources = _union(newest_first, name)
            attributes[name] = values
            lineage[name] = {
                "rule": rule.rule.value,
                "rules_version": rules.version,
                "at": stamp,
                "from": sources,
            }
            continue
        winner = _pick(members, name, rule, rules)
        if winner is None:
            continue
        member, candidate = winner
        attributes[name] = candidate.value
        lineage[name] = _lineage(member, rule.rule, rules.version, stamp, valid=candidate.valid)
    for group_name, group in rules.groups.items():
        group_winner = _pick_group(members, group, rules)
        if group_winner is None:
            continue
        attributes[group_name] = {a: group_winner.address.get(a) for a in group.attributes}
        lineage[group_name] = _lineage(group_winner, group.rule, rules.version, stamp, valid=True)
    for override in overrides:
        _apply_override(attributes, lineage, override, rules)
    return Survived(attributes=attributes, lineage=lineage)


def _lineage(
    member: Member, rule: Rule, version: str, stamp: str, *, valid: bool
) -> dict[str, Any]:
    return {
        "source": member.source,
        "source_key": member.source_key,
        "record_id": member.record_id,
        "version": member.version,
        "rule": rule.value,
        "rules_version": version,
        "valid": valid,
        "at": stamp,
    }


def _apply_override(
    attributes: dict[str, Any],
    lineage: dict[str, Any],
    override: Override,
    rules: SurvivorshipRules,
) -> None:
    entry = {
        "rule": "override",
        "set_by": override.set_by,
        "at": override.set_at.isoformat(),
        "rules_version": rules.version,
    }
    for group_name, group in rules.groups.items():
        if override.attribute in group.attributes:
            pinned = dict(attributes.get(group_name) or dict.fromkeys(group.attributes))
            pinned[override.attribute] = override.value
            attributes[group_name] = pinned
            lineage.setdefault(f"{group_name}.overrides", {})[override.attribute] = entry
            return
    attributes[override.attribute] = override.value
    lineage[override.attribute] = entry


def _source_rank(source: str, priority: Sequence[str]) -> tuple[int, str]:
    try:
        return (priority.index(source), source)
    except ValueError:
        return (len(priority), source)


def _pick(
    members: Sequence[Member], name: str, rule: AttributeRule, rules: SurvivorshipRules
) -> tuple[Member, Candidate] | None:
    offers = [(m, m.singles[name]) for m in members if name in m.singles]
    if len(offers) <= 1:
        # None, or the one offer every rule would pick.
        return offers[0] if offers else None
    # A validated value beats an invalid one whatever the rule says.
    valid = [o for o in offers if o[1].valid]
    offers = valid or offers
    match rule.rule:
        case Rule.SOURCE_PRIORITY:
            priority = rules.priority_of(rule)
            return min(
                offers, key=lambda o: (_source_rank(o[0].source, priority), _newest_first(o[0]))
            )
        case Rule.MOST_RECENT:
            return max(offers, key=lambda o: o[0].recency)
        case Rule.MOST_FREQUENT:
            counts = Counter(c.key for _, c in offers)
            return max(offers, key=lambda o: (counts[o[1].key], o[0].recency))
        case Rule.LONGEST:
            return max(offers, key=lambda o: (len(str(o[1].value)), o[0].recency))
        case Rule.UNION:
            raise AssertionError("union attributes are not picked")


def _newest_first(member: Member) -> tuple[float, int, int]:
    updated, version, record_id = member.recency
    return (-updated.timestamp(), -version, -record_id)


def _recency(member: Member) -> tuple[datetime, int, int]:
    return member.recency


def _union(newest_first: Sequence[Member], name: str) -> tuple[list[Any], list[dict[str, Any]]]:
    values: list[Any] = []
    sources: list[dict[str, Any]] = []
    seen: set[str] = set()
    for member in newest_first:
        for candidate in member.lists.get(name, ()):
            if candidate.key in seen:
                continue
            seen.add(candidate.key)
            values.append(candidate.value)
            sources.append(
                {
                    "value": candidate.key,
                    "source": member.source,
                    "source_key": member.source_key,
                    "record_id": member.record_id,
                    "version": member.version,
                }
            )
    return values, sources


def _group_key(member: Member, group: GroupRule) -> tuple[str, ...]:
    return tuple(str(member.address.get(a) or "") for a in group.attributes)


def _pick_group(
    members: Sequence[Member], group: GroupRule, rules: SurvivorshipRules
) -> Member | None:
    attributes = group.attributes
    filled = [m for m in members if any(map(m.address.get, attributes))]
    if len(filled) <= 1:
        # None, or the one member every rule would pick.
        return filled[0] if filled else None

    def completeness(member: Member) -> tuple[int, int]:
        values = [v for v in map(member.address.get, attributes) if v]
        return (len(values), sum(len(str(v)) for v in values))

    match group.rule:
        case Rule.SOURCE_PRIORITY:
            priority = rules.priority_of(group)
            return min(filled, key=lambda m: (_source_rank(m.source, priority), _newest_first(m)))
        case Rule.MOST_RECENT:
            return max(filled, key=lambda m: m.recency)
        case Rule.LONGEST:
            return max(filled, key=lambda m: (completeness(m), m.recency))
        case Rule.MOST_FREQUENT:
            counts = Counter(_group_key(m, group) for m in filled)
            return max(filled, key=lambda m: (counts[_group_key(m, group)], m.recency))
        case Rule.UNION:
            raise AssertionError("groups never use union (checked when the rules load)")
