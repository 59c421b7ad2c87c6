from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from matching.block import blocking_keys
from matching.compare import RARE_HOLDERS, Columns, compare_pairs
from matching.decide import Decision, Rule
from matching.incremental import MatchIndex, score_candidates
from matching.model import default_model
from matching.record import PartyType
from matching.types import StandardRecord
from tests.matching.standard_records import address, org, org_name, person, person_name

HUAWEI = org_name("华为", region="深圳")
HQ = address("深圳", "龙岗区", "坂田华为基地")


def _index() -> MatchIndex:
    index = MatchIndex(default_model())
    index.add(
        org("f1", HUAWEI, uscc="914403001922038216", phone=("+8613800138000",), where=HQ),
        "c-huawei",
    )
    index.add(
        org(
            "s1", org_name("华为", None, legal_form=None), source="sales", phone=("+8613800138000",)
        ),
        "c-huawei",
    )
    index.add(
        org("f2", org_name("中兴", "通讯", region="深圳"), uscc="9144030027939873X7", where=HQ),
        "c-zte",
    )
    index.add(person("p1", person_name("王伟"), phone=("+8613900139000",)), "c-wangwei")
    return index


def test_candidates_find_the_duplicate_cluster_first() -> None:
    submitted = org(
        "web-1", HUAWEI, source="web", phone=("+8613800138000",), where=HQ, emails=("a@huawei.com",)
    )
    (best, *_) = _index().candidates(submitted, limit=3)
    assert best.cluster_id == "c-huawei"
    assert best.decision is Decision.AUTO
    assert best.members_scored == 2
    assert best.best.explanation.weight == pytest.approx(best.weight)
    assert best.to_dict()["best"]["explanation"]["comparisons"]


def test_candidates_respect_the_limit_and_order() -> None:
    submitted = org("web-1", HUAWEI, source="web", where=HQ)
    found = _index().candidates(submitted, limit=1)
    assert len(found) == 1
    with pytest.raises(ValueError, match="limit"):
        _index().candidates(submitted, limit=0)


def test_a_record_with_nothing_in_common_has_no_candidates() -> None:
    assert _index().candidates(org("x", org_name("远大", "物流")), limit=5) == []


def test_remove_and_update_change_what_is_found() -> None:
    index = _index()
    submitted = person("q", person_name("王伟"), source="crm", phone=("+8613900139000",))
    assert [c.cluster_id for c in index.candidates(submitted)] == ["c-wangwei"]
    removed = index.remove(("service", "p1"))
    assert removed.source_key == "p1"
    assert ("service", "p1") not in index
    assert index.candidates(submitted) == []
    index.add(removed, "c-old")
    index.update(removed, "c-new")
    assert index.cluster_of(("service", "p1")) == "c-new"
    assert [c.cluster_id for c in index.candidates(submitted)] == ["c-new"]
    assert len(index) == 4
    with pytest.raises(ValueError, match="already indexed"):
        index.add(removed, "c-new")


def test_a_key_held_by_too_many_records_is_skipped() -> None:
    index = MatchIndex(default_model(), max_block_size=3)
    for i in range(5):
        index.add(org(f"g{i}", org_name(f"集团{i}", "贸易"), phone=("+862088888888",)), f"c{i}")
    assert index.candidates(org("new", org_name("远大", "物流"), phone=("+862088888888",))) == []


def test_score_candidates_agrees_with_batch_scoring() -> None:
    model = default_model()
    record = org("a", HUAWEI, phone=("+8613800138000",), where=HQ)
    others = [
        org("b", org_name("华为"), phone=("+8613800138000",)),
        org("c", org_name("中兴", "通讯")),
    ]
    scored = score_candidates(model, record, others)
    cols = Columns.from_records([record, *others], model.frequencies)
    vectors = compare_pairs(cols, np.array([0, 0]), np.array([1, 2]))
    assert [p.weight for p in scored] == pytest.approx(model.match_weights(vectors).tolist())
    assert [p.right for p in scored] == [o.key for o in others]
    assert score_candidates(model, record, []) == []


def test_blocking_keys_are_exposed_for_the_database_hub() -> None:
    record = org("a", HUAWEI, uscc="914403001922038216")
    keys = blocking_keys(record)
    assert "o:uscc:914403001922038216" in keys
    assert all(isinstance(k, str) for k in keys)


def test_rare_share_follows_the_model_in_a_small_index_and_live_counts_in_a_large_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = _index()
    model_share = index.model.frequencies.rare_share(PartyType.PERSON, "name", "欧阳修")
    assert index.rare_share(PartyType.PERSON, "name", "欧阳修") == model_share
    monkeypatch.setattr("matching.incremental.MIN_RECORDS_FOR_OWN_FREQUENCIES", 1)
    # One person indexed: the candidate alone holds its name.
    assert index.rare_share(PartyType.PERSON, "name", "王伟") == pytest.approx(RARE_HOLDERS)


def _liu_binpeng() -> tuple[MatchIndex, StandardRecord]:
    """刘斌鹏 of finance (birth date, mobile) and of the call centre (that mobile), one
    customer; and a web 刘斌鹏 with another mobile, born on another day."""
    suzhou, mobile, name = address("苏州"), ("+8613609144918",), person_name("刘斌鹏")
    index = MatchIndex(default_model())
    index.add(person("fin", name, where=suzhou, phone=mobile, born=date(1980, 5, 1)), "c-liu")
    index.add(person("call", name, where=suzhou, phone=mobile), "c-liu")
    web = person("web", name, where=suzhou, phone=("+8619945307123",), born=date(1971, 3, 2))
    return index, web


def test_a_cluster_whose_other_member_tells_the_record_apart_is_no_question() -> None:
    index, web = _liu_binpeng()
    # Against the call centre's record alone, a rare name in one city is a question.
    (alone,) = score_candidates(default_model(), web, [index._member(1)])
    assert alone.decision is Decision.REVIEW
    (found,) = index.candidates(web)
    assert found.best.right == ("service", "call")
    assert found.decision is Decision.DISTINCT
    assert found.best.explanation.rule is Rule.CONTRADICTED


def test_a_record_sharing_a_number_with_the_cluster_stays_a_question() -> None:
    index, web = _liu_binpeng()
    (found,) = index.candidates(replace(web, phones=(*web.phones, index._member(1).phones[0])))
    assert found.decision is not Decision.DISTINCT
