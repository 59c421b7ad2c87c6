from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching.compare import (
    COMPARISONS,
    NAME_LEVELS,
    RARE_HOLDERS,
    Columns,
    Constraint,
    compare_pairs,
    landline_city,
)
from matching.record import parse_record
from matching.standardize import standardize_record
from matching.types import StandardRecord
from tests.matching.standard_records import (
    address,
    latin_org_name,
    latin_person_name,
    org,
    org_name,
    person,
    person_name,
)

NAMES = [c.name for c in COMPARISONS]


def _levels(a: StandardRecord, b: StandardRecord) -> dict[str, str]:
    cols = Columns.from_records([a, b])
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    return {c.name: c.label(int(vectors.levels[0, i])) for i, c in enumerate(COMPARISONS)}


def _constraints(a: StandardRecord, b: StandardRecord) -> Constraint:
    cols = Columns.from_records([a, b])
    return Constraint(int(compare_pairs(cols, np.array([0]), np.array([1])).constraints[0]))


def test_same_core_name_is_exact() -> None:
    a = org("a", org_name("华为", region="北京"))
    b = org("b", org_name("华为"))
    assert _levels(a, b)["name"] == "exact"


def test_short_name_meets_legal_name_at_trade_level() -> None:
    legal = org("a", org_name("华为", "技术"))
    short = org("b", org_name("华为", None, legal_form=None))
    assert _levels(legal, short)["name"] == "trade_equal"


def test_homophone_typo_is_its_own_level() -> None:
    assert (
        _levels(person("a", person_name("张伟")), person("b", person_name("章伟")))["name"]
        == "homophone"
    )


def test_english_names_meet_chinese_names_romanised() -> None:
    assert (
        _levels(person("a", person_name("王伟")), person("b", latin_person_name("Wang", "Wei")))[
            "name"
        ]
        == "romanised_equal"
    )
    assert (
        _levels(org("a", org_name("华为", "技术")), org("b", latin_org_name("huawei")))["name"]
        == "romanised_equal"
    )


def test_different_names_are_different() -> None:
    assert (
        _levels(person("a", person_name("王伟")), person("b", person_name("李娜")))["name"]
        == "different"
    )


def test_one_character_slip_in_a_long_name_is_close() -> None:
    a = org("a", org_name("远大恒通", "物流"))
    b = org("b", org_name("远大恒达", "物流"))
    assert _levels(a, b)["name"] in {"close", "similar"}


def test_shared_mobile_is_stronger_level_than_shared_landline() -> None:
    mobile = _levels(
        org("a", org_name("甲"), phone=("+8613800138000",)),
        org("b", org_name("乙"), phone=("+8613800138000",)),
    )
    landline = _levels(
        org("a", org_name("甲"), phone=("+862012345678",)),
        org("b", org_name("甲"), phone=("+862012345678",)),
    )
    none = _levels(
        org("a", org_name("甲"), phone=("+862012345678",)),
        org("b", org_name("乙"), phone=("+862087654321",)),
    )
    assert mobile["phones"] == "shared_mobile"
    assert landline["phones"] == "shared_landline"
    assert none["phones"] == "different"


def test_landline_held_by_several_names_is_a_switchboard() -> None:
    # A group's companies share one switchboard: it identifies none of them.
    switchboard = "+862012345678"
    records = [
        org("a", org_name("沃博", "科技"), phone=(switchboard,)),
        org("b", org_name("沃博", "贸易"), phone=(switchboard,)),
        org("c", org_name("沃博", "科技"), phone=(switchboard, "+862087654321")),
    ]
    cols = Columns.from_records(records)
    vectors = compare_pairs(cols, np.array([0, 0]), np.array([1, 2]))
    phones = COMPARISONS[NAMES.index("phones")]
    levels = [phones.label(int(x)) for x in vectors.levels[:, NAMES.index("phones")]]
    assert levels == ["shared_switchboard", "shared_switchboard"]


def test_phones_one_slip_apart() -> None:
    swapped = _levels(
        person("a", person_name("张勇"), phone=("+8615592505804",)),
        person("b", person_name("张勇"), phone=("+8615952505804",)),
    )
    assert swapped["phones"] == "one_digit_apart"


