from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from matching.compare import Columns, Constraint, compare_pairs
from matching.decide import (
    DISTINCT_CODE,
    REVIEW_CODE,
    Decision,
    Thresholds,
    decide,
    decide_pairs,
    explain,
)
from matching.incremental import score_candidates
from matching.model import default_model
from matching.types import StandardRecord
from tests.matching.standard_records import address, org, org_name, person, person_name, phones

STRONG = {
    "phone": ("+8613800138000",),
    "emails": ("ceo@huawei.com",),
    "where": address("深圳", "龙岗区", "坂田华为基地"),
}


def _decision(a: StandardRecord, b: StandardRecord) -> Decision:
    (pair,) = score_candidates(default_model(), a, [b])
    return pair.decision


def test_thresholds_must_be_ordered_and_finite() -> None:
    with pytest.raises(ValueError, match="below"):
        Thresholds(lower=5, upper=5)
    with pytest.raises(ValueError, match="finite"):
        Thresholds(lower=float("nan"), upper=5)


def test_decisions_follow_the_thresholds() -> None:
    codes = decide(
        np.array([-3.0, 0.0, 4.9, 5.0, 20.0]), np.zeros(5, dtype=np.uint8), Thresholds(0.0, 5.0)
    )
    assert codes.tolist() == [0, 1, 1, 2, 2]


def test_person_thresholds_keep_their_fractions_whatever_the_others_are_written_as() -> None:
    thresholds = Thresholds(lower=0, upper=7, person_lower=-1, person_upper=4.5)
    party = np.array([1, 1], dtype=np.int8)
    weights = np.array([4.2, 4.7])
    codes = decide(weights, np.zeros(2, dtype=np.uint8), thresholds, party)
    assert codes.tolist() == [1, 2]


def test_strong_evidence_auto_links() -> None:
    a = org("a", org_name("华为", region="深圳"), **STRONG)
    b = org("b", org_name("华为"), source="sales", **STRONG)
    assert _decision(a, b) is Decision.AUTO


def test_different_valid_usccs_never_auto_link() -> None:
    a = org("a", org_name("华为", region="深圳"), uscc="914403001922038216", **STRONG)
    b = org("b", org_name("华为"), uscc="91440300MA5F00000X", **STRONG)
    assert _decision(a, b) is not Decision.AUTO
    constraints = np.array([Constraint.DIFFERENT_USCC.value], dtype=np.uint8)
    assert decide(np.array([99.0]), constraints, Thresholds()).tolist() == [1]


def test_different_valid_national_ids_never_auto_link() -> None:
    a = person("a", person_name("王伟"), national_id="110101198001010011", **STRONG)
    b = person("b", person_name("王伟"), national_id="110101198001010020", **STRONG)
    assert _decision(a, b) is not Decision.AUTO


def test_branch_never_links_to_parent() -> None:
    parent = org("a", org_name("华为"), **STRONG)
    branch = org("b", org_name("华为", branch="上海分公司"), **STRONG)
    other_branch = org("c", org_name("华为", branch="北京分公司"), **STRONG)
    assert _decision(parent, branch) is Decision.DISTINCT
    assert _decision(branch, other_branch) is Decision.DISTINCT


def test_person_never_links_to_organization() -> None:
    assert (
        _decision(person("a", person_name("王伟"), **STRONG), org("b", org_name("王伟"), **STRONG))
        is Decision.DISTINCT
    )


def test_explanation_adds_up_to_the_score_and_is_json_ready() -> None:
    model = default_model()
    a = org("a", org_name("华为", region="深圳"), uscc="914403001922038216", **STRONG)
    b = org("b", org_name("华为"), uscc="91440300MA5F00000X", **STRONG)
    cols = Columns.from_records([a, b], model.frequencies)
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    explanation = explain(model, vectors, 0)
    assert explanation.weight == pytest.approx(float(model.match_weights(vectors)[0]))
    total = explanation.prior + sum(c.weight + c.tf_adjustment for c in explanation.comparisons)
    assert total == pytest.approx(explanation.weight)
    data = json.loads(json.dumps(explanation.to_dict()))
    assert data["constraints"] == ["different_uscc"]
    levels = {c["comparison"]: c["level"] for c in data["comparisons"]}
    assert levels["uscc"] == "different"
    assert levels["phones"] == "shared_mobile"


def test_persons_with_unrelated_names_go_to_review_at_most() -> None:
    born = date(1980, 5, 1)
    a = person("a", person_name("李娜"), emails=("li@example.cn",), born=born)
    b = person("b", person_name("李明"), emails=("li@example.cn",), born=born)
    cols = Columns.from_records([a, b])
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    generous = Thresholds(lower=-50.0, upper=-40.0, person_lower=-50.0, person_upper=-40.0)
    codes = decide_pairs(np.array([100.0]), vectors, generous)
    assert codes.tolist() == [REVIEW_CODE]


def test_relatives_with_similar_names_at_one_address_stay_in_review() -> None:
    home = address("深圳", "南山区", "桃源村3栋2单元501")
    a = person("a", person_name("黄磊鹏"), where=home, gender="男")
    b = person("b", person_name("黄磊勇"), where=home, gender="男")
    cols = Columns.from_records([a, b])
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    generous = Thresholds(lower=-50.0, upper=-40.0, person_lower=-50.0, person_upper=-40.0)
    assert decide_pairs(np.array([100.0]), vectors, generous).tolist() == [REVIEW_CODE]
    # A shared mobile is what relatives do not have: a typo of one person.
    c = replace(a, phones=phones("+8613800138000"))
    d = replace(b, phones=phones("+8613800138000"))
    cols = Columns.from_records([c, d])
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    assert decide_pairs(np.array([100.0]), vectors, generous).tolist() == [2]


def _codes(a: StandardRecord, b: StandardRecord) -> list[int]:
    cols = Columns.from_records([a, b])
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    generous = Thresholds(lower=-50.0, upper=-40.0, person_lower=-50.0, person_upper=-40.0)
    codes: list[int] = decide_pairs(np.array([100.0]), vectors, generous).tolist()
    return codes


def test_relatives_at_one_home_with_numbers_of_their_own_are_distinct() -> None:
    home = address("深圳", "南山区", "桃源村3栋2单元501")
    siblings = (
        person("a", person_name("黄磊鹏"), where=home, phone=("+8613800138000",)),
        person("b", person_name("黄磊勇"), where=home, phone=("+8613911112222",)),
    )
    assert _codes(*siblings) == [DISTINCT_CODE]
    parents = (
        person("a", person_name("黄建国"), where=home, phone=("+8613800138000",)),
        person("b", person_name("李秀英"), where=home, phone=("+8613911112222",)),
    )
    assert _codes(*parents) == [DISTINCT_CODE]
    # A mobile against a landline is no number of their own that differs: a
    # steward still looks.
    other_kinds = (
        replace(siblings[0], phones=phones("+8613800138000")),
        replace(siblings[1], phones=phones("+867552345678")),
    )
    assert _codes(*other_kinds) == [REVIEW_CODE]


def test_a_group_holding_and_its_company_are_distinct() -> None:
    holding = org("a", org_name("沃博", None, legal_form="集团有限公司"), **STRONG)
    company = org("b", org_name("沃博", "科技"), **STRONG)
    assert _codes(holding, company) == [DISTINCT_CODE]
