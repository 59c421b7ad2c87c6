from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from matching.compare import Columns, Constraint, compare_pairs
from matching.decide import (
    AUTO_CODE,
    DISTINCT_CODE,
    REVIEW_CODE,
    RULES,
    Decision,
    Rule,
    Thresholds,
    decide,
    decide_pairs,
    decide_pairs_ruled,
    explain,
    explain_many,
)
from matching.incremental import score_candidates
from matching.model import default_model
from matching.types import StandardAddress, StandardRecord
from tests.matching.standard_records import (
    address,
    latin_org_name,
    latin_person_name,
    org,
    org_name,
    person,
    person_name,
    phones,
)

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


def test_persons_with_names_one_character_apart_stay_in_review() -> None:
    home = address("深圳", "南山区")
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


def test_relatives_at_one_flat_with_no_number_in_common_are_distinct() -> None:
    home = address("深圳", "南山区", "桃源村3栋2单元501")
    # One kept the home landline, the other a mobile; or neither a number.
    siblings = (
        person("a", person_name("黄磊鹏"), where=home, phone=("+8613800138000",)),
        person("b", person_name("黄磊勇"), where=home, phone=("+867552345678",)),
    )
    assert _codes(*siblings) == [DISTINCT_CODE]
    assert _codes(*(replace(p, phones=()) for p in siblings)) == [DISTINCT_CODE]
    parents = (
        person("a", person_name("黄建国"), where=home, phone=("+8613800138000",)),
        person("b", person_name("李秀英"), where=home),
    )
    assert _codes(*parents) == [DISTINCT_CODE]
    # A resident id in common is one person, whatever the names say.
    same_id = "110101198005010013"
    mangled = (replace(parents[0], national_id=same_id), replace(parents[1], national_id=same_id))
    assert _codes(*mangled) == [REVIEW_CODE]
    # In one city but not one flat, a steward still looks.
    street = address("深圳", "南山区", "科技园路8号")
    apart = (siblings[0], replace(siblings[1], address=street))
    assert _codes(*apart) == [REVIEW_CODE]


def test_a_group_holding_and_its_company_are_distinct() -> None:
    holding = org("a", org_name("沃博", None, legal_form="集团有限公司"), **STRONG)
    company = org("b", org_name("沃博", "科技"), **STRONG)
    assert _codes(holding, company) == [DISTINCT_CODE]


def _codes_at(
    weight: float, a: StandardRecord, b: StandardRecord, *population: StandardRecord
) -> list[int]:
    """Decision codes of one pair scored ``weight`` under the default thresholds.

    ``population``: other records of the batch, which count how common a name is.
    """
    cols = Columns.from_records([a, b, *population])
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    codes: list[int] = decide_pairs(np.array([weight]), vectors, Thresholds()).tolist()
    return codes


def test_organizations_with_one_name_and_nothing_against_go_to_review() -> None:
    # A call-centre record without a city and a mobile, the finance record with
    # its landline: too weak to link, too likely to ignore.
    call = org("a", org_name("宇盛", "船舶", legal_form=None), phone=("+8619957924273",))
    finance = org("b", org_name("宇盛", "船舶"), phone=("+862161035510",), where=address("上海"))
    assert _codes_at(-3.0, call, finance) == [REVIEW_CODE]
    # A web record under the English name is the same name, romanised.
    chinese = org("c", org_name("星凯", "贸易"), phone=("+8613803310147",))
    english = org("d", latin_org_name("xingkai", "trading"), where=address("苏州"))
    assert _codes_at(-3.0, chinese, english) == [REVIEW_CODE]


def test_a_romanisation_many_companies_sound_needs_a_second_agreement_for_review() -> None:
    # A call-centre record and a web form's English name, neither with a city.
    chinese = org("a", org_name("嘉顺", "贸易", legal_form=None), phone=("+8615906693436",))
    english = org("b", latin_org_name("jiashun", "trading"))
    # Other companies whose trade names sound the same (jiashun).
    same_sound = [
        org(f"s{k}", org_name(f"{jia}{shun}", "物流"), where=address("北京"))
        for k, (jia, shun) in enumerate((j, s) for j in "嘉佳家加甲夹驾价假架" for s in "顺舜瞬")
    ]
    holders = Thresholds().common_romanisation_holders
    few, many = same_sound[: holders - 2], same_sound * 2
    assert len(many) > holders
    assert _ruled_at(-1.5, chinese, english, *few) == (REVIEW_CODE, Rule.ORGANIZATION_NAME_FLOOR)
    assert _ruled_at(-1.5, chinese, english, *many) == (DISTINCT_CODE, None)
    # One city in common seconds the name, however common its sound.
    guangzhou = address("广州")
    placed = replace(chinese, address=guangzhou), replace(english, address=guangzhou)
    assert _ruled_at(-1.5, *placed, *many) == (REVIEW_CODE, Rule.ORGANIZATION_NAME_FLOOR)


