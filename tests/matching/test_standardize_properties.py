"""No standardizer raises, whatever the text: control characters, any script, 2000 chars."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.record import PartyType
from matching.standardize import (
    standardize_address,
    standardize_email,
    standardize_gender,
    standardize_identifier,
    standardize_latin_name,
    standardize_national_id,
    standardize_org_name,
    standardize_person_name,
    standardize_phone,
    standardize_postal_code,
    standardize_uscc,
)
from matching.standardize.industries import standardize_industry
from matching.types import Standardized

# Arbitrary text, plus text built from the characters the parsers care about,
# so that examples reach deep into the parsing rather than failing at once.
_DOMAIN_CHARS = "北京华为技术科技(（)）【】有限公司分上海深圳市省区县集团厂0123456789Xx+-@. 转"
_ANY_TEXT = st.text(max_size=2_000) | st.text(alphabet=_DOMAIN_CHARS, max_size=80)
_LONG = st.text(min_size=1_900, max_size=2_000)


def assert_well_formed(result: Standardized[object]) -> None:
    assert result.value is not None or result.flags, "an unusable value must carry a flag"


@settings(max_examples=150, deadline=None)
@given(text=_ANY_TEXT)
def test_name_standardizers_never_raise(text: str) -> None:
    assert_well_formed(standardize_org_name(text))
    assert_well_formed(standardize_person_name(text))
    assert_well_formed(standardize_latin_name(text, PartyType.ORGANIZATION))
    assert_well_formed(standardize_latin_name(text, PartyType.PERSON))


@settings(max_examples=150, deadline=None)
@given(text=_ANY_TEXT, scheme=st.text(max_size=30))
def test_identifier_standardizers_never_raise(text: str, scheme: str) -> None:
    assert_well_formed(standardize_uscc(text))
    assert_well_formed(standardize_national_id(text))
    assert_well_formed(standardize_identifier(scheme, text))
    assert_well_formed(standardize_gender(text))


@settings(max_examples=150, deadline=None)
@given(text=_ANY_TEXT)
def test_contact_standardizers_never_raise(text: str) -> None:
    assert_well_formed(standardize_phone(text))
    assert_well_formed(standardize_email(text))
    assert_well_formed(standardize_industry(text))


@settings(max_examples=150, deadline=None)
@given(
    address=st.none() | _ANY_TEXT,
    province=st.none() | _ANY_TEXT,
    city=st.none() | _ANY_TEXT,
    district=st.none() | st.text(max_size=20),
    postal_code=st.none() | st.text(max_size=12),
)
def test_address_standardizer_never_raises(
    address: str | None,
    province: str | None,
    city: str | None,
    district: str | None,
    postal_code: str | None,
) -> None:
    result = standardize_address(address, province, city, district, postal_code)
    assert result.value is not None
    assert_well_formed(standardize_postal_code(postal_code or "", province))


@settings(max_examples=20, deadline=None)
@given(text=_LONG)
def test_huge_text_is_handled(text: str) -> None:
    assert_well_formed(standardize_org_name(text))
    assert_well_formed(standardize_person_name(text))
    assert_well_formed(standardize_phone(text))
    assert_well_formed(standardize_email(text))
    assert standardize_address(text, text, text, text, text).value is not None