def test_contact_person_levels() -> None:
    def level(a: str | None, b: str | None) -> str:
        left = replace(org("a", org_name("甲")), contact_name=a)
        right = replace(org("b", org_name("甲")), contact_name=b)
        return _levels(left, right)["contact"]

    assert level("张芳婷", "张芳婷") == "same"
    assert level("张芳婷", "章芳婷") == "homophone"
    assert level("张芳婷", "唐秀") == "different"
    assert level("张芳婷", None) == "missing"


def test_group_holding_against_company_is_its_own_legal_form_level() -> None:
    holding = org("a", org_name("沃博", None, legal_form="集团有限公司"))
    company = org("b", org_name("沃博", "科技"))
    assert _levels(holding, company)["legal_form"] == "group_mismatch"


def test_short_name_against_name_with_industry_is_not_another_industry() -> None:
    short = org("a", org_name("泽美", None, legal_form=None))
    full = org("b", org_name("泽美", "物流"))
    sibling = org("c", org_name("泽美", "贸易"))
    assert _levels(short, full)["name"] == "trade_equal"
    assert _levels(sibling, full)["name"] == "trade_equal_other_industry"


def test_missing_values_carry_no_level() -> None:
    levels = _levels(org("a", org_name("甲")), org("b", org_name("乙")))
    for name in ("uscc", "phones", "emails", "address", "name_region", "birth_date"):
        assert levels[name] == "missing", name


def test_address_levels() -> None:
    def level(a: tuple[str, str | None, str | None], b: tuple[str, str | None, str | None]) -> str:
        return _levels(
            org("a", org_name("甲"), where=address(*a)), org("b", org_name("乙"), where=address(*b))
        )["address"]

    assert level(("北京", None, None), ("上海", None, None)) == "different_city"
    assert level(("北京", None, None), ("北京", None, None)) == "same_city"
    assert (
        level(("北京", "海淀区", "中关村大街1号"), ("北京", "海淀区", "学院路2号"))
        == "same_district"
    )
    assert (
        level(
            ("北京", "海淀区", "中关村大街27号院3号楼"), ("北京", "海淀区", "中关村大街27号院3楼")
        )
        == "similar_detail"
    )
    assert (
        level(("北京", None, "中关村大街1号"), ("北京", "海淀区", "中关村大街1号")) == "same_detail"
    )


def test_different_valid_usccs_set_a_constraint() -> None:
    a = org("a", org_name("华为"), uscc="91110000000000001X")
    b = org("b", org_name("华为"), uscc="91310000000000002Y")
    assert _constraints(a, b) == Constraint.DIFFERENT_USCC
    assert _levels(a, b)["uscc"] == "different"


def test_branch_against_parent_sets_a_constraint() -> None:
    parent = org("a", org_name("华为"))
    branch = org("b", org_name("华为", branch="上海分公司"))
    assert _constraints(parent, branch) == Constraint.BRANCH_MISMATCH
    same = org("c", org_name("华为", branch="上海分公司"))
    assert _constraints(branch, same) == Constraint.NONE
    assert _levels(branch, same)["branch"] == "same_branch"


def test_a_branch_is_the_same_branch_under_its_english_name() -> None:
    chinese = org("a", org_name("联益", "技术", branch="郑州分公司"))
    english = org("b", replace(latin_org_name("lianyi"), branch="zhengzhou branch"))
    assert _constraints(chinese, english) == Constraint.NONE
    assert _levels(chinese, english)["branch"] == "same_branch"
    # Another city's branch, or the office of the same city, is another branch.
    elsewhere = org("c", replace(latin_org_name("lianyi"), branch="xian branch"))
    office = org("d", replace(latin_org_name("lianyi"), branch="zhengzhou representative office"))
    assert _constraints(chinese, elsewhere) == Constraint.BRANCH_MISMATCH
    assert _constraints(chinese, office) == Constraint.BRANCH_MISMATCH