def test_common_romanisation_holders_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="common_romanisation_holders"):
        Thresholds(common_romanisation_holders=-1)


def test_a_floored_pair_says_which_rule_put_it_into_review() -> None:
    call = org("a", org_name("宇盛", "船舶", legal_form=None), phone=("+8619957924273",))
    finance = org("b", org_name("宇盛", "船舶"), phone=("+862161035510",), where=address("上海"))
    (pair,) = score_candidates(default_model(), call, [finance])
    assert pair.decision is Decision.REVIEW
    assert pair.weight < Thresholds().lower
    assert pair.explanation.rule is Rule.ORGANIZATION_NAME_FLOOR
    line = json.loads(json.dumps(pair.to_dict()))
    assert line["explanation"]["rule"] == "organization_name_floor"
    assert line["explanation"]["reason"] == Rule.ORGANIZATION_NAME_FLOOR.reason


def test_a_pair_decided_by_its_weight_names_no_rule() -> None:
    a = org("a", org_name("华为", "技术"), **STRONG)
    b = org("b", org_name("华为", "技术"), **STRONG)
    (pair,) = score_candidates(default_model(), a, [b])
    assert pair.decision is Decision.AUTO
    assert pair.explanation.rule is None
    assert "rule" not in pair.to_dict()["explanation"]


def test_rules_are_named_only_where_they_change_a_decision() -> None:
    call = person("a", person_name("刘斌鹏"), where=address("苏州"), phone=("+8613609144918",))
    web = person("b", person_name("刘斌鹏"), where=address("苏州"), phone=("+8619945307123",))
    cols = Columns.from_records([call, web])
    vectors = compare_pairs(cols, np.array([0, 0]), np.array([1, 1]))
    # The same pair scored below and above the review threshold: only the
    # first is in review by the floor.
    decided = decide_pairs_ruled(np.array([-6.0, 1.0]), vectors, Thresholds())
    assert decided.codes.tolist() == [REVIEW_CODE, REVIEW_CODE]
    (floored,) = explain_many(default_model(), vectors, np.array([0]), decided.rules)
    (scored,) = explain_many(default_model(), vectors, np.array([1]), decided.rules)
    assert floored.rule is Rule.RARE_PERSON_NAME_FLOOR
    assert scored.rule is None
    with pytest.raises(ValueError, match="rule codes"):
        explain_many(default_model(), vectors, np.array([0]), decided.rules[:1])


def test_organizations_with_one_name_and_something_against_stay_distinct() -> None:
    shanghai = org("a", org_name("宇盛", "船舶"), phone=("+862161035510",), where=address("上海"))
    against = {
        "another city": replace(shanghai, address=address("北京")),
        "another landline": replace(shanghai, phones=phones("+862163721919")),
        "another mail box": replace(shanghai, emails=("info@other.cn",)),
        "another USCC": replace(shanghai, uscc="91110108MA01ABCD2X"),
        "a branch": replace(shanghai, name=org_name("宇盛", "船舶", branch="上海分公司")),
    }
    first = replace(
        shanghai, source_key="z", emails=("info@yusheng.cn",), uscc="91110000717830735M"
    )
    for label, other in against.items():
        assert _codes_at(-3.0, first, other) == [DISTINCT_CODE], label


def test_a_short_name_sharing_a_switchboard_goes_to_review() -> None:
    short = org("a", org_name("威太", None, legal_form=None), phone=("+8687145030747",))
    legal = org("b", org_name("威泰", "冶金"), phone=("+8687145030747",), where=address("昆明"))
    assert _codes_at(-4.0, short, legal) == [REVIEW_CODE]


