"""Value types shared by the matching stages.

Standardizers turn a raw :class:`~matching.record.SourceRecord` into a
:class:`StandardRecord`; blocking, comparison and the model read only the
standardized form. Every standardizer also reports data-quality
:class:`Flag` s: an invalid value is kept raw, flagged, and never used as a
strong identifier (its standardized slot stays ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from matching.fastpickle import pickled_by_fields
from matching.record import PartyType

__all__ = [
    "Flag",
    "PhoneKind",
    "StandardAddress",
    "StandardName",
    "StandardPhone",
    "StandardRecord",
    "Standardized",
]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Flag:
    """A data-quality finding on one field: ``code`` is stable and machine-readable."""

    field: str
    code: str
    message: str


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Standardized(Generic[T]):
    """A standardizer's answer: the value (``None`` when unusable) and its flags."""

    value: T | None
    flags: tuple[Flag, ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class StandardName:
    """A customer name taken apart for matching.

    ``normalized`` is the whole name after NFKC, traditional → simplified,
    bracket/punctuation unification and lower-casing of Latin letters.
    A Chinese organization name is built as region + trade name (字号) +
    industry term (行业) + legal form (组织形式), possibly followed by a branch
    designation: ``北京华为技术有限公司上海分公司`` has region ``北京``, trade
    ``华为``, industry term ``技术``, legal form ``有限公司`` and branch
    ``上海分公司``. ``core`` is trade + industry term (``华为技术``): what
    identifies the entity among its peers. For a person, ``core`` and ``trade``
    are the name itself.

    ``pinyin`` / ``trade_pinyin`` romanise ``core`` / ``trade`` without tones or
    spaces, so that a Chinese name meets its English form and homophone typos
    meet each other. Latin-script names are lower-cased words instead, with
    industry words mapped to one canonical English term per industry on both
    sides (技术, 科技, "technologies" → ``technology``) in ``industry_term``.
    ``tokens`` are the sorted romanised or Latin words (order-insensitive, so
    ``Wang Wei`` meets ``WEI WANG`` and ``王伟``).
    """

    raw: str
    normalized: str
    core: str
    trade: str
    pinyin: str
    trade_pinyin: str
    tokens: tuple[str, ...] = ()
    industry_term: str | None = None
    legal_form: str | None = None
    region: str | None = None
    branch: str | None = None
    is_latin: bool = False


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    OTHER = "other"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class StandardPhone:
    """A phone number in E.164 form (``+8613800138000``) with its kind."""

    e164: str
    kind: PhoneKind


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class StandardAddress:
    """A mailing address with its administrative parts recognised.

    ``detail`` is what remains after the province, city and district are taken
    off (street, building, room), normalized for comparison: without spaces in
    Chinese, with single spaces and commas kept between the parts of a
    Latin-script address (``6 tullaroop street, willaroo``).

    A foreign address names places this library does not know: ``locality``
    and ``state`` keep the normalized text of a city or province field that is
    no known Chinese division, ``postcode`` a postal code that is no valid
    Chinese one (letters and digits, no separators). They are compared only
    as text, never as divisions.
    """

    province: str | None = None
    city: str | None = None
    district: str | None = None
    detail: str | None = None
    region: str | None = None
    postal_code: str | None = None
    locality: str | None = None
    state: str | None = None
    postcode: str | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class StandardRecord:
    """A source record in the form every matching stage reads.

    Identifier slots hold only validated values: ``uscc`` is a valid unified
    social credit code, ``national_id`` a valid 18-digit resident id (old
    15-digit ids are converted). ``identifiers`` are ``(type, value)`` pairs
    compared exactly within their type.
    """

    source: str
    source_key: str
    party_type: PartyType
    name: StandardName
    name_en: StandardName | None = None
    uscc: str | None = None
    national_id: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    phones: tuple[StandardPhone, ...] = ()
    emails: tuple[str, ...] = ()
    address: StandardAddress = field(default_factory=StandardAddress)
    birth_date: date | None = None
    gender: str | None = None
    contact_name: str | None = None
    flags: tuple[Flag, ...] = ()
    # The contact's name in toneless pinyin (homophone typos of a contact meet).
    contact_pinyin: str | None = None
    # The sector of the record's industry field (``automotive`` for 汽车行业).
    industry: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The record's identity across the hub: (source, source_key)."""
        return (self.source, self.source_key)
