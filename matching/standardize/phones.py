"""Phone numbers to E.164 with phonenumbers, China as the default region."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from matching.standardize.divisions import locate
from matching.types import Flag, PhoneKind, Standardized, StandardPhone

__all__ = ["DEFAULT_REGION", "area_code_of", "is_local_number", "standardize_phone"]

DEFAULT_REGION = "CN"
_FIELD = "phones"

# Extensions written the Chinese way (转 123, 分机 123); phonenumbers knows "ext".
_EXTENSION = re.compile(r"(?:转|分机|内线|ext\.?|x|#)\s*\d+\s*$", re.IGNORECASE)
_MOBILE_PREFIX = "1"  # Chinese mobile numbers start with 1, area codes never do

_KINDS: dict[int, PhoneKind] = {
    PhoneNumberType.MOBILE: PhoneKind.MOBILE,
    PhoneNumberType.FIXED_LINE: PhoneKind.LANDLINE,
}


# A Chinese mobile number as departments write it (+86 / 86 / 0086 optional,
# spaces, dashes and brackets between the digits): the national number is the
# last eleven digits, with no national prefix or carrier code to strip.
_SEPARATORS = re.compile(r"[\s\-()]")
_PLAIN_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
_CN_METADATA = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
# A landline written without its area code, as people write their own city's
# numbers: seven or eight digits, never starting with 0 (trunk) or 1 (mobile).
_LOCAL_NUMBER = re.compile(r"[2-9][0-9]{6,7}")


# The numbering plan's own mobile pattern, so the fast path needs no number_type().
_MOBILE_PLAN = _CN_METADATA.mobile if _CN_METADATA is not None else None
_CN_MOBILE = (
    re.compile(_MOBILE_PLAN.national_number_pattern)
    if _MOBILE_PLAN is not None and _MOBILE_PLAN.national_number_pattern
    else None
)


# A Chinese landline with its area code as departments write it: the trunk 0
# (``0371-39855958``, ``(0451)44293034``) or the country code (+86 / 0086, the
# trunk 0 optional) before a national number that starts with the area code.
_PLAIN_LANDLINE = re.compile(r"(?:(?:\+86|0086)0?|0)([2-9][0-9]{5,10})")
_CN_GENERAL = _CN_METADATA.general_desc if _CN_METADATA is not None else None
_CN_LENGTHS = frozenset(_CN_GENERAL.possible_length if _CN_GENERAL is not None else ())


def _plain_landline(text: str) -> Standardized[StandardPhone] | None:
    """A valid number of that shape, typed from the numbering plan without parsing the text.

    phonenumbers would strip the same prefixes (the country code, then the
    trunk 0, since the rest is a valid number) and find the same number; the
    kind is read once instead of twice (validity is a known kind). Anything
    else, invalid numbers included, takes the full path and its flags.
    """
    match = _PLAIN_LANDLINE.fullmatch(_SEPARATORS.sub("", text))
    if match is None or len(national := match.group(1)) not in _CN_LENGTHS:
        return None
    number_type = cn_number_type(national)
    if number_type == PhoneNumberType.UNKNOWN:
        return None
    return Standardized(StandardPhone(e164=f"+86{national}", kind=_kind_of(number_type, national)))


@dataclass(frozen=True, slots=True)
class _NumberDesc:
    """One number type of the plan: its possible lengths and its pattern, compiled once."""

    lengths: frozenset[int]
    pattern: re.Pattern[str] | None

    def matches(self, national: str) -> bool:
        if self.lengths and len(national) not in self.lengths:
            return False
        return self.pattern is not None and self.pattern.fullmatch(national) is not None


def _number_desc(desc: phonenumbers.PhoneNumberDesc | None) -> _NumberDesc | None:
    if desc is None:
        return None
    pattern = desc.national_number_pattern
    return _NumberDesc(frozenset(desc.possible_length), re.compile(pattern) if pattern else None)


def _cn_plan() -> tuple[_NumberDesc | None, tuple[tuple[int, _NumberDesc], ...]]:
    if _CN_METADATA is None:
        return None, ()
    # The special types in the order phonenumbers tries them, before fixed line and mobile.
    special = (
        (PhoneNumberType.PREMIUM_RATE, _CN_METADATA.premium_rate),
        (PhoneNumberType.TOLL_FREE, _CN_METADATA.toll_free),
        (PhoneNumberType.SHARED_COST, _CN_METADATA.shared_cost),
        (PhoneNumberType.VOIP, _CN_METADATA.voip),
        (PhoneNumberType.PERSONAL_NUMBER, _CN_METADATA.personal_number),
        (PhoneNumberType.PAGER, _CN_METADATA.pager),
        (PhoneNumberType.UAN, _CN_METADATA.uan),
        (PhoneNumberType.VOICEMAIL, _CN_METADATA.voicemail),
    )
    compiled = tuple(
        (number_type, found)
        for number_type, desc in special
        if (found := _number_desc(desc)) is not None
    )
    return _number_desc(_CN_GENERAL), compiled


_CN_GENERAL_DESC, _CN_SPECIAL_TYPES = _cn_plan()
_CN_FIXED_LINE = _number_desc(_CN_METADATA.fixed_line if _CN_METADATA is not None else None)
_CN_MOBILE_DESC = _number_desc(_MOBILE_PLAN)
_CN_SAME_PATTERNS = _CN_METADATA is not None and bool(
    _CN_METADATA.same_mobile_and_fixed_line_pattern
)


def cn_number_type(national: str) -> int:
    """``phonenumbers.number_type`` of the Chinese number ``+86 national``, a third of the time.

    The same tests in the same order (general plan, special types, fixed
    line, mobile) on the same metadata, but with its patterns compiled once
    and without looking the region up for every number. ``national`` is the
    national significant number (digits, no trunk 0).
    """
    if _CN_GENERAL_DESC is None or not _CN_GENERAL_DESC.matches(national):
        return PhoneNumberType.UNKNOWN
    for number_type, desc in _CN_SPECIAL_TYPES:
        if desc.matches(national):
            return number_type
    mobile = _CN_MOBILE_DESC is not None and _CN_MOBILE_DESC.matches(national)
    if _CN_FIXED_LINE is not None and _CN_FIXED_LINE.matches(national):
        if _CN_SAME_PATTERNS or mobile:
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return PhoneNumberType.FIXED_LINE
    if not _CN_SAME_PATTERNS and mobile:
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


def _plain_mobile(text: str) -> Standardized[StandardPhone] | None:
    """The common case without phonenumbers' parser (same answer, a fraction of the time)."""
    match = _PLAIN_MOBILE.fullmatch(_SEPARATORS.sub("", text))
    if match is None or _CN_MOBILE is None or not _CN_MOBILE.fullmatch(match.group(1)):
        return None  # let the full path decide and flag
    return Standardized(StandardPhone(e164=f"+86{match.group(1)}", kind=PhoneKind.MOBILE))