def test_a_name_spelt_one_character_apart_sharing_a_switchboard_goes_to_review() -> None:
    kunming = address("昆明")
    filed = org("a", org_name("威泰", "冶金"), phone=("+8687145030747",), where=kunming)
    slipped = org("b", org_name("威秦", "冶金"), phone=("+8687145030747",), where=kunming)
    assert _ruled_at(-4.0, filed, slipped) == (REVIEW_CODE, Rule.ORGANIZATION_NAME_FLOOR)
    # Without the switchboard the names alone are two companies.
    elsewhere = replace(slipped, phones=phones("+8687146666666"))
    assert _codes_at(-4.0, filed, elsewhere) == [DISTINCT_CODE]


def _namesakes(name: str, count: int) -> list[StandardRecord]:
    """``count`` other persons called ``name``, one per city: they make the name common."""
    cities = ("上海", "广州", "深圳", "成都", "武汉", "西安")
    return [
        person(f"other-{k}", person_name(name), where=address(cities[k]), phone=())
        for k in range(count)
    ]


def test_namesakes_in_one_city_need_more_than_even_odds_for_review() -> None:
    city = address("北京")
    a = person("a", person_name("吴强"), where=city, phone=("+8615999067722",))
    b = person("b", person_name("吴强"), where=city, phone=("+8613646793382",))
    others = _namesakes("吴强", 4)
    thresholds = Thresholds()
    assert _codes_at(thresholds.namesake_lower - 0.1, a, b, *others) == [DISTINCT_CODE]
    assert _codes_at(thresholds.namesake_lower, a, b, *others) == [REVIEW_CODE]
    # Without the city on one side they are no namesakes' trap: the person
    # thresholds apply.
    elsewhere = replace(b, address=address(None))
    assert _codes_at(thresholds.namesake_lower - 0.1, a, elsewhere, *others) == [REVIEW_CODE]
    # A shared birth date is their own: the person thresholds apply.
    born = date(1980, 5, 1)
    assert _codes_at(
        thresholds.namesake_lower - 0.1,
        replace(a, birth_date=born),
        replace(b, birth_date=born),
        *others,
    ) == [REVIEW_CODE]


def test_namesakes_need_numbers_of_their_own_that_differ() -> None:
    # A mobile in one department, the home landline in the other: no sign of
    # two people, so the person thresholds apply, not the namesakes' one.
    city = address("北京")
    mobile = person("a", person_name("吴强"), where=city, phone=("+8615999067722",))
    home = person("b", person_name("吴强"), where=city, phone=("+862165432109",))
    others = _namesakes("吴强", 4)
    below = Thresholds().namesake_lower - 0.1
    assert _ruled_at(below, mobile, home, *others) == (REVIEW_CODE, None)
    unreachable = replace(home, phones=())
    assert _ruled_at(below, mobile, unreachable, *others) == (REVIEW_CODE, None)


def test_persons_of_one_rare_name_and_nothing_against_go_to_review() -> None:
    # One person with two mobiles, one known to each department, in one
    # city: only the name is shared, and no one else holds it.
    suzhou = address("苏州")
    call = person("a", person_name("刘斌鹏"), where=suzhou, phone=("+8613609144918",))
    web = person("b", person_name("刘斌鹏"), where=suzhou, phone=("+8619945307123",))
    assert _codes_at(-6.0, call, web) == [REVIEW_CODE]
    assert _codes_at(-6.0, call, web, *_namesakes("刘斌鹏", 3)) == [REVIEW_CODE]
    # A homophone typo (斌/彬) shares the sound, as rare as the name.
    typo = replace(call, name=person_name("刘彬鹏"))
    assert _codes_at(-6.0, typo, web) == [REVIEW_CODE]
    # The home landline in one department, a mobile in the other, no city.
    home = person("c", person_name("刘斌鹏"), phone=("+8651265876318",))
    assert _codes_at(-6.0, home, replace(web, address=address(None))) == [REVIEW_CODE]


def test_a_rare_name_and_its_romanisation_go_to_review() -> None:
    # A web form filled in pinyin: the same rare name, as rare as its sound.
    suzhou = address("苏州")
    call = person("a", person_name("刘斌鹏"), where=suzhou, phone=("+8613609144918",))
    web = person("b", latin_person_name("Liu", "Binpeng"), where=suzhou)
    assert _codes_at(-6.0, call, web) == [REVIEW_CODE]
    # Common as 王伟 (its sound on five other records), it stays a namesake's.
    common = replace(call, name=person_name("王伟"))
    wang = replace(web, name=latin_person_name("Wang", "Wei"))
    assert _codes_at(-6.0, common, wang, *_namesakes("王伟", 5)) == [DISTINCT_CODE]


