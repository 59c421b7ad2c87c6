"""Identifiers: unified social credit codes, resident ids and other schemes.

Only a value that passes its scheme's check is returned: an identifier is
strong evidence, so a mistyped one must not link two customers. Checks are
python-stdnum's (``cn.uscc``, ``cn.ric``); a failure becomes a flag.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TypeVar

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from matching.types import Flag, Standardized

__all__ = [
    "ResidentId",
    "standardize_gender",
    "standardize_identifier",
    "standardize_identifier_type",
    "standardize_national_id",
    "standardize_uscc",
]

T = TypeVar("T")

MALE = "male"
FEMALE = "female"

_SEPARATORS = re.compile(r"[\s\-./_:,]+")
_TYPE_SEPARATORS = re.compile(r"[\s\-./:]+")

# Departments name the same scheme in many ways; each maps to one type name.
_TYPE_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ("passport", "passport_no", "passport_number", "passportno", "pp", "护照", "护照号"),
        "passport",
    ),
    **dict.fromkeys(
        ("tax", "tax_id", "tax_no", "tax_number", "tin", "vat", "税号", "纳税人识别号"), "tax"
    ),
    **dict.fromkeys(("duns", "duns_no", "duns_number", "d_u_n_s"), "duns"),
    **dict.fromkeys(("ssn", "social_security", "social_security_number", "soc_sec_id"), "ssn"),
    **dict.fromkeys(
        ("uscc", "credit_code", "unified_social_credit_code", "统一社会信用代码"), "uscc"
    ),
    **dict.fromkeys(
        ("national_id", "resident_id", "ric", "id_card", "身份证", "身份证号", "居民身份证"),
        "national_id",
    ),
}

_GENDERS: dict[str, str] = {
    **dict.fromkeys(("男", "男性", "m", "male", "man", "1", "先生"), MALE),
    **dict.fromkeys(("女", "女性", "f", "female", "woman", "2", "女士"), FEMALE),
}

_CHECK_FAILURES: dict[str, str] = {
    "InvalidLength": "invalid_length",
    "InvalidFormat": "invalid_format",
    "InvalidChecksum": "invalid_checksum",
    "InvalidComponent": "invalid_component",
}


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A valid 18-digit resident id with what it tells about its holder."""

    number: str
    birth_date: date
    gender: str
    converted_from_15: bool = False


@lru_cache(maxsize=65_536)
def standardize_uscc(text: str) -> Standardized[str]:
    """A unified social credit code, compacted, upper-cased and check-character verified."""
    number = uscc.compact(_fold(text))
    if not number:
        return _invalid("uscc", "empty", "no code given")
    try:
        return Standardized(uscc.validate(number))
    except ValidationError as exc:
        return _invalid("uscc", _failure_code(exc), f"'{number}' is not a valid USCC: {exc}")


@lru_cache(maxsize=65_536)
def standardize_national_id(text: str) -> Standardized[ResidentId]:
    """A resident id as 18 digits, with the birth date and gender it encodes.

    The old 15-digit form (no century, no check digit) is converted: ``19`` is
    inserted before the two-digit year and the mod-11 check digit appended. A
    lower-case ``x`` check digit is accepted.
    """
    number = ric.compact(_SEPARATORS.sub("", _fold(text)))
    if not number:
        return _invalid("national_id", "empty", "no resident id given")
    converted = len(number) == 15 and number.isascii() and number.isdigit()
    if converted:
        number = _eighteen_digits(number)
    try:
        number = _validate_resident_id(number)
    except ValidationError as exc:
        return _invalid(
            "national_id", _failure_code(exc), f"'{number}' is not a valid resident id: {exc}"
        )
    resident = ResidentId(
        number=number,
        birth_date=ric.get_birth_date(number),
        # The 17th digit is the sequence number: odd for men, even for women.
        gender=MALE if int(number[16]) % 2 else FEMALE,
        converted_from_15=converted,
    )
    if not converted:
        return Standardized(resident)
    flag = Flag("national_id", "converted_from_15", "an old 15-digit id, converted to 18 digits")
    return Standardized(resident, (flag,))


def _validate_resident_id(number: str) -> str:
    """Length, digits, birth date, check digit and a region code ever issued.

    ``ric.validate`` also wants the region code to have existed in the birth
    year, but its history starts in 1983 for most of China: it rejects the
    real id of nearly everyone born earlier outside Beijing, Tianjin and
    Shanghai (and every converted 15-digit id). Ids keep the code of the place
    of registration at issue time, so any code the table knows is accepted.
    """
    if len(number) != 18:
        raise InvalidLength()
    if not number[:17].isdigit():
        raise InvalidFormat()
    ric.get_birth_date(number)  # raises InvalidComponent on an impossible date
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    if not _known_region(number[:6]):
        raise InvalidComponent()
    return number


@lru_cache(maxsize=8_192)
def _known_region(code: str) -> bool:
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def _eighteen_digits(old: str) -> str:
    seventeen = old[:6] + "19" + old[6:]
    # calc_check_digit reads all but the last character: any placeholder will do.
    return seventeen + ric.calc_check_digit(seventeen + "0")


@lru_cache(maxsize=1_024)
def standardize_identifier_type(text: str) -> str:
    """The canonical name of an identifier scheme (``Passport No`` → ``passport``)."""
    key = _TYPE_SEPARATORS.sub("_", _fold(text).strip().lower()).strip("_")
    return _TYPE_ALIASES.get(key, key)


@lru_cache(maxsize=65_536)
def standardize_identifier(scheme: str, value: str) -> Standardized[tuple[str, str]]:
    """An identifier as ``(type, value)``: type canonical, value compacted and upper-cased.

    Values are compared exactly within their type. USCCs and resident ids given
    under this form are checked like the dedicated fields.
    """
    kind = standardize_identifier_type(scheme)
    if not kind:
        return _invalid("identifiers", "empty_type", "an identifier without a type")
    if kind == "uscc":
        code = standardize_uscc(value)
        return Standardized(None if code.value is None else (kind, code.value), code.flags)
    if kind == "national_id":
        resident = standardize_national_id(value)
        found = None if resident.value is None else (kind, resident.value.number)
        return Standardized(found, resident.flags)
    compact = _SEPARATORS.sub("", _fold(value)).upper()
    if not compact:
        return _invalid("identifiers", "empty", f"no {kind} value given")
    return Standardized((kind, compact))


@lru_cache(maxsize=256)
def standardize_gender(text: str) -> Standardized[str]:
    """``male`` or ``female`` from the ways departments write it (男, F, 1 …)."""
    key = _fold(text).strip().lower()
    gender = _GENDERS.get(key)
    if gender is None:
        return _invalid("gender", "unknown_gender", f"'{text[:40]}' is not a recognised gender")
    return Standardized(gender)


def _fold(text: str) -> str:
    # Full-width digits and letters (１２３ＡＢＣ) are common in typed ids.
    return unicodedata.normalize("NFKC", text)


def _failure_code(exc: ValidationError) -> str:
    return _CHECK_FAILURES.get(type(exc).__name__, "invalid")


def _invalid(field: str, code: str, message: str) -> Standardized[T]:
    return Standardized(None, (Flag(field, code, message),))
