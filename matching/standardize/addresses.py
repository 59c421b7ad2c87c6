"""Mailing addresses: province, city and district recognised, region derived, postal code checked.

Departments fill the explicit fields, write everything into the free-text
address, or both: ``广东省深圳市南山区科技园南区8栋``, ``深圳南山区…`` and
``address=科技园南区8栋, city=深圳`` must all give the same parts.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from matching.standardize.divisions import (
    REGION_BY_PROVINCE,
    Division,
    Level,
    Location,
    division_table,
    locate,
    lookup_division,
)
from matching.standardize.text import has_han, normalize_text
from matching.types import Flag, StandardAddress, Standardized

__all__ = ["canonical_premises", "standardize_address", "standardize_postal_code"]

_POSTAL_CODE = re.compile(r"[0-9]{6}")
_POSTAL_SEPARATORS = re.compile(r"[\s-]")
_SPACES = re.compile(r"\s+")
_DETAIL_NOISE = re.compile(r"[\s,.·()]+")
_LATIN_NOISE = re.compile(r"[^a-z0-9,]+")
_LATIN_COMMAS = re.compile(r"\s*,[\s,]*")
_POSTCODE_TEXT = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65_536)
def standardize_address(
    address: str | None = None,
    province: str | None = None,
    city: str | None = None,
    district: str | None = None,
    postal_code: str | None = None,
) -> Standardized[StandardAddress]:
    """The address's province (short form), city, district, detail, region and postal code.

    Explicit fields win over what the free text names; a disagreement between
    them is flagged. The region (华北, 华东 …) follows from the province.
    """
    flags: list[Flag] = []
    given = _given_divisions(province, city, district, flags)
    normalized = normalize_text(address) if address else ""
    if normalized and not has_han(normalized):
        return _foreign_address(
            normalized, given, province=province, city=city, postal_code=postal_code, flags=flags
        )
    # Spaces between the parts of a Chinese address carry no meaning (广东省 深圳市).
    text = normalized.replace(" ", "")
    found = locate(text) if text else Location()
    if found.end == 0 and text and (given.province or given.city):
        # The fields settle what the text alone cannot (南山区 of 深圳, not of 鹤岗).
        found = locate(text, given.province, given.city)
    _flag_conflicts(given, found, flags)
    parts = Location(
        province=given.province or found.province,
        city=given.city or found.city,
        district=given.district or found.district,
    )
    province_name = parts.province_name
    detail = canonical_premises(_DETAIL_NOISE.sub("", text[found.end :])) or None
    recognised = _Recognised(
        province=province_name,
        city=parts.city_name,
        district=parts.district.name if parts.district is not None else None,
        detail=detail,
        region=REGION_BY_PROVINCE.get(province_name) if province_name else None,
    )
    return _with_foreign_parts(
        recognised, given, province=province, city=city, postal_code=postal_code, flags=flags
    )


class _Recognised(NamedTuple):
    """The parts of an address found before the postal code and foreign places are added.

    The address is built once from these: ``dataclasses.replace`` costs
    more than building it.
    """

    province: str | None
    city: str | None
    district: str | None
    detail: str | None
    region: str | None


# A building is written 8栋, 8幢, 8号楼 or (a tower) A座; units and rooms as
# 8栋1单元301室, 8号楼1单元301 or in short 8-1-301 and A-1203.
_BUILDING_WORD = re.compile(r"(?<=[0-9a-z])(?:号楼|幢|座)")
_DASHED_UNIT = re.compile(r"(?<![0-9a-z])([0-9]+|[a-z])-([0-9]+)-([0-9]+)$")
_DASHED_ROOM = re.compile(r"(?<![0-9a-z-])([0-9]+|[a-z])-([0-9]+)$")
_ROOM_WORD = re.compile(r"(?<=[0-9])室$")


def canonical_premises(detail: str) -> str:
    """The building, unit and room of a Chinese address line in one spelling.

    ``8号楼1单元301室``, ``8幢1单元301`` and ``8-1-301`` all become
    ``8栋1单元301``; ``A座1203室`` and ``a-1203`` become ``a栋1203``.
    """
    # Most lines hold none of the marks: each rewrite runs only where it can apply.
    text = detail
    if "号楼" in text or "幢" in text or "座" in text:
        text = _BUILDING_WORD.sub("栋", text)
    if "-" in text:
        text = _DASHED_UNIT.sub(r"\1栋\2单元\3", text)
        text = _DASHED_ROOM.sub(r"\1栋\2", text)
    return _ROOM_WORD.sub("", text) if "室" in text else text


def _foreign_address(
    text: str,
    given: Location,
    *,
    province: str | None,
    city: str | None,
    postal_code: str | None,
    flags: list[Flag],
) -> Standardized[StandardAddress]:
    """A Latin-script address: words kept apart, the parts of the street line by commas."""
    detail = _LATIN_COMMAS.sub(", ", _LATIN_NOISE.sub(" ", text)).strip(" ,")
    province_name = given.province_name
    recognised = _Recognised(
        province=province_name,
        city=given.city_name,
        district=given.district.name if given.district is not None else None,
        detail=_SPACES.sub(" ", detail) or None,
        region=REGION_BY_PROVINCE.get(province_name) if province_name else None,
    )
    return _with_foreign_parts(
        recognised, given, province=province, city=city, postal_code=postal_code, flags=flags
    )


def _with_foreign_parts(
    recognised: _Recognised,
    given: Location,
    *,
    province: str | None,
    city: str | None,
    postal_code: str | None,
    flags: list[Flag],
) -> Standardized[StandardAddress]:
    """Postal code checked; place fields naming no Chinese division kept as text."""
    postal = postcode = None
    if postal_code:
        checked = standardize_postal_code(postal_code, recognised.province)
        postal, flags = checked.value, flags + list(checked.flags)
        if postal is None:
            postcode = _POSTCODE_TEXT.sub("", normalize_text(postal_code)) or None
    locality = _place_text(city) if city and given.city is None and given.district is None else None
    state = _place_text(province) if province and given.province is None else None
    standard = StandardAddress(
        province=recognised.province,
        city=recognised.city,
        district=recognised.district,
        detail=recognised.detail,
        region=recognised.region,
        postal_code=postal,
        locality=locality,
        state=state,
        postcode=postcode,
    )
    return Standardized(standard, tuple(flags))


def _place_text(value: str) -> str | None:
    # Only a place spelt in Latin letters: a Chinese name that is no known
    # division is a typo of one, not a foreign town.
    text = normalize_text(value)
    if not text or has_han(text):
        return None
    return _SPACES.sub(" ", _LATIN_NOISE.sub(" ", text.replace(",", " "))).strip() or None


def standardize_postal_code(text: str, province: str | None = None) -> Standardized[str]:
    """A six-digit postal code; one outside the province's postal zones is kept but flagged."""
    code = _POSTAL_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not _POSTAL_CODE.fullmatch(code):
        flag = Flag("postal_code", "invalid", f"'{text[:20]}' is not a six-digit postal code")
        return Standardized(None, (flag,))
    zones = division_table().postal_zones.get(province) if province else None
    if zones is not None and code[:2] not in zones:
        flag = Flag(
            "postal_code",
            "province_mismatch",
            f"postal code {code} does not belong to {province}",
        )
        return Standardized(code, (flag,))
    return Standardized(code)