def test_persons_of_a_common_name_stay_distinct_however_alike() -> None:
    suzhou = address("苏州")
    call = person("a", person_name("王伟"), where=suzhou, phone=("+8613609144918",))
    web = person("b", person_name("王伟"), where=suzhou, phone=("+8619945307123",))
    assert _codes_at(-6.0, call, web, *_namesakes("王伟", 3)) == [REVIEW_CODE]
    assert _codes_at(-6.0, call, web, *_namesakes("王伟", 4)) == [DISTINCT_CODE]
    assert Thresholds(rare_name_holders=4).rare_name_holders == 4
    with pytest.raises(ValueError, match="rare_name_holders"):
        Thresholds(rare_name_holders=-1)


def test_persons_of_one_rare_name_with_something_against_stay_distinct() -> None:
    first = person("a", person_name("刘斌鹏"), where=address("苏州"), phone=("+8613609144918",))
    second = replace(first, source_key="b", phones=phones("+8619945307123"))
    against = {
        "another city": replace(second, address=address("北京")),
        "another birth date": replace(second, birth_date=date(1971, 3, 2)),
        "another gender": replace(second, gender="F"),
        "another mail box": replace(second, emails=("liubinpeng@163.com",)),
        "another mobile, no city in common": replace(second, address=address(None)),
    }
    first = replace(first, birth_date=date(1980, 5, 1), gender="M", emails=("lbp@qq.com",))
    for label, other in against.items():
        assert _codes_at(-6.0, first, other) == [DISTINCT_CODE], label


def _ruled_pairs(
    records: list[StandardRecord], pairs: list[tuple[int, int, float]]
) -> list[tuple[int, Rule | None]]:
    """Decision code and rule of each ``(left, right, weight)`` pair among ``records``."""
    cols = Columns.from_records(records)
    left = np.array([p[0] for p in pairs], dtype=np.int64)
    right = np.array([p[1] for p in pairs], dtype=np.int64)
    vectors = compare_pairs(cols, left, right)
    decided = decide_pairs_ruled(np.array([p[2] for p in pairs]), vectors, Thresholds())
    return [
        (int(code), RULES[rule])
        for code, rule in zip(decided.codes.tolist(), decided.rules.tolist(), strict=True)
    ]


def _liu_binpeng(*, call_phone: str, web_phone: str) -> list[StandardRecord]:
    """刘斌鹏 of finance (born 1980), of the call centre and of the web (born 1971), in 苏州."""
    suzhou, name = address("苏州"), person_name("刘斌鹏")
    return [
        person("a", name, where=suzhou, phone=("+8613609144918",), born=date(1980, 5, 1)),
        person("b", name, where=suzhou, phone=(call_phone,)),
        person("c", name, where=suzhou, phone=(web_phone,), born=date(1971, 3, 2)),
    ]


def test_a_weak_pair_that_another_record_of_its_customer_contradicts_is_distinct() -> None:
    # 刘斌鹏 in finance (birth date, mobile) and at the call centre (that
    # mobile) are one customer; 刘斌鹏 on the web with another mobile was
    # born on another day: the rare name alone no longer makes a question.
    records = _liu_binpeng(call_phone="+8613609144918", web_phone="+8619945307123")
    weak = (1, 2, -6.0)
    assert _ruled_pairs(records, [weak]) == [(REVIEW_CODE, Rule.RARE_PERSON_NAME_FLOOR)]
    linked, against = (0, 1, 20.0), (0, 2, -6.0)
    assert _ruled_pairs(records, [linked, weak, against]) == [
        (AUTO_CODE, None),
        (DISTINCT_CODE, Rule.CONTRADICTED),
        (DISTINCT_CODE, None),
    ]
    # Unlinked, the finance record is another customer's: nothing contradicts.
    unlinked = (0, 1, -20.0)
    assert _ruled_pairs(records, [unlinked, weak, against])[1] == (
        REVIEW_CODE,
        Rule.RARE_PERSON_NAME_FLOOR,
    )


def test_a_pair_sharing_a_number_is_not_contradicted_by_another() -> None:
    # The web record keeps the call centre's mobile: its own evidence, weighed
    # by a steward whatever another record of the two says.
    records = _liu_binpeng(call_phone="+8619945307123", web_phone="+8619945307123")
    decided = _ruled_pairs(records, [(0, 1, 20.0), (1, 2, 1.0), (0, 2, -6.0)])
    assert decided[1] == (REVIEW_CODE, None)