def test_person_against_organization_sets_a_constraint() -> None:
    assert (
        _constraints(person("a", person_name("王伟")), org("b", org_name("王伟")))
        & Constraint.PARTY_MISMATCH
    )


def test_term_frequency_of_a_common_value_is_higher() -> None:
    records = [person(str(i), person_name("王伟")) for i in range(5)]
    records += [person("r1", person_name("欧阳修")), person("r2", person_name("欧阳修"))]
    records += [
        person(f"x{i}", person_name(f"李{c}")) for i, c in enumerate("一二三四五六七八九十")
    ]
    cols = Columns.from_records(records)
    vectors = compare_pairs(cols, np.array([0, 5]), np.array([1, 6]))
    common, rare = vectors.tf["name"]
    # Two holders are just a duplicate pair: no sign of a common value, and
    # a person's name nobody else holds counts a fraction of another holder.
    assert common == pytest.approx(4 / 17)
    assert rare == pytest.approx(RARE_HOLDERS / 17)


def test_a_homophone_typo_of_a_common_name_is_as_common_as_its_sound() -> None:
    # 彰勇, a call centre's typo of 张勇, on two records among forty 张勇:
    # those two may be any two of forty people.
    records = [person("t1", person_name("彰勇")), person("t2", person_name("彰勇"))]
    records += [person(f"z{i}", person_name("张勇")) for i in range(40)]
    # 吴莉 shares its sound with a few real names (吴丽, 武莉): still rare.
    records += [person("w1", person_name("吴莉")), person("w2", person_name("吴莉"))]
    records += [person(f"v{i}", person_name(n)) for i, n in enumerate(("吴丽", "武莉"))]
    cols = Columns.from_records(records)
    vectors = compare_pairs(cols, np.array([0, 2, 42]), np.array([1, 3, 43]))
    typo, common, rare = vectors.tf["name"].tolist()
    # The typo counts every holder of its sound (42), the name its own (40).
    assert typo >= common > 10 * rare
    assert vectors.name_holders.tolist() == [42, 40, 2]


def test_a_rare_company_name_has_no_term_frequency() -> None:
    records = [org(str(i), org_name("欧阳科技")) for i in range(2)]
    records += [org(f"x{i}", org_name(f"李{c}贸易")) for i, c in enumerate("一二三四五")]
    cols = Columns.from_records(records)
    vectors = compare_pairs(cols, np.array([0]), np.array([1]))
    assert vectors.tf["name"][0] == 0


def test_chunked_comparison_equals_whole() -> None:
    records = [
        org(
            str(i),
            org_name("华为" if i % 2 else "中兴", region="北京" if i % 3 else None),
            phone=(f"+86138{i % 4:08d}",),
        )
        for i in range(12)
    ]
    cols = Columns.from_records(records)
    left, right = np.triu_indices(12, k=1)
    whole = compare_pairs(cols, left.astype(np.int64), right.astype(np.int64))
    chunked = compare_pairs(cols, left.astype(np.int64), right.astype(np.int64), chunk_size=7)
    assert np.array_equal(whole.levels, chunked.levels)
    for name, tf in whole.tf.items():
        assert np.array_equal(tf, chunked.tf[name])
    assert NAMES[0] == "name"


# --- Latin-script persons (Febrl-style records) ----------------------------------


def _latin(key: str, name: str, **fields: object) -> StandardRecord:
    raw: dict[str, object] = {"source": "febrl", "source_key": key, "party_type": "person"}
    raw.update(name=name, **fields)
    return standardize_record(parse_record(raw))


def test_latin_person_names_compare_given_name_and_surname_even_swapped() -> None:
    levels = _levels(_latin("a", "lachlan berry"), _latin("b", "berry, lachlan"))
    assert (levels["given_name"], levels["surname"]) == ("exact", "exact")
    assert levels["name"] == "missing"  # not counted twice
    swapped = _levels(_latin("a", "lachlan berry"), _latin("b", "berry lachlan"))
    assert (swapped["given_name"], swapped["surname"]) == ("exact", "exact")


