"""Addresses: divisions recognised from fields or free text, region derived, postal codes."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.standardize import standardize_address, standardize_postal_code
from matching.standardize.divisions import _longest_at, division_table
from matching.types import StandardAddress

SHENZHEN_NANSHAN = StandardAddress(
    province="广东", city="深圳", district="南山区", detail="科技园南区8栋", region="华南"
)


@pytest.mark.parametrize(
    "text",
    [
        "广东省深圳市南山区科技园南区8栋",
        "广东深圳南山区科技园南区8栋",
        "深圳市南山区科技园南区8栋",
        "深圳南山区科技园南区８栋",
        "廣東省深圳市南山區科技園南區8棟",
        "广东省 深圳市 南山区 科技园南区 8栋",
    ],
)
def test_divisions_are_recognised_in_free_text(text: str) -> None:
    result = standardize_address(text)
    assert result.value == SHENZHEN_NANSHAN
    assert result.flags == ()


def test_explicit_fields_complete_the_free_text() -> None:
    result = standardize_address(
        "科技园南区8栋", province="广东省", city="深圳市", district="南山区"
    )
    assert result.value == SHENZHEN_NANSHAN


def test_district_short_form_in_field() -> None:
    result = standardize_address("科技园南区8栋", city="深圳", district="南山")
    assert result.value == SHENZHEN_NANSHAN


def test_fields_settle_an_ambiguous_district() -> None:
    # 朝阳区 exists in 北京 and in 长春: the city field decides.
    result = standardize_address("朝阳区建国路88号", city="北京")
    assert result.value is not None
    assert (result.value.province, result.value.city, result.value.district) == (
        "北京",
        "北京",
        "朝阳区",
    )
    assert result.value.detail == "建国路88号"


def test_ambiguous_district_without_context_stays_in_detail() -> None:
    result = standardize_address("朝阳区建国路88号")
    assert result.value == StandardAddress(detail="朝阳区建国路88号")


def test_municipality_is_its_own_city() -> None:
    result = standardize_address("上海市浦东新区世纪大道100号")
    assert result.value == StandardAddress(
        province="上海", city="上海", district="浦东新区", detail="世纪大道100号", region="华东"
    )


def test_autonomous_region_has_canonical_short_form() -> None:
    result = standardize_address("内蒙古自治区呼和浩特市新城区")
    assert result.value is not None
    assert (result.value.province, result.value.city, result.value.region) == (
        "内蒙古",
        "呼和浩特",
        "华北",
    )
    assert standardize_address(None, province="广西壮族自治区").value == StandardAddress(
        province="广西", region="华南"
    )


def test_street_named_after_a_city_is_not_a_city() -> None:
    result = standardize_address("中山路100号")
    assert result.value == StandardAddress(detail="中山路100号")


@pytest.mark.parametrize(
    ("province", "region"),
    [
        ("北京", "华北"),
        ("黑龙江", "东北"),
        ("浙江", "华东"),
        ("湖北", "华中"),
        ("海南", "华南"),
        ("四川", "西南"),
        ("新疆维吾尔自治区", "西北"),
    ],
)
def test_region_follows_from_province(province: str, region: str) -> None:
    result = standardize_address(province=province)
    assert result.value is not None
    assert result.value.region == region


def test_romanised_province_field_is_recognised() -> None:
    result = standardize_address(province="Guangdong", city="Shenzhen")
    assert result.value == StandardAddress(province="广东", city="深圳", region="华南")


def test_conflict_between_field_and_text_is_flagged() -> None:
    result = standardize_address("湖南省长沙市岳麓区麓山路", province="广东")
    assert [(flag.field, flag.code) for flag in result.flags] == [("province", "conflict")]


def test_unknown_division_in_field_is_flagged() -> None:
    result = standardize_address(province="火星")
    assert [(flag.field, flag.code) for flag in result.flags] == [("province", "unknown")]


def test_postal_code_is_kept_when_it_fits_the_province() -> None:
    result = standardize_address("广东省深圳市南山区科技园", postal_code="518057")
    assert result.value is not None
    assert result.value.postal_code == "518057"
    assert result.flags == ()


@pytest.mark.parametrize("text", ["5180", "51805a", "5180577", ""])
def test_malformed_postal_code_is_flagged_without_value(text: str) -> None:
    result = standardize_postal_code(text)
    assert result.value is None
    assert [flag.code for flag in result.flags] == ["invalid"]


def test_postal_code_outside_the_province_is_kept_but_flagged() -> None:
    result = standardize_postal_code("１０００００", "广东")
    assert result.value == "100000"
    assert [flag.code for flag in result.flags] == ["province_mismatch"]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("深圳市南山区文化路473号C栋1207室", "文化路473号c栋1207"),
        ("深圳市南山区文化路473号C座1207", "文化路473号c栋1207"),
        ("深圳市南山区文化路473号C-1207", "文化路473号c栋1207"),
        ("深圳市南山区翠苑13栋5单元301室", "翠苑13栋5单元301"),
        ("深圳市南山区翠苑13号楼5单元301", "翠苑13栋5单元301"),
        ("深圳市南山区翠苑13-5-301", "翠苑13栋5单元301"),
        ("深圳市南山区新村26幢308室", "新村26栋308"),
    ],
)
def test_building_unit_and_room_have_one_spelling(text: str, detail: str) -> None:
    assert standardize_address(text).value.detail == detail


def test_street_numbers_with_dashes_are_left_alone() -> None:
    assert standardize_address("深圳市南山区建设路12-14号").value.detail == "建设路12-14号"


def _longest_key_probing_every_length(
    text: str, pos: int, index: Mapping[str, object]
) -> str | None:
    """The longest key (two characters or more) at ``pos``, every length probed."""
    longest = division_table().longest_name
    for size in range(min(longest, len(text) - pos), 1, -1):
        if text[pos : pos + size] in index:
            return text[pos : pos + size]
    return None


_PLACE_NAMES = sorted({*division_table().cities, *division_table().districts})[::7]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(_PLACE_NAMES) | st.text(alphabet="省市区县路号中山南京8-", max_size=4),
        max_size=6,
    ).map("".join)
)
def test_names_are_found_probing_only_the_lengths_of_keys_with_that_first_character(
    text: str,
) -> None:
    table = division_table()
    for name in ("provinces", "cities", "districts", "district_shorts"):
        index = getattr(table, name)
        for pos in range(len(text)):
            hit = _longest_at(text, pos, index, table.key_lengths[name])
            found = hit[0] if hit is not None else None
            assert found == _longest_key_probing_every_length(text, pos, index)