def test_namesake_threshold_must_be_finite() -> None:
    with pytest.raises(ValueError, match="finite"):
        Thresholds(namesake_lower=float("inf"))


def test_companies_of_one_group_filed_under_other_industries_are_distinct() -> None:
    shanghai = address("上海")
    short = org("a", org_name("辉宝", None, legal_form=None), where=shanghai)
    metals = replace(short, source_key="b", industry="metallurgy")
    tech = replace(short, source_key="c", industry="technology")
    assert _codes_at(3.0, metals, tech) == [DISTINCT_CODE]
    # One USCC is one company, whatever a department filed it under.
    uscc = "91310000MA1FL0XX1Q"
    assert _codes_at(3.0, replace(metals, uscc=uscc), replace(tech, uscc=uscc)) == [REVIEW_CODE]


def test_a_shared_trade_name_with_numbers_of_their_own_is_two_companies() -> None:
    shanghai = address("上海")
    short = org("a", org_name("辉宝", None, legal_form=None), phone=("+862186035862",))
    full = org("b", org_name("辉宝", "汽车配件"), phone=("+862161234567",), where=shanghai)
    assert _codes_at(3.0, short, full) == [DISTINCT_CODE]
    # Filed under the industry its full name spells out, it is the company.
    assert _codes_at(3.0, replace(short, industry="automotive"), full) == [REVIEW_CODE]


def test_a_legal_name_that_only_sounds_the_same_goes_to_review() -> None:
    # 上海顺合材料有限公司 typed in by a call centre as 上海顺和材料有限公司,
    # from another of the company's landlines.
    typed = org(
        "a", org_name("顺和", "材料", region="上海"), phone=("+862162345678",), source="callcenter"
    )
    filed = org("b", org_name("顺合", "材料", region="上海"), phone=("+862187654321",))
    assert _codes_at(-1.0, typed, filed) == [REVIEW_CODE]
    # Without the region and legal form it is a trade name that sounds alike:
    # with numbers of their own, two companies of one brand once the sound
    # is common ...
    short = replace(typed, name=org_name("顺和", "材料", legal_form=None))
    same_sound = [
        org(f"s{k}", org_name(name, "材料", legal_form=None), where=address("北京"))
        for k, name in enumerate(("顺河", "舜和", "顺禾", "舜合", "瞬和", "顺核"))
    ]
    assert _codes_at(-1.0, short, filed, *same_sound) == [DISTINCT_CODE]
    # ... and a typo of one name while few records hold the sound.
    assert _codes_at(-1.0, short, filed) == [REVIEW_CODE]


def _ruled_at(
    weight: float, a: StandardRecord, b: StandardRecord, *population: StandardRecord
) -> tuple[int, Rule | None]:
    """Decision code and rule of one pair scored ``weight`` (see ``_codes_at``)."""
    cols = Columns.from_records([a, b, *population])
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    decided = decide_pairs_ruled(np.array([weight]), vectors, Thresholds())
    (explanation,) = explain_many(default_model(), vectors, np.array([0]), decided.rules)
    return int(decided.codes[0]), explanation.rule


def test_a_short_name_sounding_like_a_trade_name_many_hold_is_another_company() -> None:
    short, full, same_sound = tianxin_in_suzhou()
    holders = Thresholds().common_sound_holders
    assert _ruled_at(2.0, short, full, *same_sound[: holders - 2]) == (REVIEW_CODE, None)
    assert _ruled_at(2.0, short, full, *same_sound[: holders - 1]) == (
        DISTINCT_CODE,
        Rule.COMMON_SOUND,
    )
    # One legal form in common makes it a typed-in typo of the legal name.
    legal = replace(short, name=org_name("天新", "物流"))
    assert _ruled_at(2.0, legal, full, *same_sound)[0] == REVIEW_CODE


def test_common_sound_holders_must_not_be_negative() -> None:
    assert Thresholds(common_sound_holders=8).common_sound_holders == 8
    with pytest.raises(ValueError, match="common_sound_holders"):
        Thresholds(common_sound_holders=-1)
    with pytest.raises(ValueError, match="typo_sound_holders"):
        Thresholds(typo_sound_holders=-1)


