"""Names: organizations and persons, Chinese and Latin script."""

from __future__ import annotations

import pytest

from matching.record import PartyType
from matching.standardize import (
    standardize_latin_name,
    standardize_org_name,
    standardize_person_name,
)
from matching.standardize.names import branch_key
from matching.types import StandardName


def org(text: str) -> StandardName:
    result = standardize_org_name(text).value
    assert result is not None
    return result


def person(text: str) -> StandardName:
    result = standardize_person_name(text).value
    assert result is not None
    return result


def test_org_name_is_taken_apart() -> None:
    name = org("北京华为技术有限公司")
    assert (name.region, name.trade, name.legal_form, name.branch) == (
        "北京",
        "华为",
        "有限公司",
        None,
    )
    assert name.core == "华为技术"
    assert name.industry_term == "technology"
    assert name.trade_pinyin == "huawei"
    assert name.pinyin == "huaweijishu"
    assert not name.is_latin


@pytest.mark.parametrize(
    "text",
    [
        "华为技术(北京)有限公司",
        "华为技术（北京）有限公司",
        "华为(北京)技术有限公司",
        "华为技术【北京】有限公司",
    ],
)
def test_region_in_brackets_equals_region_prefix(text: str) -> None:
    prefix = org("北京华为技术有限公司")
    bracketed = org(text)
    assert (bracketed.region, bracketed.core, bracketed.trade, bracketed.legal_form) == (
        prefix.region,
        prefix.core,
        prefix.trade,
        prefix.legal_form,
    )


def test_region_with_province_and_city_prefix_gives_the_city() -> None:
    name = org("广东省深圳市华强电子科技有限公司")
    assert (name.region, name.trade) == ("深圳", "华强")
    assert name.industry_term == "electronics technology"


def test_region_after_trade_name_is_recognised() -> None:
    assert org("华为北京科技有限公司").region == "北京"
    assert org("华为北京科技有限公司").trade == "华为"


def test_district_resolves_to_its_city() -> None:
    assert org("海淀区星辰科技有限公司").region == "北京"


def test_city_name_longer_than_province_name_wins() -> None:
    name = org("吉林市化纤有限公司")
    assert (name.region, name.trade) == ("吉林", "化纤")


def test_street_name_starting_with_a_city_is_not_a_region() -> None:
    assert org("中山路桥建设有限公司").region is None


def test_traditional_name_meets_simplified() -> None:
    traditional = org("華為技術（北京）有限公司")
    simplified = org("北京华为技术有限公司")
    assert traditional.core == simplified.core
    assert traditional.trade_pinyin == simplified.trade_pinyin


def test_full_width_and_spaces_are_folded() -> None:
    assert org("ＡＢＣ 科技 有限公司").trade == "abc"


def test_branch_is_detected_and_kept_apart_from_parent() -> None:
    parent = org("北京华为技术有限公司")
    branch = org("北京华为技术有限公司上海分公司")
    assert branch.branch == "上海分公司"
    assert parent.branch is None
    # The branch keeps the parent's parts but stays distinguishable by its designation.
    assert (branch.region, branch.trade, branch.core) == (parent.region, parent.trade, parent.core)
    assert branch != parent


@pytest.mark.parametrize(
    ("text", "branch"),
    [
        ("招商银行股份有限公司深圳分行", "深圳分行"),
        ("招商银行深圳分行", "深圳分行"),
        ("华为技术有限公司(杭州办事处)", "杭州办事处"),
        ("某某食品厂第一分厂", "第一分厂"),
        ("平安保险股份有限公司广州支公司", "广州支公司"),
    ],
)
def test_branch_designations(text: str, branch: str) -> None:
    assert org(text).branch == branch


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("华为技术有限公司", "有限公司"),
        ("华为投资控股股份有限公司", "股份有限公司"),
        ("华为技术有限责任公司", "有限责任公司"),
        ("海尔集团有限公司", "集团有限公司"),
        ("伊利实业集团", "集团"),
        ("红星机械厂", "厂"),
        ("深圳某某投资合伙企业(有限合伙)", "合伙企业(有限合伙)"),
        ("张三个体工商户", "个体工商户"),
    ],
)
def test_legal_form_is_extracted(text: str, form: str) -> None:
    assert org(text).legal_form == form


def test_name_of_only_place_industry_and_form_keeps_industry_as_trade() -> None:
    name = org("北京汽车有限公司")
    assert (name.region, name.trade, name.industry_term) == ("北京", "汽车", "automotive")


def test_english_name_meets_chinese_trade_pinyin() -> None:
    english = org("Beijing Huawei Technologies Co., Ltd.")
    chinese = org("华为技术(北京)有限公司")
    assert english.is_latin
    assert english.trade_pinyin == chinese.trade_pinyin == "huawei"
    assert english.industry_term == chinese.industry_term == "technology"
    assert english.region == chinese.region == "北京"
    assert english.tokens == chinese.tokens == ("huawei", "technology")