@lru_cache(maxsize=131_072)
def standardize_phone(text: str, area_code: str | None = None) -> Standardized[StandardPhone]:
    """A phone number in E.164 form (``+8613800138000``) with its kind.

    ``+86 138 0013 8000``, ``8613800138000``, ``(010)12345678`` and
    ``010 1234 5678 转 123`` all normalise; an extension is dropped and flagged,
    since matching compares the line, not the desk. Full-width digits are folded.
    A local landline without its area code (``2437843``) takes ``area_code``,
    the code of the city the record is in (see :func:`area_code_of`), flagged.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    fast = _plain_mobile(folded) or _plain_landline(folded)
    if fast is not None:
        return fast
    flags: list[Flag] = []
    if area_code is not None and is_local_number(folded):
        folded = f"0{area_code}{_SEPARATORS.sub('', folded)}"
        message = f"a local number: the area code 0{area_code} of the record's city was added"
        flags.append(Flag(_FIELD, "area_code_added", message))
    without_extension = _EXTENSION.sub("", folded)
    if without_extension != folded:
        flags.append(Flag(_FIELD, "extension_dropped", "the extension was dropped"))
    try:
        number = phonenumbers.parse(without_extension, DEFAULT_REGION)
    except NumberParseException as exc:
        flags.append(Flag(_FIELD, "unparseable", f"'{text[:40]}' is not a phone number: {exc}"))
        return Standardized(None, tuple(flags))
    if number.extension and not any(f.code == "extension_dropped" for f in flags):
        flags.append(Flag(_FIELD, "extension_dropped", "the extension was dropped"))
    if not phonenumbers.is_valid_number(number):
        flags.append(Flag(_FIELD, "invalid", f"'{text[:40]}' is not a valid phone number"))
        return Standardized(None, tuple(flags))
    number.extension = None
    phone = StandardPhone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        kind=_kind(number),
    )
    return Standardized(phone, tuple(flags))


def _kind(number: phonenumbers.PhoneNumber) -> PhoneKind:
    return _kind_of(phonenumbers.number_type(number), str(number.national_number))


def _kind_of(number_type: int, national: str) -> PhoneKind:
    if number_type == PhoneNumberType.FIXED_LINE_OR_MOBILE:
        # Some regions' plans cannot tell the two apart; in China the prefix can.
        return PhoneKind.MOBILE if national.startswith(_MOBILE_PREFIX) else PhoneKind.LANDLINE
    return _KINDS.get(number_type, PhoneKind.OTHER)


def is_local_number(text: str) -> bool:
    """Whether ``text`` is a landline written without its area code (``2437 843``)."""
    return (
        _LOCAL_NUMBER.fullmatch(_SEPARATORS.sub("", unicodedata.normalize("NFKC", text)))
        is not None
    )


def area_code_of(city: str | None) -> str | None:
    """The telephone area code (without the trunk 0) of a city, by its short name.

    Read from phonenumbers' geocoding data (area code → 福建省厦门市), so it
    follows the library's numbering plan; municipalities go by their own name.
    """
    return None if city is None else _area_codes().get(city)


@lru_cache(maxsize=1)
def _area_codes() -> dict[str, str]:
    from phonenumbers.geodata import GEOCODE_DATA  # large; loaded on first use

    found: dict[str, str | None] = {}
    for prefix, names in GEOCODE_DATA.items():
        description = names.get("zh")
        if not prefix.startswith("86") or description is None or len(prefix) > 5:
            continue
        code = prefix[2:]
        if code.startswith(_MOBILE_PREFIX) and code != "10":
            continue  # mobile number blocks, not area codes
        location = locate(description)
        place = location.city or location.province
        if place is None:
            continue
        # A city split over two codes cannot say which one a local number has.
        known = found.setdefault(place.short, code)
        if known != code:
            found[place.short] = None
    return {city: code for city, code in found.items() if code is not None}