def test_a_rare_trade_name_in_one_city_goes_to_review() -> None:
    # The call centre keeps the sales manager's mobile, finance the switchboard.
    zhengzhou = address("郑州")
    short = org(
        "a", org_name("盛佳", None, legal_form=None), phone=("+8618824982839",), where=zhengzhou
    )
    full = org("b", org_name("盛佳", "信息技术"), phone=("+8637183353500",), where=zhengzhou)
    assert _ruled_at(-2.0, short, full) == (REVIEW_CODE, Rule.RARE_TRADE_NAME_FLOOR)
    # Without a city in common there is too little to ask about.
    elsewhere = replace(short, address=address("洛阳"))
    assert _ruled_at(-2.0, elsewhere, full) == (DISTINCT_CODE, None)


def test_a_rare_trade_name_without_a_city_goes_to_review() -> None:
    # The call centre noted the sales manager's mobile and no city.
    short = org("a", org_name("盛佳", None, legal_form=None), phone=("+8618824982839",))
    full = org("b", org_name("盛佳", "信息技术"), phone=("+8637183353500",), where=address("郑州"))
    assert _ruled_at(-2.0, short, full) == (REVIEW_CODE, Rule.RARE_TRADE_NAME_FLOOR)
    # Two mobiles that differ, and nothing to place either: two companies as likely.
    other_mobile = replace(full, phones=phones("+8613911112222"))
    assert _ruled_at(-2.0, short, other_mobile) == (DISTINCT_CODE, None)


def test_a_trade_name_many_companies_hold_stays_distinct() -> None:
    zhengzhou = address("郑州")
    short = org(
        "a", org_name("盛佳", None, legal_form=None), phone=("+8618824982839",), where=zhengzhou
    )
    full = org("b", org_name("盛佳", "信息技术"), phone=("+8637183353500",), where=zhengzhou)
    siblings = [
        org(f"s{k}", org_name("盛佳", term), where=address("北京"))
        for k, term in enumerate(("物流", "医药", "电器", "纺织"))
    ]
    assert Thresholds().rare_name_holders == 5
    assert _ruled_at(-2.0, short, full, *siblings[:3]) == (
        REVIEW_CODE,
        Rule.RARE_TRADE_NAME_FLOOR,
    )
    assert _ruled_at(-2.0, short, full, *siblings) == (DISTINCT_CODE, None)


def test_two_companies_of_one_group_are_not_floored_by_their_rare_trade_name() -> None:
    # Each with a landline of its own and no industry in common: two companies.
    zhengzhou = address("郑州")
    short = org(
        "a", org_name("盛佳", None, legal_form=None), phone=("+8637183353511",), where=zhengzhou
    )
    full = org("b", org_name("盛佳", "信息技术"), phone=("+8637183353500",), where=zhengzhou)
    assert _ruled_at(-2.0, short, full)[0] == DISTINCT_CODE


def test_a_shared_trade_name_with_mail_boxes_of_other_domains_is_two_companies() -> None:
    shanghai = address("上海")
    short = org("a", org_name("辉宝", None, legal_form=None), emails=("sales@huibao.cn",))
    full = org("b", org_name("辉宝", "汽车配件"), emails=("info@hbqp.com",), where=shanghai)
    assert _ruled_at(3.0, short, full) == (DISTINCT_CODE, Rule.GROUP_COMPANIES)
    assert _ruled_at(3.0, replace(short, emails=()), full) == (REVIEW_CODE, None)


def test_one_company_name_in_one_city_with_one_industry_links() -> None:
    shanghai = address("上海")
    short = org("a", org_name("辉宝", None, legal_form=None), where=shanghai)
    full = org("b", org_name("辉宝", "汽车配件"), where=shanghai)
    filed = [replace(r, industry="automotive") for r in (short, full)]
    assert _ruled_at(3.0, *filed) == (AUTO_CODE, Rule.CORROBORATED_COMPANY)
    # Without the industry, or with numbers of their own, a steward decides.
    assert _ruled_at(3.0, short, full) == (REVIEW_CODE, None)
    numbers = ("+862161234567", "+862187654321")
    own = [replace(r, phones=phones(p)) for r, p in zip(filed, numbers, strict=True)]
    assert _ruled_at(3.0, *own)[0] == REVIEW_CODE
    # Another city is against it.
    elsewhere = replace(filed[1], address=address("北京"))
    assert _ruled_at(3.0, filed[0], elsewhere)[0] != AUTO_CODE