def test_latin_name_typos_fall_in_similarity_bands_and_a_lone_word_meets_its_part() -> None:
    typo = _levels(_latin("a", "katherine sondergeld"), _latin("b", "katherien sondergeld"))
    assert (typo["given_name"], typo["surname"]) == ("close", "exact")
    alone = _levels(_latin("a", "berry"), _latin("b", "lachlan berry"))
    assert (alone["given_name"], alone["surname"]) == ("missing", "exact")
    given_only = _levels(_latin("a", "lachlan"), _latin("b", "lachlan berry"))
    assert (given_only["given_name"], given_only["surname"]) == ("exact", "missing")


def test_identifier_and_birth_date_slips_are_partial_agreements() -> None:
    a = _latin("a", "ella rollins", identifiers=[{"type": "ssn", "value": "6988048"}])
    b = _latin("b", "ella rollins", identifiers=[{"type": "ssn", "value": "6988408"}])
    assert _levels(a, b)["identifiers"] == "one_edit"
    swapped = _levels(
        _latin("a", "ella rollins", birth_date="1990-03-07"),
        _latin("b", "ella rollins", birth_date="1990-07-03"),
    )
    assert swapped["birth_date"] == "partial"
    digit = _levels(
        _latin("a", "ella rollins", birth_date="1970-03-07"),
        _latin("b", "ella rollins", birth_date="1979-03-07"),
    )
    assert digit["birth_date"] == "partial"


def test_foreign_address_parts_are_compared_as_text() -> None:
    a = _latin(
        "a",
        "ella rollins",
        address="6 tullaroop street, willaroo",
        city="st james",
        province="wa",
        postal_code="4011",
    )
    b = _latin(
        "b",
        "ella rollins",
        address="6 tulaloop street",
        city="st jmaes",
        province="wa",
        postal_code="4012",
    )
    levels = _levels(a, b)
    assert levels["street_number"] == "same"
    assert levels["address"] == "similar_detail"
    assert levels["locality"] == "similar"
    assert levels["postcode"] == "one_digit_apart"
    assert levels["state"] == "same"


def _raw(name: str, city: str | None = None, key: str = "k") -> StandardRecord:
    raw: dict[str, object] = {"source": "sales", "source_key": key, "party_type": "organization"}
    raw["name"] = name
    if city is not None:
        raw["city"] = city
    return standardize_record(parse_record(raw))


def test_short_name_city_meets_the_region_of_the_legal_name() -> None:
    legal = _raw("宁波恒通机械制造有限公司", key="a")
    levels = _levels(_raw("恒通机械", "宁波", key="b"), legal)
    # 机械 is 机械制造 written short, not another industry of a brand.
    assert (levels["name"], levels["name_region"]) == ("trade_equal", "same")
    assert _levels(_raw("恒通机械", "长沙", key="b"), legal)["name_region"] == "different"
    assert _levels(_raw("恒通机械", key="b"), legal)["name_region"] == "missing"


def test_a_province_region_meets_the_province_of_the_city() -> None:
    legal = _raw("湖北航富电子有限公司", key="a")
    assert _levels(_raw("航富电子", "武汉", key="b"), legal)["name_region"] == "same"
    assert _levels(_raw("航富电子", "长沙", key="b"), legal)["name_region"] == "different"


def test_a_branch_name_keeps_its_parents_region_out_of_the_place_check() -> None:
    legal = _raw("升国纺织（上海）有限公司北京分公司", key="a")
    assert _levels(_raw("升国纺织北京分公司", "北京", key="b"), legal)["name_region"] == "missing"


def test_same_name_in_the_same_place_is_its_own_level() -> None:
    legal = _raw("智鸿工程（广州）有限公司", key="a")
    assert _levels(_raw("智鸿工程", "广州", key="b"), legal)["name"] == "exact_same_place"
    assert _levels(_raw("智鸿工程", key="b"), legal)["name"] == "exact"
    # A bare trade name may be any company of a group.
    group = _raw("永沃集团有限公司", "广州", key="a")
    assert _levels(_raw("永沃", "广州", key="b"), group)["name"] == "exact"