def test_english_legal_forms_are_removed_with_cleanco() -> None:
    for text in ("Acme GmbH", "Acme LLC", "Acme Limited", "Acme Corp.", "Acme Inc", "Acme Co.,Ltd"):
        name = standardize_latin_name(text, PartyType.ORGANIZATION).value
        assert name is not None
        assert name.trade == "acme", text
        assert name.legal_form is not None


def test_english_group_name_with_two_word_region() -> None:
    english = org("Inner Mongolia Yili Industrial Group Co., Ltd.")
    chinese = org("内蒙古伊利实业集团股份有限公司")
    assert english.region == chinese.region == "内蒙古"
    assert english.trade_pinyin == chinese.trade_pinyin == "yili"
    assert english.industry_term == chinese.industry_term == "industrial"


def test_english_province_and_city_give_the_city() -> None:
    assert org("Guangdong Shenzhen Foo Electronic Technology Co., Ltd").region == "深圳"


def test_ambiguous_romanised_city_is_removed_without_region() -> None:
    name = org("Suzhou Bar Trading Co Ltd")
    assert (name.region, name.trade) == (None, "bar")


def test_english_branch_is_detected() -> None:
    name = org("Huawei Technologies Co., Ltd. Shanghai Branch")
    assert name.branch == "shanghai branch"
    assert name.trade == "huawei"


def test_industry_synonyms_share_one_canonical_term() -> None:
    assert org("某某贸易有限公司").industry_term == org("Foo Trading Co., Ltd.").industry_term
    assert org("某某医药有限公司").industry_term == "pharmaceutical"
    assert org("Foo Pharmaceuticals Ltd").industry_term == "pharmaceutical"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Harbin Tonghui Pharmaceutical Co., Ltd.", "哈尔滨同辉医药有限公司"),
        ("Zhengzhou Honglong Environmental Protection Co., Ltd.", "郑州宏隆环保股份有限公司"),
        ("Xiamen Meicheng Electric Appliance Co., Ltd.", "厦门美诚电器有限公司"),
        ("Shanghai Fengda Auto Parts Co., Ltd.", "上海丰达汽车配件有限公司"),
        ("Nanjing Taihe Textile Co., Ltd.", "南京泰和纺织有限公司"),
        ("Urumqi Meitian Metallurgy Co., Ltd.", "乌鲁木齐美天冶金有限公司"),
    ],
)
def test_english_exonyms_and_two_word_industries_meet_the_chinese_name(
    english: str, chinese: str
) -> None:
    latin, han = org(english), org(chinese)
    assert (latin.region, latin.trade_pinyin, latin.industry_term) == (
        han.region,
        han.trade_pinyin,
        han.industry_term,
    )
    assert latin.tokens == han.tokens


def test_person_name_in_both_scripts_meets_via_sorted_tokens() -> None:
    forms = [person(text) for text in ("王伟", "王偉", "Wang Wei", "WEI WANG", "wang wei")]
    assert {name.tokens for name in forms} == {("wang", "wei")}
    assert {name.pinyin for name in forms} == {"wangwei"}


def test_homophone_typo_shares_pinyin() -> None:
    assert person("张伟").pinyin == person("章伟").pinyin
    assert person("张伟").core != person("章伟").core


def test_surname_is_read_as_a_surname() -> None:
    assert "zeng" in person("曾小明").tokens
    assert "shan" in person("单伟").tokens


def test_compound_surname_and_two_syllable_given_name() -> None:
    assert person("欧阳娜娜").tokens == ("nana", "ouyang")
    assert person("Wang Xiao Ming").tokens == person("王晓明").tokens == ("wang", "xiaoming")


def test_minority_name_parts_are_split_at_the_middle_dot() -> None:
    assert person("阿依古丽•买买提").tokens == ("ayiguli", "maimaiti")


def test_courtesy_title_is_removed_and_flagged() -> None:
    result = standardize_person_name("王先生")
    assert result.value is not None
    assert result.value.core == "王"
    assert [flag.code for flag in result.flags] == ["title_removed"]


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07", "\u200b"])
def test_empty_name_is_flagged_without_value(text: str) -> None:
    for result in (standardize_org_name(text), standardize_person_name(text)):
        assert result.value is None
        assert [flag.code for flag in result.flags] == ["empty"]


@pytest.mark.parametrize(
    ("chinese", "english", "key"),
    [
        (
            "联益网络科技（南京）有限公司郑州分公司",
            "Lianyi Network Co., Ltd. Zhengzhou Branch",
            "zhengzhou|branch",
        ),
        (
            "通和医药西安办事处",
            "Tonghe Pharmaceutical Co., Ltd. Xi'an Representative Office",
            "xian|office",
        ),
        ("招商银行深圳分行", "China Merchants Bank Shenzhen Sub-branch", "shenzhen|branch"),
    ],
)
def test_a_branch_has_one_key_in_either_script(chinese: str, english: str, key: str) -> None:
    latin_name = standardize_latin_name(english, PartyType.ORGANIZATION).value
    assert latin_name is not None
    han, latin = org(chinese).branch, latin_name.branch
    assert han is not None
    assert latin is not None
    assert branch_key(han) == branch_key(latin) == key
