"""Survivorship rules: who wins each attribute, and the lineage that says why."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.errors import Invalid
from hub.survivorship import (
    Candidate,
    Member,
    Override,
    default_rules,
    parse_rules,
    survive,
)

AT = datetime(2026, 11, 1, tzinfo=UTC)


def member(
    record_id: int,
    source: str,
    *,
    updated: str = "2026-01-01",
    singles: dict[str, Any] | None = None,
    invalid: frozenset[str] = frozenset(),
    phones: tuple[str, ...] = (),
    address: dict[str, Any] | None = None,
) -> Member:
    return Member(
        record_id=record_id,
        source=source,
        source_key=f"{source}-{record_id}",
        version=1,
        updated_at=datetime.fromisoformat(updated).replace(tzinfo=UTC),
        singles={
            name: Candidate(value=value, key=str(value), valid=name not in invalid)
            for name, value in (singles or {}).items()
        },
        lists={"phones": [Candidate(value=p, key=p) for p in phones]},
        address=address or {},
    )


def test_finance_wins_the_legal_name_by_source_priority() -> None:
    members = [
        member(1, "sales", updated="2026-10-01", singles={"name": "星河科技"}),
        member(2, "finance", updated="2026-01-01", singles={"name": "北京星河智能科技有限公司"}),
    ]
    result = survive(members, default_rules(), at=AT)
    assert result.attributes["name"] == "北京星河智能科技有限公司"
    assert result.lineage["name"]["source"] == "finance"
    assert result.lineage["name"]["rule"] == "source_priority"
    assert result.lineage["name"]["rules_version"] == default_rules().version


def test_validated_uscc_beats_an_invalid_one_from_a_higher_priority_source() -> None:
    members = [
        member(1, "finance", singles={"uscc": "91110108MA01C2X370"}, invalid=frozenset({"uscc"})),
        member(2, "web", singles={"uscc": "91110108MA01C2X37M"}),
    ]
    result = survive(members, default_rules(), at=AT)
    assert result.attributes["uscc"] == "91110108MA01C2X37M"
    assert result.lineage["uscc"]["valid"] is True


def test_invalid_value_survives_only_when_nothing_valid_is_offered() -> None:
    members = [member(1, "finance", singles={"uscc": "bad"}, invalid=frozenset({"uscc"}))]
    result = survive(members, default_rules(), at=AT)
    assert result.attributes["uscc"] == "bad"
    assert result.lineage["uscc"]["valid"] is False


def test_most_recent_takes_the_latest_source_timestamp() -> None:
    members = [
        member(1, "web", updated="2026-03-01", singles={"name_en": "Xinghe Tech"}),
        member(2, "sales", updated="2026-09-01", singles={"name_en": "Xinghe Intelligent"}),
    ]
    assert survive(members, default_rules(), at=AT).attributes["name_en"] == "Xinghe Intelligent"


def test_most_frequent_takes_the_value_most_records_agree_on() -> None:
    members = [
        member(1, "finance", singles={"industry": "electronics"}),
        member(2, "sales", updated="2026-12-01", singles={"industry": "machinery"}),
        member(3, "web", singles={"industry": "electronics"}),
    ]
    assert survive(members, default_rules(), at=AT).attributes["industry"] == "electronics"


def test_phones_are_the_union_deduplicated_on_the_standardized_value() -> None:
    members = [
        member(1, "finance", phones=("+861062881234",)),
        member(2, "sales", phones=("+8613800138000", "+861062881234")),
    ]
    result = survive(members, default_rules(), at=AT)
    assert sorted(result.attributes["phones"]) == ["+861062881234", "+8613800138000"]
    assert len(result.lineage["phones"]["from"]) == 2


def test_address_survives_as_a_group_from_one_record() -> None:
    complete = {
        "address": "海淀区中关村大街27号",
        "province": "北京",
        "city": "北京",
        "district": "海淀区",
        "postal_code": "100080",
        "region": "华北",
    }
    partial = {
        "address": None,
        "province": None,
        "city": "北京",
        "district": None,
        "postal_code": None,
        "region": "华北",
    }
    members = [
        member(1, "sales", updated="2026-12-01", address=partial),
        member(2, "finance", address=complete),
    ]
    result = survive(members, default_rules(), at=AT)
    assert result.attributes["address"] == complete
    assert result.lineage["address"]["record_id"] == 2


def test_steward_override_beats_every_rule_and_says_who_set_it() -> None:
    members = [member(1, "finance", singles={"name": "北京星河智能科技有限公司"})]
    pinned = Override("name", "星河智能（北京）", "steward-1", AT)
    result = survive(members, default_rules(), [pinned], at=AT)
    assert result.attributes["name"] == "星河智能（北京）"
    assert result.lineage["name"] == {
        "rule": "override",
        "set_by": "steward-1",
        "at": AT.isoformat(),
        "rules_version": default_rules().version,
    }


def test_override_inside_a_group_changes_only_that_attribute() -> None:
    address = {
        "address": "文三路90号",
        "province": "浙江",
        "city": "杭州",
        "district": "西湖区",
        "postal_code": "310012",
        "region": "华东",
    }
    result = survive(
        [member(1, "finance", address=address)],
        default_rules(),
        [Override("postal_code", "310013", "steward-1", AT)],
        at=AT,
    )
    assert result.attributes["address"] == {**address, "postal_code": "310013"}


def test_rules_file_must_cover_every_attribute() -> None:
    with pytest.raises(Invalid, match="missing"):
        parse_rules('version = "x"\n[attributes.name]\nrule = "most_recent"\n')


def test_rules_file_rejects_unknown_rules_by_name() -> None:
    text = default_rules().source_text.replace('rule = "most_recent"', 'rule = "newest"', 1)
    with pytest.raises(Invalid, match=r"attributes\.name_en\.rule must be one of"):
        parse_rules(text)


def test_lists_must_use_union() -> None:
    text = default_rules().source_text.replace(
        '[attributes.phones]\nrule = "union"', '[attributes.phones]\nrule = "most_recent"'
    )
    with pytest.raises(Invalid, match="phones is a list"):
        parse_rules(text)


def test_a_member_crosses_between_processes_unchanged() -> None:
    sent = member(
        7,
        "finance",
        singles={"name": "北京星河智能科技有限公司", "uscc": "91110108MA01C2X37X"},
        invalid=frozenset({"uscc"}),
        phones=("+861062881234",),
        address={"city": "北京市"},
    )
    received = pickle.loads(pickle.dumps(sent))
    assert received == sent
    assert received.singles["uscc"].valid is False