def test_names_without_a_region_are_placed_by_their_records_cities() -> None:
    tianjin = _raw("航邦实业有限公司", "天津", key="a")
    assert _levels(_raw("航邦实业有限公司", "天津", key="b"), tianjin)["name"] == "exact_same_place"
    assert _levels(_raw("航邦实业有限公司", "北京", key="b"), tianjin)["name"] == "exact"
    assert _levels(_raw("航邦实业有限公司", key="b"), tianjin)["name"] == "exact"


def test_names_differing_in_a_latin_designation_are_not_similar() -> None:
    levels = _levels(_raw("测试K1贸易有限公司", key="a"), _raw("测试K2贸易有限公司", key="b"))
    assert levels["name"] == "different"


def test_group_against_company_across_scripts() -> None:
    group = _raw("Wanxin Group Co., Ltd.", "北京", key="a")
    company = _raw("北京万信电器有限公司", "北京", key="b")
    assert _levels(group, company)["legal_form"] == "group_mismatch"


def test_a_mobile_against_a_landline_is_no_disagreement() -> None:
    def level(a: str, b: str) -> str:
        return _levels(
            person("a", person_name("张勇"), phone=(a,)),
            person("b", person_name("张勇"), phone=(b,)),
        )["phones"]

    assert level("+8613800138000", "+862012345678") == "other_kinds"
    assert level("+8613800138000", "+8613911112222") == "different"
    assert level("+862012345678", "+862087654321") == "different"


def test_mailboxes_of_one_company_domain_are_their_own_level() -> None:
    def level(a: str, b: str) -> str:
        return _levels(
            org("a", org_name("沃博"), emails=(a,)), org("b", org_name("沃博"), emails=(b,))
        )["emails"]

    assert level("sales@wobo.com.cn", "sales@wobo.com.cn") == "shared"
    assert level("sales@wobo.com.cn", "info@wobo.com.cn") == "same_domain"
    assert level("sales@wobo.com.cn", "info@other.cn") == "different"
    # A public mail service says nothing about who its users work for.
    assert level("wangwei@163.com", "zhangfang@163.com") == "different"


def test_a_contact_meets_the_mailbox_named_after_them() -> None:
    named = replace(org("a", org_name("沃博")), contact_name="孙静", contact_pinyin="sunjing")
    mailbox = org("b", org_name("沃博"), emails=("sunjing@wobo.com.cn",))
    numbered = org("c", org_name("沃博"), emails=("sunjing1985@qq.com",))
    role = org("d", org_name("沃博"), emails=("info@wobo.com.cn",))
    assert _levels(named, mailbox)["contact"] == "mailbox"
    assert _levels(mailbox, named)["contact"] == "mailbox"
    assert _levels(named, numbered)["contact"] == "mailbox"
    assert _levels(named, role)["contact"] == "missing"


def test_a_home_address_with_and_without_its_street_is_the_same_flat() -> None:
    def level(a: str, b: str) -> str:
        return _levels(
            person("a", person_name("陈艳"), where=address("深圳", detail=a)),
            person("b", person_name("陈艳"), where=address("深圳", detail=b)),
        )["address"]

    assert level("长江路204号翠苑13栋5单元301", "翠苑13栋5单元301") == "same_detail"
    # A unit left out still names the compound, building and room.
    assert level("胜利路471号新村26栋1单元308", "新村26栋308") == "same_detail"
    assert level("翠苑13栋5单元301", "翠苑13栋5单元302") != "same_detail"


def test_an_industry_field_meets_the_other_records_field_or_industry_words() -> None:
    def level(a: str | None, b: str | None, b_industry: str | None = "汽车配件") -> str:
        left = replace(org("a", org_name("沃佳", None, legal_form=None)), industry=a)
        right = replace(org("b", org_name("沃佳", b_industry)), industry=b)
        return _levels(left, right)["industry"]

    assert level("automotive", "automotive") == "same"
    assert level("automotive", "logistics") == "different"
    assert level("automotive", None) == "same"  # 汽车 files 沃佳汽车配件
    assert level("logistics", None) == "different"
    assert level(None, None) == "missing"
    # Without a field on either side the names' industry words are the name's business.
    assert level(None, None, "物流") == "missing"