def test_one_company_name_with_one_contact_person_links() -> None:
    short = org("a", org_name("辉宝", None, legal_form=None), where=address("上海"))
    full = org("b", org_name("辉宝", "汽车配件"))
    named = [replace(r, contact_name="王建国") for r in (short, full)]
    assert _ruled_at(3.0, *named) == (AUTO_CODE, Rule.CORROBORATED_COMPANY)


def test_companies_of_unrelated_names_at_one_address_are_neighbours() -> None:
    tower = address("北京", "朝阳区", "建国路88号")
    a = org("a", org_name("东鑫", "能源"), phone=("+8613802395743",), where=tower)
    b = org("b", org_name("锦创", "信息技术"), phone=("+861050877503",), where=tower)
    assert _ruled_at(5.0, a, b) == (DISTINCT_CODE, Rule.NEIGHBOURS)
    # One switchboard in common: a renamed company, or one of a group.
    c = replace(b, phones=phones("+861050877503"))
    d = replace(a, phones=phones("+861050877503"))
    assert _ruled_at(5.0, c, d)[1] is not Rule.NEIGHBOURS


def test_companies_of_one_group_that_share_what_one_company_keeps_go_to_review() -> None:
    # One trade name, each with a landline of its own: two companies of one group ...
    shanghai = address("上海")
    short = org("a", org_name("辉宝", None, legal_form=None), phone=("+862186035862",))
    full = org("b", org_name("辉宝", "汽车配件"), phone=("+862161234567",), where=shanghai)
    assert _ruled_at(9.0, short, full) == (DISTINCT_CODE, Rule.GROUP_COMPANIES)
    # ... unless they also share the flat: then a steward decides, however
    # strong the weight.
    flat = address("上海", "浦东新区", "张江路88号3号楼501室")
    one_flat = replace(short, address=flat), replace(full, address=flat)
    assert _ruled_at(9.0, *one_flat) == (REVIEW_CODE, Rule.GROUP_COMPANIES)
    # Below the review threshold the weight keeps them apart.
    assert _ruled_at(-1.0, *one_flat)[0] == DISTINCT_CODE


def test_a_common_sound_with_a_number_in_common_stays_in_review() -> None:
    short, full, same_sound = tianxin_in_suzhou()
    assert _ruled_at(2.0, short, full, *same_sound) == (DISTINCT_CODE, Rule.COMMON_SOUND)
    switchboard = phones("+865126789000")
    shared = replace(short, phones=switchboard), replace(full, phones=switchboard)
    assert _ruled_at(2.0, *shared, *same_sound) == (REVIEW_CODE, None)


def test_person_names_that_sound_alike_in_one_city_go_to_review() -> None:
    # A call centre's homophone typo with the home landline, a department's
    # record with a mobile, in one city.
    hangzhou = address("杭州")
    call = person("a", person_name("胡永"), phone=("+8657184094738",), where=hangzhou)
    web = person("b", person_name("胡勇"), phone=("+8618042988949",), where=hangzhou)
    # Others who hold the sound (hu yong) elsewhere.
    same_sound = [
        person(f"s{k}", person_name(name), where=address("北京"))
        for k, name in enumerate(("胡勇", "胡涌", "胡泳", "胡咏", "胡湧", "胡永") * 3)
    ]
    holders = Thresholds().sound_in_city_holders
    within = same_sound[: holders - 2]
    assert len(within) > Thresholds().rare_name_holders
    assert _ruled_at(-4.0, call, web, *within) == (REVIEW_CODE, Rule.RARE_PERSON_NAME_FLOOR)
    # Without one city in common, the sound is no longer rare enough.
    elsewhere = replace(web, address=address("北京"))
    assert _ruled_at(-4.0, call, elsewhere, *within) == (DISTINCT_CODE, None)
    # A mobile one digit apart is one number mistyped, however common the sound.
    mistyped = replace(call, phones=phones("+8618042988948"), address=StandardAddress())
    assert _ruled_at(-4.0, mistyped, web, *same_sound) == (
        REVIEW_CODE,
        Rule.RARE_PERSON_NAME_FLOOR,
    )
    other_mobile = replace(mistyped, phones=phones("+8613512345678"))
    assert _ruled_at(-4.0, other_mobile, web, *same_sound) == (DISTINCT_CODE, None)