def _given_divisions(
    province: str | None, city: str | None, district: str | None, flags: list[Flag]
) -> Location:
    """The divisions named by the explicit fields, each looked up inside its parent."""
    found_province = _lookup(province, Level.PROVINCE, None)
    if province and found_province is None:
        flags.append(_unknown("province", province))
    found_city = _lookup(city, Level.CITY, found_province)
    if city and found_city is None:
        # Departments put a municipality (北京) or a district (浦东新区) in the city field.
        municipality = _lookup(city, Level.PROVINCE, None)
        if municipality is not None and municipality.is_municipality:
            found_province = found_province or municipality
        elif district is None and _lookup(city, Level.DISTRICT, found_province) is not None:
            district = city
        else:
            flags.append(_unknown("city", city))
    found_district = _lookup(district, Level.DISTRICT, found_city or found_province)
    if district and found_district is None:
        flags.append(_unknown("district", district))
    return Location(found_province, found_city, found_district)


def _lookup(value: str | None, level: Level, within: Division | None) -> Division | None:
    if not value:
        return None
    name = normalize_text(value).replace(" ", "")
    return lookup_division(name, level, within) if name else None


def _unknown(field: str, value: str) -> Flag:
    return Flag(field, "unknown", f"'{value[:40]}' is not a known {field}")


def _flag_conflicts(given: Location, found: Location, flags: list[Flag]) -> None:
    pairs = (
        ("province", given.province_name, found.province_name),
        ("city", given.city_name, found.city_name),
    )
    for field, explicit, in_text in pairs:
        if explicit and in_text and explicit != in_text:
            flags.append(
                Flag(field, "conflict", f"the field says {explicit} but the address {in_text}")
            )