def test_industry_fields_of_two_names_with_industry_words_are_not_counted_twice() -> None:
    left = replace(org("a", org_name("沃佳", "物流")), industry="logistics")
    right = replace(org("b", org_name("沃佳", "物流")), industry="logistics")
    levels = _levels(left, right)
    assert (levels["name"], levels["industry"]) == ("exact", "missing")


def test_a_landline_area_code_stands_for_a_missing_city() -> None:
    call = org("a", org_name("正顺腾", "纺织"), phone=("+862136721919",))
    shanghai = org("b", org_name("正顺腾", "纺织"), phone=("+862163721919",), where=address("上海"))
    beijing = replace(shanghai, address=address("北京"))
    assert landline_city(call) == "上海"
    assert _levels(call, shanghai)["address"] == "same_city"
    assert _levels(call, beijing)["address"] == "different_city"
    # The record's own city wins over its number's.
    assert _levels(replace(call, address=address("北京")), shanghai)["address"] == "different_city"


def test_mobiles_and_shared_area_codes_say_nowhere() -> None:
    assert landline_city(org("a", org_name("宇盛"), phone=("+8613800138000",))) is None
    # 024 serves 沈阳, 铁岭 and 抚顺.
    assert landline_city(org("b", org_name("宇盛"), phone=("+862423456789",))) is None
    # Numbers in two cities.
    two = org("c", org_name("宇盛"), phone=("+862563721919", "+862161035510"))
    assert landline_city(two) is None
    assert landline_city(org("d", org_name("宇盛"), phone=("+8651265876318",))) == "苏州"


def test_a_short_name_counts_the_holders_of_the_trade_name_it_shares() -> None:
    records = [
        org("a", org_name("天鑫", None, legal_form=None)),
        org("b", org_name("天鑫", "物流")),
        org("c", org_name("天鑫", "电器")),
        org("d", org_name("天新", None, legal_form=None)),
        org("e", org_name("天心", None, legal_form=None)),
    ]
    cols = Columns.from_records(records)
    vectors = compare_pairs(cols, np.array([0, 3]), np.array([1, 1]))
    # 天鑫 / 天鑫物流 share the trade name, which three records hold (not the
    # full name, which one holds); 天新 / 天鑫物流 its sound, which all five hold.
    assert [NAME_LEVELS[level] for level in vectors.levels[:, 0]] == ["trade_equal", "homophone"]
    assert vectors.name_holders.tolist() == [3, 5]


def test_pairs_count_the_holders_of_the_name_they_share() -> None:
    records = [
        person("a", person_name("刘斌鹏")),
        person("b", person_name("刘斌鹏")),
        person("c", person_name("刘彬鹏")),
        person("d", person_name("王伟")),
    ]
    cols = Columns.from_records(records)
    vectors = compare_pairs(cols, np.array([0, 0, 0]), np.array([1, 2, 3]))
    # The name itself (two holders); its sound, shared with the homophone (three).
    assert vectors.name_holders.tolist() == [2, 3, 0]
    assert vectors.take(np.array([1])).name_holders.tolist() == [3]


def test_a_romanised_pair_counts_the_holders_of_its_sound() -> None:
    records = [
        person("a", person_name("郑宏江")),
        person("b", latin_person_name("Zheng", "Hongjiang")),
        person("c", person_name("郑红江")),
        org("d", org_name("华为", "技术")),
        org("e", latin_org_name("huawei")),
        org("f", org_name("华为", "电器")),
        org("g", org_name("华维", None, legal_form=None)),
    ]
    cols = Columns.from_records(records)
    vectors = compare_pairs(cols, np.array([0, 3]), np.array([1, 4]))
    assert [NAME_LEVELS[level] for level in vectors.levels[:, 0]] == ["romanised_equal"] * 2
    # The person's sound is held by the name, its romanisation and a homophone;
    # the company's trade name sound (huawei) by all four companies.
    assert vectors.name_holders.tolist() == [3, 4]