def test_a_trade_name_filed_under_one_industry_is_rare_for_longer() -> None:
    # A call centre's short name with a mobile, the full name with its landline.
    short = org("a", org_name("浩康飞", None, legal_form=None), phone=("+8618341897040",))
    full = org("b", org_name("浩康飞", "食品"), phone=("+8653156074550",), where=address("济南"))
    siblings = [
        org(f"s{k}", org_name("浩康飞", term), where=address("北京"))
        for k, term in enumerate(("技术", "物流", "贸易") * 2)
    ]
    assert len(siblings) + 2 > Thresholds().rare_name_holders
    assert _ruled_at(-3.0, short, full, *siblings) == (DISTINCT_CODE, None)
    filed = replace(short, industry="food"), replace(full, industry="food")
    assert _ruled_at(-3.0, *filed, *siblings) == (REVIEW_CODE, Rule.RARE_TRADE_NAME_FLOOR)


def test_a_company_name_many_records_hold_needs_a_second_agreement_for_review() -> None:
    # A call-centre record without a city and a mobile, the finance record with
    # its landline: the same name, nothing against.
    call = org("a", org_name("宇盛", "船舶", legal_form=None), phone=("+8619957924273",))
    finance = org("b", org_name("宇盛", "船舶"), phone=("+862161035510",), where=address("上海"))
    holders = Thresholds().common_name_holders
    namesakes = [
        org(f"n{k}", org_name("宇盛", "船舶"), where=address("大连")) for k in range(holders)
    ]
    few, many = namesakes[: holders - 2], namesakes
    assert _ruled_at(-3.0, call, finance, *few) == (REVIEW_CODE, Rule.ORGANIZATION_NAME_FLOOR)
    assert _ruled_at(-3.0, call, finance, *many) == (DISTINCT_CODE, None)
    # One city in common seconds the name.
    placed = replace(call, address=address("上海"))
    assert _ruled_at(-3.0, placed, finance, *many) == (REVIEW_CODE, Rule.ORGANIZATION_NAME_FLOOR)


def test_common_name_holders_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="common_name_holders"):
        Thresholds(common_name_holders=-1)


def test_a_common_trade_name_in_one_city_under_one_industry_goes_to_review() -> None:
    # A short name against the full one, in one city, many records of the trade name.
    dalian = address("大连")
    short = org("a", org_name("佳丰", None, legal_form=None), phone=("+8641148359266",))
    full = org("b", org_name("佳丰", "纺织"), phone=("+8619805711156",), where=dalian)
    siblings = [
        org(f"s{k}", org_name("佳丰", term), where=address("北京"))
        for k, term in enumerate(("技术", "物流", "贸易", "汽车配件") * 12)
    ]
    in_city = replace(short, address=dalian)
    assert _ruled_at(-1.0, in_city, full, *siblings) == (DISTINCT_CODE, None)
    # Filed under one industry (or writing from one mail domain), a steward decides.
    filed = replace(in_city, industry="textile"), replace(full, industry="textile")
    assert _ruled_at(-1.0, *filed, *siblings) == (REVIEW_CODE, Rule.SECONDED_TRADE_NAME)
    mailed = (
        replace(in_city, emails=("sales@jiafeng.cn",)),
        replace(full, emails=("info@jiafeng.cn",)),
    )
    assert _ruled_at(-1.0, *mailed, *siblings) == (REVIEW_CODE, Rule.SECONDED_TRADE_NAME)
    # Without one city it stays distinct.
    unplaced = replace(filed[0], address=StandardAddress(), phones=())
    assert _ruled_at(-1.0, unplaced, filed[1], *siblings)[0] == DISTINCT_CODE


def tianxin_in_suzhou() -> tuple[StandardRecord, StandardRecord, list[StandardRecord]]:
    """A short trade name and a full one that sound alike (tianxin) in Suzhou,
    and the companies in Beijing whose trade names sound the same."""
    suzhou = address("苏州")
    short = org("a", org_name("天新", None, legal_form=None), where=suzhou)
    full = org("b", org_name("天鑫", "物流"), where=suzhou)
    same_sound = [
        org(f"s{k}", org_name(f"{tian}{xin}", None, legal_form=None), where=address("北京"))
        for k, (tian, xin) in enumerate((t, x) for t in "天田添甜填" for x in "心欣馨信芯")
    ]
    return short, full, same_sound
