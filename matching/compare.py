"""Comparison levels per attribute, computed for many candidate pairs at once.

Records are first laid out as :class:`Columns` (integer codes and string arrays,
one entry per record); :func:`compare_pairs` then turns aligned index arrays
``left``/``right`` into an ``int8`` level matrix, one column per
:data:`COMPARISONS` entry, plus the term frequency of the agreed value where a
comparison is term-frequency adjusted and the hard constraints that apply.
Level 0 is always "missing": it carries no evidence either way.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import accumulate
from types import MappingProxyType
from typing import Protocol

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import OSA, Hamming, JaroWinkler
from rapidfuzz.process import cpdist

from matching.record import PartyType
from matching.standardize.divisions import Level, lookup_division
from matching.standardize.industries import name_sectors
from matching.standardize.names import branch_key
from matching.standardize.text import romanize
from matching.types import PhoneKind, StandardRecord

__all__ = [
    "COMPARISONS",
    "NO_COUNTS",
    "RAISED_KINDS",
    "AgreementShares",
    "Columns",
    "Comparison",
    "ComparisonVectors",
    "Constraint",
    "FrequencySource",
    "TermFrequencies",
    "agreement_shares",
    "compare_pairs",
    "comparison_names",
    "landline_city",
    "party_code",
    "record_terms",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
LevelArray = npt.NDArray[np.int8]

PARTY_CODES: Mapping[PartyType, int] = {PartyType.ORGANIZATION: 0, PartyType.PERSON: 1}
PARTIES: tuple[PartyType, ...] = (PartyType.ORGANIZATION, PartyType.PERSON)

# Similarity bands (Jaro-Winkler, normalized 0..1). Chinese names are short: one
# differing character in four already drops the score to about 0.87.
NAME_CLOSE = 0.90
NAME_SIMILAR = 0.80
LATIN_CLOSE = 0.94
LATIN_SIMILAR = 0.88
DETAIL_SIMILAR = 0.88

_CHUNK = 1_000_000
# Up to this many records (a submission and its candidates), columns are laid
# out with Python lists: numpy's per-call cost outweighs its speed there.
SMALL_BATCH = 256


def party_code(party: PartyType) -> int:
    """The integer code of a party type in :class:`Columns` (0 organization, 1 person)."""
    return PARTY_CODES[party]


class Constraint(enum.IntFlag):
    """Hard constraints: a pair carrying any of these never auto-links."""

    NONE = 0
    DIFFERENT_USCC = 1
    DIFFERENT_NATIONAL_ID = 2
    BRANCH_MISMATCH = 4
    PARTY_MISMATCH = 8


# --- term frequencies -------------------------------------------------------

TF_NAME = "name"
TF_TRADE = "trade"
TF_PINYIN = "pinyin"
TF_PHONE = "phone"
TF_EMAIL = "email"
TF_ADDRESS = "address"
TF_CONTACT = "contact"
TF_GIVEN = "given"
TF_SURNAME = "surname"
TF_KINDS = (
    TF_NAME,
    TF_TRADE,
    TF_PINYIN,
    TF_PHONE,
    TF_EMAIL,
    TF_ADDRESS,
    TF_CONTACT,
    TF_GIVEN,
    TF_SURNAME,
)


# A value on two records is what a duplicate pair looks like; only a value
# on more records than that says anything about how common it is. A pair's
# own value counts its *other* holders: the count less one.
COMMON_COUNT = 3
# A value no record holds besides the pair that shares it (a person's name on
# their own two records) is rarer than any count can say: it is given this
# many other holders, so that its weight stays finite.
RARE_HOLDERS = 0.5
# Term kinds whose rare values may *raise* a weight, per party type: a
# person's exact name held by no one else is strong evidence. Company names
# are left out: a trade name is registered once per region, and one held by
# a single record here may be a sibling's in another city.
RAISED_KINDS: Mapping[PartyType, frozenset[str]] = {PartyType.PERSON: frozenset({"name"})}


class FrequencySource(Protocol):
    """Where the share of records holding a value comes from (0.0 when unknown)."""

    def fraction(self, party: PartyType, kind: str, value: str) -> float:
        """Share of ``party`` records whose ``kind`` value is ``value``."""
        ...

    def rare_share(self, party: PartyType, kind: str, value: str) -> float:
        """Like :meth:`fraction`, but a rare value gets its small share instead of 0.0.

        What a value's rarity is measured with when it may raise a weight
        (:data:`RAISED_KINDS`).
        """
        ...

    def holders(self, party: PartyType, kind: str, value: str) -> int:
        """How many ``party`` records hold ``value``: for a rare value, the most it can be."""
        ...


def record_terms(record: StandardRecord) -> Iterator[tuple[str, str]]:
    """The (kind, value) pairs of a record that term-frequency adjustment counts."""
    name = record.name
    if name.core:
        yield TF_NAME, name.core
    if name.trade and name.trade != name.core:
        yield TF_TRADE, name.trade
    if name.pinyin:
        yield TF_PINYIN, name.pinyin
    for phone in {p.e164 for p in record.phones}:
        yield TF_PHONE, phone
    for email in set(record.emails):
        yield TF_EMAIL, email
    address = _address_value(record)
    if address is not None:
        yield TF_ADDRESS, address
    if record.contact_name:
        yield TF_CONTACT, record.contact_name
    given, surname = latin_name_parts(record)
    if given:
        yield TF_GIVEN, given
    if surname:
        yield TF_SURNAME, surname


def latin_name_parts(record: StandardRecord) -> tuple[str, str]:
    """A Latin-script person name as (given names, surname); ``""`` for a part not there.

    ``core`` keeps the written order, given names first (a "Surname, Given"
    listing is turned round by the standardizer); a single word is taken as
    the surname, and comparison tries it against both parts of the other name.
    """
    name = record.name
    if record.party_type is not PartyType.PERSON or not name.is_latin or not name.core:
        return "", ""
    given, _, surname = name.core.rpartition(" ")
    return given, surname


def latin_street(detail: str | None) -> tuple[str, str]:
    """A Latin-script address line as (street number, street): ``6 tullaroop street, …``."""
    if not detail:
        return "", ""
    line = detail.partition(",")[0].strip()
    number, _, rest = line.partition(" ")
    if number[:1].isdigit():
        return number, rest
    return "", line


# What a kind without a table counts (shared: lookups run per record and value).
NO_COUNTS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TermFrequencies:
    """Counts of frequent values per party type and kind, with the population sizes.

    Only values seen at least ``min_count`` times are kept: the adjustment
    lowers the weight of common values, and a value without an entry is known
    to be rare: held by fewer than ``min_count`` records, which is all that
    :meth:`rare_share` needs. The share of a value is that of its other
    holders (count less one).
    """

    totals: Mapping[str, int]
    counts: Mapping[str, Mapping[str, int]]
    min_count: int = COMMON_COUNT

    @classmethod
    def from_records(
        cls, records: Iterable[StandardRecord], min_count: int = COMMON_COUNT
    ) -> TermFrequencies:
        """Count the term values of ``records``."""
        totals: Counter[str] = Counter()
        counters: dict[str, Counter[str]] = {}
        for record in records:
            party = record.party_type.value
            totals[party] += 1
            for kind, value in record_terms(record):
                counters.setdefault(f"{party}:{kind}", Counter())[value] += 1
        counts = {
            table: {value: n for value, n in counter.items() if n >= min_count}
            for table, counter in sorted(counters.items())
        }
        return cls(totals=dict(totals), counts=counts, min_count=max(min_count, COMMON_COUNT))

    def fraction(self, party: PartyType, kind: str, value: str) -> float:
        """Share of ``party`` records whose ``kind`` value is ``value`` (0.0 when rare)."""
        total = self.totals.get(party, 0)  # a PartyType (str enum) finds its text's entry
        if total == 0:
            return 0.0
        count = self.counts.get(f"{party}:{kind}", NO_COUNTS).get(value, 0)
        return (count - 1) / total if count >= COMMON_COUNT else 0.0

    def rare_share(self, party: PartyType, kind: str, value: str) -> float:
        """:meth:`fraction`, or for a value without an entry the most it can be.

        A value held by fewer than ``min_count`` records of the counted
        population is given ``min_count - 2`` other holders (at least
        :data:`RARE_HOLDERS`): the bound, so that rarity is never overstated.
        """
        total = self.totals.get(party, 0)
        if total == 0:
            return 0.0
        count = self.counts.get(f"{party}:{kind}", NO_COUNTS).get(value, 0)
        if count >= max(self.min_count, COMMON_COUNT):
            return (count - 1) / total
        return max(self.min_count - 2, RARE_HOLDERS) / total

    def holders(self, party: PartyType, kind: str, value: str) -> int:
        """How many ``party`` records hold ``value``; a value without an entry, ``min_count - 1``.

        The bound again: a value counted fewer than ``min_count`` times is
        never taken for rarer than that.
        """
        count = self.counts.get(f"{party}:{kind}", NO_COUNTS).get(value, 0)
        return count if count >= max(self.min_count, COMMON_COUNT) else self.min_count - 1

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "totals": dict(self.totals),
            "counts": {k: dict(v) for k, v in self.counts.items()},
            "min_count": self.min_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> TermFrequencies:
        """Inverse of :meth:`to_dict`."""
        totals = data.get("totals", {})
        counts = data.get("counts", {})
        if not isinstance(totals, Mapping) or not isinstance(counts, Mapping):
            raise ValueError("term frequencies need 'totals' and 'counts' objects")
        min_count = data.get("min_count", COMMON_COUNT)
        if not isinstance(min_count, int):
            raise ValueError("term frequencies' 'min_count' must be an integer")
        return cls(
            totals={str(k): int(v) for k, v in totals.items()},
            counts={
                str(table): {str(v): int(n) for v, n in values.items()}
                for table, values in counts.items()
            },
            min_count=min_count,
        )


# --- columns ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class SetColumn:
    """A set-valued attribute (phones, e-mails, identifiers) laid out flat.

    Record ``i`` holds ``codes[offsets[i]:offsets[i + 1]]``; ``probe`` is the
    sorted ``record << 32 | code`` of every item, so membership of a value in
    another record's set is one binary search.
    """

    offsets: IntArray
    codes: IntArray
    tf: FloatArray
    probe: IntArray

    @classmethod
    def build(cls, items: Sequence[Sequence[int]], tf: FloatArray | None = None) -> SetColumn:
        if len(items) <= SMALL_BATCH:
            return cls._build_small(items, tf)
        sizes = np.fromiter((len(x) for x in items), dtype=np.int64, count=len(items))
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        codes = np.fromiter((c for x in items for c in x), dtype=np.int64, count=int(offsets[-1]))
        owner = np.repeat(np.arange(len(items), dtype=np.int64), sizes)
        probe = np.sort((owner << 32) | codes)
        if tf is None:
            tf = np.zeros(len(codes), dtype=np.float32)
        return cls(offsets=offsets, codes=codes, tf=tf, probe=probe)

    @classmethod
    def _build_small(cls, items: Sequence[Sequence[int]], tf: FloatArray | None) -> SetColumn:
        """:meth:`build` for a submission's few records: lists, not a dozen array calls."""
        codes = [c for x in items for c in x]
        probe = sorted([(owner << 32) | c for owner, x in enumerate(items) for c in x])
        return cls(
            offsets=np.fromiter(accumulate(map(len, items), initial=0), np.int64, len(items) + 1),
            codes=np.array(codes, dtype=np.int64),
            tf=np.zeros(len(codes), dtype=np.float32) if tf is None else tf,
            probe=np.array(probe, dtype=np.int64),
        )

    def sizes(self, rows: IntArray) -> IntArray:
        return self.offsets[rows + 1] - self.offsets[rows]

    def shared(self, left: IntArray, right: IntArray) -> tuple[BoolArray, FloatArray]:
        """Whether each pair shares an item, and the smallest term frequency shared."""
        counts = self.sizes(left)
        total = int(counts.sum())
        if total == 0:  # no left record holds an item (most records have no e-mail)
            return np.zeros(len(left), dtype=np.bool_), np.zeros(len(left), dtype=np.float32)
        pair = np.repeat(np.arange(len(left), dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        item = np.repeat(self.offsets[left], counts) + (
            np.arange(total, dtype=np.int64) - np.repeat(first, counts)
        )
        key = (right[pair] << 32) | self.codes[item]
        found = np.zeros(total, dtype=np.bool_)
        if len(self.probe):
            pos = np.minimum(np.searchsorted(self.probe, key), len(self.probe) - 1)
            found = self.probe[pos] == key
        hit = np.zeros(len(left), dtype=np.bool_)
        hit[pair[found]] = True
        tf = np.full(len(left), np.inf, dtype=np.float32)
        np.minimum.at(tf, pair[found], self.tf[item[found]])
        tf[~hit] = 0.0
        return hit, tf


class _Vocabulary:
    """Text → dense integer code; empty or missing text is -1."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def code(self, value: str | None) -> int:
        if not value:
            return -1
        return self.index.setdefault(value, len(self.index))


def _encode(vocab: _Vocabulary, values: Sequence[str | None]) -> IntArray:
    """Codes of a whole column at once (the per-record loop is the slow part)."""
    index = vocab.index
    return np.fromiter(
        (index.setdefault(x, len(index)) if x else -1 for x in values), np.int64, len(values)
    )


def _code_list(vocab: _Vocabulary, values: Iterable[str]) -> list[int]:
    index = vocab.index
    return [index.setdefault(x, len(index)) for x in values if x]


def _code_set(vocab: _Vocabulary, values: Iterable[str | None]) -> list[int]:
    """Sorted distinct codes of one record's list field."""
    index = vocab.index
    return sorted({index.setdefault(x, len(index)) for x in values if x})


def _is_group(legal_form: str | None) -> bool:
    return legal_form is not None and ("集团" in legal_form or "group" in legal_form)


def _address_value(record: StandardRecord) -> str | None:
    address = record.address
    if not address.detail:
        return None
    return f"{address.city or ''}|{address.detail}"


# Mailboxes of a role, not of a person (info@, sales@ …).
_ROLE_MAILBOXES = frozenset(
    {"info", "sales", "service", "contact", "office", "admin", "hr", "market", "support", "mail"}
)
# Public mail services: a domain of theirs says nothing about who the holder works for.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "21cn.com",
        "aliyun.com",
        "tom.com",
        "gmail.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
    }
)
_NOT_LETTER = re.compile(r"[^a-z]+")
MIN_MAILBOX_NAME = 4


def _mailbox_name(email: str) -> str | None:
    """Whom a mailbox is named after: the letters of its local part (zhangwei85 → zhangwei)."""
    local = email.partition("@")[0]
    letters = _NOT_LETTER.sub("", local)
    if len(letters) < MIN_MAILBOX_NAME or letters in _ROLE_MAILBOXES:
        return None
    return letters


def _own_domain(email: str) -> str | None:
    """The domain of a mailbox, unless it is a public mail service's."""
    domain = email.rpartition("@")[2]
    return None if not domain or domain in PUBLIC_MAIL_DOMAINS else domain


def _record_sectors(record: StandardRecord) -> frozenset[str]:
    english = record.name_en.industry_term if record.name_en is not None else None
    return _sectors_of_terms(record.name.industry_term, english)


@lru_cache(maxsize=1_024)
def _sectors_of_terms(term: str | None, english: str | None) -> frozenset[str]:
    return name_sectors(term) | name_sectors(english)


_STREET_NUMBER = re.compile(r"^.*?[0-9]+号(?=[^0-9a-z栋楼])")
_UNIT = re.compile(r"[0-9]+单元")
_COMPOUND_BUILDING = re.compile(r"^[\u4e00-\u9fff]{2,}[0-9a-z]+栋[0-9]+$")


def _premises_value(record: StandardRecord) -> str | None:
    """City, compound, building and room of a home address: 翠苑13栋301 in 深圳.

    Departments write a residential address with or without its street
    (长江路204号翠苑13-5-301 / 翠苑13栋5单元301室) and with or without the
    unit (新村26幢308室); the compound, building and room stay.
    """
    address = record.address
    if not address.detail:
        return None
    premises = _UNIT.sub("", _STREET_NUMBER.sub("", address.detail))
    if not _COMPOUND_BUILDING.match(premises):
        return None
    return f"{address.city or ''}|{premises}"


@lru_cache(maxsize=1)
def _area_cities() -> dict[str, str]:
    """Area code (no trunk 0) → the one city it serves (``matching/data/area_codes.tsv``)."""
    text = resources.files("matching").joinpath("data", "area_codes.tsv").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {code: city for code, city in rows}  # noqa: C416 (two columns, named)


def landline_city(record: StandardRecord) -> str | None:
    """The city a record's Chinese landlines are in, when their area codes name just one.

    A department that leaves the city out often keeps the landline, and its
    area code (010, 0512) says where the number is: 正顺腾纺织 with a 010
    number is in 北京 as much as one with ``city=北京``. An area code shared
    by several cities (024: 沈阳, 铁岭, 抚顺) says nothing, nor do landlines
    of two cities.
    """
    cities: set[str | None] = set()
    for phone in record.phones:
        if phone.kind is PhoneKind.MOBILE or not phone.e164.startswith("+86"):
            continue
        national = phone.e164[3:]
        # Two-digit area codes are 10 and 2x; all others have three digits.
        area = national[:2] if national[:1] in ("1", "2") else national[:3]
        cities.add(_area_cities().get(area))
    return cities.pop() if len(cities) == 1 else None


def _roman_keys(record: StandardRecord) -> list[str]:
    """Romanised forms a Chinese name shares with its English or pinyin spelling."""
    names = [record.name] if record.name_en is None else [record.name, record.name_en]
    keys: list[str] = []
    for name in names:
        if record.party_type is PartyType.PERSON:
            key = " ".join(sorted(name.tokens)) if name.tokens else name.pinyin
        else:
            # Industry words are canonical on both sides (技术, technologies →
            # technology), so the trade romanisation plus that term is what a
            # Chinese name and its English name have in common.
            key = f"{name.trade_pinyin}|{name.industry_term or ''}" if name.trade_pinyin else ""
        if key and key not in keys:
            keys.append(key)
    return keys


@dataclass(frozen=True, slots=True, eq=False)
class Columns:
    """Records laid out for vectorised comparison (row ``i`` is record ``i``)."""

    party: npt.NDArray[np.int8]
    core: npt.NDArray[np.object_]
    core_code: IntArray
    # The core with the place the name is registered in (its region, else the
    # record's city), for counting pairs at ``exact_same_place``.
    core_place: IntArray
    trade_code: IntArray
    trade: npt.NDArray[np.object_]
    trade_pinyin_code: IntArray
    has_industry: BoolArray
    pinyin: npt.NDArray[np.object_]
    pinyin_code: IntArray
    # The ASCII letters and digits of a Hanzi name (-1 when it has none).
    marks: IntArray
    latin: BoolArray
    roman: SetColumn
    name_region: IntArray
    # The name's region as a city and as a province, in the codes of ``city``
    # and ``province`` (-1 when the region is no city, or unknown).
    region_city: IntArray
    region_province: IntArray
    legal_form: IntArray
    group: BoolArray
    branch: IntArray
    uscc: IntArray
    national_id: IntArray
    identifiers: SetColumn
    identifier_types: SetColumn
    mobiles: SetColumn
    landlines: SetColumn
    switchboards: SetColumn
    # The first two own numbers (no switchboards) as text, "" when absent.
    phone_text: tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]
    emails: SetColumn
    city: IntArray
    province: IntArray
    district: IntArray
    detail: npt.NDArray[np.object_]
    address_code: IntArray
    # The city with the building, unit and room of a residential compound,
    # the street left out (-1 when the line names no compound and building).
    premises_code: IntArray
    birth: IntArray
    gender: IntArray
    contact_code: IntArray
    contact_pinyin_code: IntArray
    # Per record: the people its mailboxes are named after (the letters of
    # zhangwei@…, zhangwei1985@…, in the codes of ``contact_pinyin_code``),
    # and the domains of its mailboxes that are no public mail service.
    mailbox_names: SetColumn
    domains: SetColumn
    # The sector of the industry field, and the sectors the name's industry
    # words (or its English name's) stand for, in one vocabulary.
    industry: IntArray
    name_sectors: SetColumn
    core_tf: FloatArray
    trade_tf: FloatArray
    pinyin_tf: FloatArray
    # How many records of the party hold the name, and its sound (pinyin);
    # the trade name, and its sound. Counted in the batch, or looked up in a
    # frequency source: there a trade name counts the full names that carry
    # it, and a trade name's sound the names that sound like it whole (a
    # source keeps no trade-name sounds), both at most what the batch counts.
    core_holders: IntArray
    pinyin_holders: IntArray
    trade_holders: IntArray
    trade_pinyin_holders: IntArray
    address_tf: FloatArray
    contact_tf: FloatArray
    # Latin-script persons and foreign addresses ("" / -1 elsewhere).
    given: npt.NDArray[np.object_]
    surname: npt.NDArray[np.object_]
    given_code: IntArray
    surname_code: IntArray
    given_tf: FloatArray
    surname_tf: FloatArray
    street_number: IntArray
    street: npt.NDArray[np.object_]
    locality: npt.NDArray[np.object_]
    locality_code: IntArray
    state: IntArray
    postcode: npt.NDArray[np.object_]
    postcode_code: IntArray
    # The first identifier of another scheme, and its scheme, for typo tolerance.
    identifier_text: npt.NDArray[np.object_]
    identifier_type: IntArray
    birth_ymd: IntArray
    # The branch code of a head office (an organization that is no branch).
    head_office: int = -2
    size: int = field(default=0)

    @classmethod
    def from_records(
        cls, records: Sequence[StandardRecord], frequencies: FrequencySource | None = None
    ) -> Columns:
        """Lay ``records`` out as columns.

        Term frequencies come from ``frequencies`` when given (an index, a
        trained model), else from ``records`` themselves (a batch).
        """
        return _ColumnBuilder(records, frequencies).build()

    def __len__(self) -> int:
        return self.size


class _ColumnBuilder:
    def __init__(self, records: Sequence[StandardRecord], source: FrequencySource | None) -> None:
        self.records = records
        self.source = source
        self.vocab = {
            k: _Vocabulary()
            for k in (
                "core",
                "trade",
                "pinyin",
                "trade_pinyin",
                "marks",
                "roman",
                "region",
                "legal",
                "branch",
                "uscc",
                "nid",
                "ident",
                "itype",
                "phone",
                "email",
                "city",
                "province",
                "district",
                "address",
                "premises",
                "gender",
                "contact",
                "contact_pinyin",
                "domain",
                "sector",
                "latin_name",
                "street_number",
                "locality",
                "state",
                "postcode",
            )
        }

    def build(self) -> Columns:
        v = self.vocab
        records = self.records
        n = len(records)
        names = [r.name for r in records]
        addresses = [r.address for r in records]
        is_org = [r.party_type is PartyType.ORGANIZATION for r in records]
        party = np.fromiter((PARTY_CODES[r.party_type] for r in records), np.int8, n)
        latin = np.fromiter((name.is_latin for name in names), np.bool_, n)
        has_industry = np.fromiter((bool(name.industry_term) for name in names), np.bool_, n)
        group = np.fromiter((_is_group(name.legal_form) for name in names), np.bool_, n)
        core = [name.core for name in names]
        pinyin = [name.pinyin for name in names]
        detail = [address.detail or "" for address in addresses]
        region_places = [
            _region_place(name.region) if org else (None, None)
            for name, org in zip(names, is_org, strict=True)
        ]
        contacts = [r.contact_name for r in records]
        codes: dict[str, IntArray] = {
            "core": _encode(v["core"], core),
            "trade": _encode(v["trade"], [name.trade for name in names]),
            "pinyin": _encode(v["pinyin"], pinyin),
            "trade_pinyin": _encode(v["trade_pinyin"], [name.trade_pinyin for name in names]),
            "marks": _encode(
                v["marks"], [None if name.is_latin else _marks(name.core) for name in names]
            ),
            "region": _encode(v["region"], [name.region for name in names]),
            "legal": _encode(v["legal"], [name.legal_form for name in names]),
            # A head office is a known value ("" → code -1 would read as missing).
            "branch": _encode(
                v["branch"],
                [
                    "=" + (branch_key(name.branch) if name.branch else "") if org else None
                    for name, org in zip(names, is_org, strict=True)
                ],
            ),
            "uscc": _encode(v["uscc"], [r.uscc for r in records]),
            "nid": _encode(v["nid"], [r.national_id for r in records]),
            # Without a city, the landline's area code stands for it.
            "city": _encode(
                v["city"],
                [
                    address.city or landline_city(r)
                    for r, address in zip(records, addresses, strict=True)
                ],
            ),
            "province": _encode(v["province"], [address.province for address in addresses]),
            "region_city": _encode(v["city"], [city for city, _ in region_places]),
            "region_province": _encode(v["province"], [prov for _, prov in region_places]),
            "district": _encode(
                v["district"],
                [
                    f"{address.city}|{address.district}" if address.district else None
                    for address in addresses
                ],
            ),
            "address": _encode(v["address"], [_address_value(r) for r in records]),
            "premises": _encode(v["premises"], [_premises_value(r) for r in records]),
            "gender": _encode(v["gender"], [r.gender for r in records]),
            "birth": np.fromiter(
                (r.birth_date.toordinal() if r.birth_date is not None else -1 for r in records),
                np.int64,
                n,
            ),
            "contact": _encode(v["contact"], contacts),
            "industry": _encode(v["sector"], [r.industry for r in records]),
            # Standardized records carry it; hand-made ones get it here.
            "contact_pinyin": _encode(
                v["contact_pinyin"],
                [
                    r.contact_pinyin or (romanize(r.contact_name) if r.contact_name else None)
                    for r in records
                ],
            ),
        }
        phone = v["phone"].index
        sets: dict[str, list[list[int]]] = {
            "roman": [_code_list(v["roman"], _roman_keys(r)) for r in records],
            "ident": [
                _code_set(v["ident"], [f"{t}\x1f{x}" for t, x in r.identifiers]) for r in records
            ],
            "itype": [_code_set(v["itype"], [t for t, _ in r.identifiers]) for r in records],
            "mobile": [
                sorted(
                    {
                        phone.setdefault(p.e164, len(phone))
                        for p in r.phones
                        if p.kind is PhoneKind.MOBILE
                    }
                )
                for r in records
            ],
            "landline": [
                sorted(
                    {
                        phone.setdefault(p.e164, len(phone))
                        for p in r.phones
                        if p.kind is not PhoneKind.MOBILE
                    }
                )
                for r in records
            ],
            "email": [_code_set(v["email"], r.emails) for r in records],
            # Most records have no e-mail and no industry words: skip them cheaply.
            "mailbox_name": [
                _code_set(v["contact_pinyin"], map(_mailbox_name, r.emails)) if r.emails else []
                for r in records
            ],
            "domain": [
                _code_set(v["domain"], map(_own_domain, r.emails)) if r.emails else []
                for r in records
            ],
            "sector": [
                _code_set(v["sector"], _record_sectors(r))
                if r.name.industry_term or r.name_en is not None
                else []
                for r in records
            ],
        }

        text, foreign = self._foreign_columns()
        arrays = {**codes, **{k: np.asarray(c, dtype=np.int64) for k, c in foreign.items()}}
        private, shared = _split_switchboards(sets["landline"], arrays["pinyin"], latin)
        tf = _TermFractions(party, self.source, self.vocab)
        return Columns(
            party=party,
            core=np.asarray(core, dtype=object),
            core_code=arrays["core"],
            core_place=_core_place(arrays),
            trade_code=arrays["trade"],
            trade=np.asarray([name.trade for name in names], dtype=object),
            trade_pinyin_code=arrays["trade_pinyin"],
            has_industry=has_industry,
            pinyin=np.asarray(pinyin, dtype=object),
            pinyin_code=arrays["pinyin"],
            marks=arrays["marks"],
            latin=latin,
            roman=SetColumn.build(sets["roman"]),
            name_region=arrays["region"],
            region_city=arrays["region_city"],
            region_province=arrays["region_province"],
            legal_form=arrays["legal"],
            group=group,
            branch=arrays["branch"],
            uscc=arrays["uscc"],
            national_id=arrays["nid"],
            identifiers=SetColumn.build(sets["ident"]),
            identifier_types=SetColumn.build(sets["itype"]),
            mobiles=SetColumn.build(sets["mobile"], tf.of_sets(sets["mobile"], "phone", TF_PHONE)),
            landlines=SetColumn.build(private, tf.of_sets(private, "phone", TF_PHONE)),
            switchboards=SetColumn.build(shared, tf.of_sets(shared, "phone", TF_PHONE)),
            phone_text=_phone_text(self.records, shared, v["phone"]),
            emails=SetColumn.build(sets["email"], tf.of_sets(sets["email"], "email", TF_EMAIL)),
            city=arrays["city"],
            province=arrays["province"],
            district=arrays["district"],
            detail=np.asarray(detail, dtype=object),
            address_code=arrays["address"],
            premises_code=arrays["premises"],
            birth=arrays["birth"],
            gender=arrays["gender"],
            contact_code=arrays["contact"],
            contact_pinyin_code=arrays["contact_pinyin"],
            mailbox_names=SetColumn.build(sets["mailbox_name"]),
            domains=SetColumn.build(sets["domain"]),
            industry=arrays["industry"],
            name_sectors=SetColumn.build(sets["sector"]),
            core_tf=tf.of_values(arrays["core"], "core", TF_NAME, rare=True),
            trade_tf=tf.of_values(arrays["trade"], "trade", TF_TRADE),
            pinyin_tf=tf.of_values(arrays["pinyin"], "pinyin", TF_PINYIN),
            core_holders=tf.holders(arrays["core"], "core", TF_NAME),
            pinyin_holders=tf.holders(arrays["pinyin"], "pinyin", TF_PINYIN),
            trade_holders=tf.holders(arrays["trade"], "trade", TF_TRADE),
            trade_pinyin_holders=tf.holders(arrays["trade_pinyin"], "trade_pinyin", TF_PINYIN),
            address_tf=tf.of_values(arrays["address"], "address", TF_ADDRESS),
            contact_tf=tf.of_values(arrays["contact"], "contact", TF_CONTACT),
            given=text["given"],
            surname=text["surname"],
            given_code=arrays["given"],
            surname_code=arrays["surname"],
            given_tf=tf.of_values(arrays["given"], "latin_name", TF_GIVEN),
            surname_tf=tf.of_values(arrays["surname"], "latin_name", TF_SURNAME),
            street_number=arrays["street_number"],
            street=text["street"],
            locality=text["locality"],
            locality_code=arrays["locality"],
            state=arrays["state"],
            postcode=text["postcode"],
            postcode_code=arrays["postcode"],
            identifier_text=text["identifier"],
            identifier_type=arrays["identifier_type"],
            birth_ymd=arrays["birth_ymd"],
            head_office=v["branch"].index.get("=", -2),
            size=n,
        )

    def _foreign_columns(
        self,
    ) -> tuple[dict[str, npt.NDArray[np.object_]], dict[str, list[int]]]:
        """Latin-script person names, foreign address parts, other identifiers, dates."""
        v = self.vocab
        text: dict[str, list[str]] = {
            k: [] for k in ("given", "surname", "street", "locality", "postcode", "identifier")
        }
        codes: dict[str, list[int]] = {
            k: []
            for k in (
                "given",
                "surname",
                "street_number",
                "locality",
                "state",
                "postcode",
                "identifier_type",
                "birth_ymd",
            )
        }
        for r in self.records:
            first, last = latin_name_parts(r)
            text["given"].append(first)
            text["surname"].append(last)
            codes["given"].append(v["latin_name"].code(first))
            codes["surname"].append(v["latin_name"].code(last))
            address = r.address
            number, line = latin_street(address.detail if address.city is None else None)
            text["street"].append(line)
            codes["street_number"].append(v["street_number"].code(number))
            text["locality"].append(address.locality or "")
            codes["locality"].append(v["locality"].code(address.locality))
            codes["state"].append(v["state"].code(address.state))
            text["postcode"].append(address.postcode or "")
            codes["postcode"].append(v["postcode"].code(address.postcode))
            kind, value = r.identifiers[0] if r.identifiers else ("", "")
            text["identifier"].append(value)
            codes["identifier_type"].append(v["itype"].code(kind))
            born = r.birth_date
            codes["birth_ymd"].append(
                born.year * 10_000 + born.month * 100 + born.day if born is not None else -1
            )
        arrays = {k: np.asarray(values, dtype=object) for k, values in text.items()}
        return arrays, codes


def _core_place(arrays: Mapping[str, IntArray]) -> IntArray:
    # Cities are one vocabulary (codes >= 0); provinces go below -1.
    place = np.where(
        arrays["region_city"] >= 0,
        arrays["region_city"],
        np.where(arrays["region_province"] >= 0, -2 - arrays["region_province"], arrays["city"]),
    )
    known = (arrays["core"] >= 0) & (place != -1)
    keys = arrays["core"] * (1 << 20) + place
    _, codes = np.unique(keys, return_inverse=True)
    out: IntArray = np.where(known, codes, -1).astype(np.int64)
    return out


_NOT_MARK = re.compile(r"[^0-9A-Za-z]+")


def _marks(core: str) -> str:
    """The Latin letters and digits of a Chinese name (the ``A`` of ``A栋``, ``3D``)."""
    return _NOT_MARK.sub("", core)


@lru_cache(maxsize=4_096)
def _region_place(region: str | None) -> tuple[str | None, str | None]:
    """The city (when the region is one) and the province a name's region names."""
    if not region:
        return None, None
    city = lookup_division(region, Level.CITY)
    if city is not None:
        return city.short, city.province
    province = lookup_division(region, Level.PROVINCE)
    if province is None:
        return None, None
    if province.is_municipality:
        return province.short, province.short
    return None, province.short


def _phone_text(
    records: Sequence[StandardRecord], switchboards: Sequence[Sequence[int]], vocab: _Vocabulary
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    first: list[str] = []
    second: list[str] = []
    for record, shared in zip(records, switchboards, strict=True):
        skip = set(shared)
        own = [p.e164 for p in record.phones if vocab.index.get(p.e164) not in skip]
        own = list(dict.fromkeys(own))
        first.append(own[0] if own else "")
        second.append(own[1] if len(own) > 1 else "")
    return np.asarray(first, dtype=object), np.asarray(second, dtype=object)


def _split_switchboards(
    lines: Sequence[Sequence[int]], name_codes: IntArray, latin: BoolArray
) -> tuple[list[list[int]], list[list[int]]]:
    """Each record's landlines split into its own and those shared by several names.

    A landline held by records of different names (compared by pinyin, so a
    homophone typo is still the same name) is a group switchboard or a
    household line: 沃博科技 and 沃博贸易 on one number, or 王建国 and
    王秀英 at home. Sharing it says far less than sharing a private line.
    Latin names are left out: an English name is no different company.
    """
    names: dict[int, set[int]] = {}
    for record, codes in enumerate(lines):
        if latin[record] or name_codes[record] < 0:
            continue
        for code in codes:
            names.setdefault(code, set()).add(int(name_codes[record]))
    shared = {code for code, held in names.items() if len(held) > 1}
    private = [[c for c in codes if c not in shared] for codes in lines]
    switchboards = [[c for c in codes if c in shared] for codes in lines]
    return private, switchboards


class _TermFractions:
    """Per-record term frequencies: counted in the batch, or looked up in a source."""

    def __init__(
        self,
        party: npt.NDArray[np.int8],
        source: FrequencySource | None,
        vocab: Mapping[str, _Vocabulary],
    ) -> None:
        self.party = party
        # Per record, its party type: what a source is asked with.
        self.party_types = [PARTIES[p] for p in party.tolist()] if source is not None else []
        self.source = source
        self.vocab = vocab
        self.totals = np.bincount(party, minlength=len(PARTIES)).astype(np.float64)
        self._texts: dict[str, list[str]] = {}

    def _values(self, vocab: str) -> list[str]:
        """The texts of ``vocab`` by code (the vocabularies are complete by now)."""
        texts = self._texts.get(vocab)
        if texts is None:
            texts = self._texts[vocab] = list(self.vocab[vocab].index)
        return texts

    def of_values(self, codes: IntArray, vocab: str, kind: str, rare: bool = False) -> FloatArray:
        """Shares per record; with ``rare``, rare values of :data:`RAISED_KINDS` get theirs too."""
        return self._fractions(codes, self.party, vocab, kind, rare=rare)

    def holders(self, codes: IntArray, vocab: str, kind: str) -> IntArray:
        """Per record, how many records of its party hold its value (0 without one)."""
        if self.source is not None:
            holders, values = self.source.holders, self._values(vocab)
            return np.fromiter(
                (
                    holders(party_type, kind, values[c]) if c >= 0 else 0
                    for party_type, c in zip(self.party_types, codes.tolist(), strict=True)
                ),
                np.int64,
                len(codes),
            )
        out = np.zeros(len(codes), dtype=np.int64)
        present = codes >= 0
        for p in range(len(PARTIES)):
            rows = np.flatnonzero(present & (self.party == p))
            if len(rows):
                out[rows] = np.bincount(codes[rows])[codes[rows]]
        return out

    def of_sets(self, items: Sequence[Sequence[int]], vocab: str, kind: str) -> FloatArray:
        sizes = np.fromiter((len(x) for x in items), dtype=np.int64, count=len(items))
        codes = np.fromiter((c for x in items for c in x), dtype=np.int64, count=int(sizes.sum()))
        return self._fractions(codes, np.repeat(self.party, sizes), vocab, kind)

    def _fractions(
        self,
        codes: IntArray,
        party: npt.NDArray[np.int8],
        vocab: str,
        kind: str,
        *,
        rare: bool = False,
    ) -> FloatArray:
        raised = [rare and kind in RAISED_KINDS.get(party_type, ()) for party_type in PARTIES]
        if self.source is not None:
            # One lookup per value in row order: a call's batch is a handful of
            # records, too few for per-party masks to pay.
            values = self._values(vocab)
            shares = [
                (party_type, self.source.rare_share if up else self.source.fraction)
                for party_type, up in zip(PARTIES, raised, strict=True)
            ]
            return np.fromiter(
                (
                    shares[p][1](shares[p][0], kind, values[c]) if c >= 0 else 0.0
                    for p, c in zip(party.tolist(), codes.tolist(), strict=True)
                ),
                np.float32,
                len(codes),
            )
        out = np.zeros(len(codes), dtype=np.float32)
        present = codes >= 0
        # Counts within the batch, per party type: 王伟 is common among persons
        # whatever the number of organizations.
        for p in range(len(PARTIES)):
            rows = np.flatnonzero(present & (party == p))
            if len(rows) == 0:
                continue
            counts = np.bincount(codes[rows])[codes[rows]]
            # A rare value shared by a pair has no other holder than the pair.
            floor = RARE_HOLDERS / self.totals[p] if raised[p] else 0.0
            out[rows] = np.where(counts >= COMMON_COUNT, (counts - 1) / self.totals[p], floor)
        return out


# --- comparisons ------------------------------------------------------------

LevelFunction = Callable[[Columns, IntArray, IntArray], tuple[LevelArray, FloatArray | None]]


@dataclass(frozen=True, slots=True)
class Comparison:
    """One attribute's comparison: level labels (0 = missing) and how to compute them."""

    name: str
    levels: tuple[str, ...]
    compute: LevelFunction
    term_frequency: bool = False

    def label(self, level: int) -> str:
        return self.levels[level]


def _both(a: IntArray, b: IntArray) -> BoolArray:
    return (a >= 0) & (b >= 0)


def _exact3(a: IntArray, b: IntArray) -> LevelArray:
    """Levels missing (0) / different (1) / same (2) of a single-valued code."""
    out = np.where(a == b, 2, 1).astype(np.int8)
    out[~_both(a, b)] = 0
    return out


def _similarity(left: npt.NDArray[np.object_], right: npt.NDArray[np.object_]) -> FloatArray:
    if len(left) == 0:
        return np.zeros(0, dtype=np.float32)
    # Large batches (a bulk match) are scored on every core; a submission's few
    # pairs are not worth the threads.
    workers = -1 if len(left) >= PARALLEL_SIMILARITY_FROM else 1
    scores: FloatArray = cpdist(
        left, right, scorer=JaroWinkler.normalized_similarity, dtype=np.float32, workers=workers
    )
    return scores


def _contains(shorter_or_longer: Iterable[tuple[str, str]]) -> BoolArray:
    """Whether one name contains the other (a short name 华为 in 华为技术)."""
    return np.fromiter(
        (len(a) >= 2 and len(b) >= 2 and (a in b or b in a) for a, b in shorter_or_longer),
        dtype=np.bool_,
    )


PARALLEL_SIMILARITY_FROM = 20_000


NAME_LEVELS = (
    "missing",
    "different",
    "trade_equal_other_industry",
    "similar",
    "close",
    "romanised_equal",
    "homophone",
    "trade_equal",
    "exact",
    "exact_same_place",
)


def _name(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, FloatArray]:
    level = np.ones(len(left), dtype=np.int8)
    tf = np.zeros(len(left), dtype=np.float32)
    exact = (cols.core_code[left] == cols.core_code[right]) & (cols.core_code[left] >= 0)
    shared_trade_code = (cols.trade_code[left] == cols.trade_code[right]) & (
        cols.trade_code[left] >= 0
    )
    trade = shared_trade_code.copy()
    same_pinyin = (cols.pinyin_code[left] == cols.pinyin_code[right]) & (
        cols.pinyin_code[left] >= 0
    )
    # Equal pinyin of two Hanzi names is a homophone (张伟/章伟); across
    # scripts it is the romanised form of the same name (王伟/Wei Wang).
    either_latin = cols.latin[left] | cols.latin[right]
    homophone = same_pinyin & ~either_latin
    roman, _ = cols.roman.shared(left, right)
    roman |= same_pinyin & either_latin
    fuzzy = np.flatnonzero(~(exact | trade | homophone | roman))
    if len(fuzzy):
        fl, fr = left[fuzzy], right[fuzzy]
        # Hanzi against Hanzi is scored on the characters; as soon as one side
        # is Latin only the romanisations are comparable.
        latin_pair = either_latin[fuzzy]
        core_sim = _similarity(cols.core[fl], cols.core[fr])
        latin_sim = _similarity(cols.pinyin[fl], cols.pinyin[fr])
        # Digits and Latin letters in a Hanzi name are designations (测试K1贸易
        # and 测试K2贸易, 第一 and 第二 plants): one of them differing is no typo.
        marked = ~latin_pair & (cols.marks[fl] != cols.marks[fr])
        close = np.where(latin_pair, latin_sim >= LATIN_CLOSE, core_sim >= NAME_CLOSE) & ~marked
        similar = np.where(latin_pair, latin_sim >= LATIN_SIMILAR, core_sim >= NAME_SIMILAR)
        similar &= ~marked
        level[fuzzy[similar]] = 3
        level[fuzzy[close]] = 4
        orgs = fuzzy[(cols.party[fl] == 0) & ~close]
        if len(orgs):
            contained = _contains(zip(cols.core[left[orgs]], cols.core[right[orgs]], strict=True))
            trade[orgs[contained]] = True
            rest = orgs[~contained]
            homophone[rest[_trade_sounds_alike(cols, left[rest], right[rest])]] = True
    homophone &= _one_character_apart(cols, left, right, homophone)
    level[roman] = 5
    level[homophone] = 6
    tf[homophone] = cols.pinyin_tf[left[homophone]]
    # Same trade name, each with its own different industry term (顺圣实业 /
    # 顺圣电器): the sibling-company pattern, far weaker than a short name.
    both_industries = cols.has_industry[left] & cols.has_industry[right]
    other_industry = trade & shared_trade_code & both_industries & ~exact
    # 机械 within 机械制造 is one industry written short, not another one.
    narrowed = np.flatnonzero(other_industry)
    if len(narrowed):
        contained = _contains(
            zip(cols.core[left[narrowed]], cols.core[right[narrowed]], strict=True)
        )
        other_industry[narrowed[contained]] = False
    level[trade] = 7
    level[other_industry] = 2
    # A contained short name is as common as the shorter of the two cores.
    trade_tf = np.maximum(cols.core_tf[left], cols.core_tf[right])
    trade_tf = np.where(shared_trade_code, cols.trade_tf[left], trade_tf)
    tf[trade] = trade_tf[trade]
    level[exact] = 8
    tf[exact] = _exact_name_share(cols, left[exact])
    _same_place(cols, left, right, exact, level=level, tf=tf)
    missing = (cols.core_code[left] < 0) | (cols.core_code[right] < 0)
    # Two Latin-script person names are compared part by part instead
    # (given_name, surname): the whole name would count the same evidence twice.
    missing |= _latin_persons(cols, left, right)
    level[missing] = 0
    tf[missing] = 0.0
    return level, tf


# A person name whose sound this many times as many records hold as its
# spelling is a homophone typo of a common name: 彰勇 (2 holders) sounds like
# 张勇 (91 of its sound at 100k records), where a real name shares its sound
# with a few others (吴莉: 2 against 13).
TYPO_SOUND_RATIO = 20


def _misspelt_sound(cols: Columns, records: IntArray) -> BoolArray:
    """Which of ``records`` bear a Hanzi person name that is a rare spelling of a common sound."""
    typo: BoolArray = (
        (cols.party[records] == 1)
        & ~cols.latin[records]
        & (cols.pinyin_holders[records] >= TYPO_SOUND_RATIO * cols.core_holders[records])
    )
    return typo


def _exact_name_share(cols: Columns, records: IntArray) -> FloatArray:
    """The share of records holding the name of ``records``, for an exact agreement.

    A homophone typo (彰勇 for 张勇, typed in by a call centre) is as common
    as its sound, not as rare as its spelling.
    """
    share = cols.core_tf[records]
    sound = np.maximum(share, cols.pinyin_tf[records])
    out: FloatArray = np.where(_misspelt_sound(cols, records), sound, share)
    return out


def _trade_sounds_alike(cols: Columns, left: IntArray, right: IntArray) -> BoolArray:
    """A short name that sounds like the other's trade name: a homophone of the trade name.

    太晟 / 泰晟纺织, 泰晟 / Taicheng Textile. Two industry terms would make
    them two companies of one brand.
    """
    a, b = cols.trade_pinyin_code[left], cols.trade_pinyin_code[right]
    sounds: BoolArray = (a == b) & (a >= 0)
    sounds &= ~(cols.has_industry[left] & cols.has_industry[right])
    return sounds


def _one_character_apart(
    cols: Columns, left: IntArray, right: IntArray, homophone: BoolArray
) -> BoolArray:
    """Whether homophone names differ in one character (a typo) rather than several.

    Typing by pinyin picks one wrong character (张伟 / 章伟, 泰晟 / 太晟);
    names that differ in every character (张伟 / 章玮) are two names that
    happen to sound alike. Trade names are compared when the cores differ
    in length (a short name against a full one).
    """
    out = np.ones(len(left), dtype=np.bool_)
    rows = np.flatnonzero(homophone & ~cols.latin[left] & ~cols.latin[right])
    if len(rows) == 0:
        return out
    a, b = left[rows], right[rows]
    core_a, core_b = cols.core[a], cols.core[b]
    lengths = np.fromiter(
        (len(x) == len(y) for x, y in zip(core_a, core_b, strict=True)), np.bool_, len(rows)
    )
    text_a = np.where(lengths, core_a, cols.trade[a])
    text_b = np.where(lengths, core_b, cols.trade[b])
    distance = cpdist(text_a, text_b, scorer=Hamming.distance, dtype=np.int32)
    out[rows] = distance <= 1
    return out


def _same_place(
    cols: Columns,
    left: IntArray,
    right: IntArray,
    exact: BoolArray,
    *,
    level: LevelArray,
    tf: FloatArray,
) -> None:
    """Exact names of organizations in the same place become ``exact_same_place``.

    A company name is registered once per region and industry: the same
    trade name and industry term in the same place is the same company,
    however common the name is elsewhere (no term-frequency adjustment).
    A bare trade name (永沃 against 永沃集团) may be any company of a group.
    """
    described = (cols.has_industry[left] & cols.has_industry[right]) | (
        (cols.legal_form[left] >= 0) & (cols.legal_form[right] >= 0)
    )
    placed = np.flatnonzero(exact & described & (cols.party[left] == 0))
    if len(placed) == 0:
        return
    region, _ = _name_region(cols, left[placed], right[placed])
    # Neither name says where it is registered: the records' cities do (a
    # department drops the 天津 of 天津航邦实业有限公司, not the company's city).
    a, b = left[placed], right[placed]
    unnamed = (cols.name_region[a] < 0) & (cols.name_region[b] < 0)
    same_city = (cols.city[a] >= 0) & (cols.city[a] == cols.city[b])
    same = placed[(region == 2) | (unnamed & same_city)]
    level[same] = NAME_LEVELS.index("exact_same_place")
    tf[same] = 0.0


def _latin_persons(cols: Columns, left: IntArray, right: IntArray) -> BoolArray:
    both: BoolArray = (cols.party[left] == 1) & (cols.party[right] == 1)
    return both & cols.latin[left] & cols.latin[right]


NAME_PART_LEVELS = ("missing", "different", "similar", "close", "exact")
NAME_PART_CLOSE = 0.92
NAME_PART_SIMILAR = 0.80


def _part_similarity(a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> FloatArray:
    """Jaro-Winkler of two name parts; -1 where either is missing."""
    out = np.full(len(a), -1.0, dtype=np.float32)
    usable = np.flatnonzero((a != "") & (b != ""))
    if len(usable):
        out[usable] = _similarity(a[usable], b[usable])
    return out


def _part_level(similarity: FloatArray) -> LevelArray:
    level = np.zeros(len(similarity), dtype=np.int8)
    level[similarity >= 0] = 1
    level[similarity >= NAME_PART_SIMILAR] = 2
    level[similarity >= NAME_PART_CLOSE] = 3
    level[similarity >= 1.0] = 4
    return level


@dataclass(frozen=True, slots=True)
class _NameParts:
    given: LevelArray
    surname: LevelArray
    given_tf: FloatArray
    surname_tf: FloatArray


def _name_parts(cols: Columns, left: IntArray, right: IntArray) -> _NameParts:
    """Given names and surnames of Latin-script persons, in written or swapped order.

    Departments swap the two fields or leave one empty; each pair is read in
    the alignment (written or swapped) under which its parts agree best.
    """
    n = len(left)
    given = np.zeros(n, dtype=np.int8)
    surname = np.zeros(n, dtype=np.int8)
    given_tf = np.zeros(n, dtype=np.float32)
    surname_tf = np.zeros(n, dtype=np.float32)
    rows = np.flatnonzero(_latin_persons(cols, left, right))
    if len(rows) == 0:
        return _NameParts(given, surname, given_tf, surname_tf)
    a, b = left[rows], right[rows]
    g_a, s_a, g_b, s_b = cols.given[a], cols.surname[a], cols.given[b], cols.surname[b]
    direct_g, direct_s = _part_similarity(g_a, g_b), _part_similarity(s_a, s_b)
    cross_g, cross_s = _part_similarity(g_a, s_b), _part_similarity(s_a, g_b)
    direct = np.maximum(direct_g, 0) + np.maximum(direct_s, 0)
    cross = np.maximum(cross_g, 0) + np.maximum(cross_s, 0)
    swapped = cross > direct
    # In the swapped reading left's surname meets right's given name.
    g_sim = np.where(swapped, cross_s, direct_g)
    s_sim = np.where(swapped, cross_g, direct_s)
    given[rows] = _part_level(g_sim)
    surname[rows] = _part_level(s_sim)
    given_tf[rows] = np.where(
        given[rows] == 4, np.where(swapped, cols.given_tf[b], cols.given_tf[a]), 0.0
    )
    surname_tf[rows] = np.where(
        surname[rows] == 4, np.where(swapped, cols.surname_tf[b], cols.surname_tf[a]), 0.0
    )
    return _NameParts(given, surname, given_tf, surname_tf)


def _given_name(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, FloatArray]:
    parts = _name_parts(cols, left, right)
    return parts.given, parts.given_tf


def _surname(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, FloatArray]:
    parts = _name_parts(cols, left, right)
    return parts.surname, parts.surname_tf


def _name_region(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    """The region in the names, or one name's region against the other record's city.

    A short name (恒通机械) carries no region, but its record's city says where
    the company is: 宁波 meets 宁波恒通机械制造有限公司 and parts from
    长沙恒通机械有限公司, a brand sibling. A region that is a province meets
    the other record's province. Branches are left out: a branch's name keeps
    its parent's region while its address is the branch's own.
    """
    a, b = cols.name_region[left], cols.name_region[right]
    level = _exact3(a, b)
    branch = (cols.branch >= 0) & (cols.branch != cols.head_office)
    one = ((a >= 0) != (b >= 0)) & ~branch[left] & ~branch[right]
    rows = np.flatnonzero(one)
    if len(rows) == 0:
        return level, None
    named = np.where(a[rows] >= 0, left[rows], right[rows])
    other = np.where(a[rows] >= 0, right[rows], left[rows])
    r_city, r_prov = cols.region_city[named], cols.region_province[named]
    o_city, o_prov = cols.city[other], cols.province[other]
    by_city = r_city >= 0
    same = np.where(by_city, r_city == o_city, (r_prov >= 0) & (r_prov == o_prov))
    known = np.where(by_city, o_city >= 0, (r_prov >= 0) & (o_prov >= 0))
    level[rows[known]] = 1
    level[rows[known & same]] = 2
    return level, None


LEGAL_FORM_LEVELS = ("missing", "different", "same", "group_mismatch")


def _legal_form(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    level = _exact3(cols.legal_form[left], cols.legal_form[right])
    # A group holding (X集团有限公司) and a company under it (X科技有限公司)
    # are two legal entities; a department does not add or drop 集团.
    level[(level == 1) & (cols.group[left] != cols.group[right])] = 3
    # 有限公司 and "Co., Ltd." say the same thing in two scripts: not comparable;
    # a group ("Group Co., Ltd.") against a company that is none still is.
    across = cols.latin[left] != cols.latin[right]
    level[across] = 0
    level[across & (cols.group[left] != cols.group[right])] = 3
    return level, None


def _branch(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    a, b = cols.branch[left], cols.branch[right]
    level = np.zeros(len(left), dtype=np.int8)
    same_branch = (a == b) & (a >= 0) & (a != cols.head_office)
    level[same_branch] = 1
    level[_both(a, b) & (a != b)] = 2
    return level, None


def _uscc(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    return _exact3(cols.uscc[left], cols.uscc[right]), None


def _national_id(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    return _exact3(cols.national_id[left], cols.national_id[right]), None


IDENTIFIER_LEVELS = ("missing", "different", "one_edit", "shared")


def _identifiers(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    same, _ = cols.identifiers.shared(left, right)
    same_type, _ = cols.identifier_types.shared(left, right)
    level = np.where(same, 3, np.where(same_type, 1, 0)).astype(np.int8)
    # One mistyped or two swapped characters of the same scheme's number.
    typed = np.flatnonzero(
        (level == 1) & (cols.identifier_type[left] == cols.identifier_type[right])
    )
    if len(typed):
        distance = cpdist(
            cols.identifier_text[left[typed]],
            cols.identifier_text[right[typed]],
            scorer=OSA.distance,
            dtype=np.int32,
        )
        level[typed[distance == 1]] = 2
    return level, None


def _phone_count(cols: Columns, rows: IntArray) -> IntArray:
    sizes: IntArray = (
        cols.mobiles.sizes(rows) + cols.landlines.sizes(rows) + cols.switchboards.sizes(rows)
    )
    return sizes


def _one_slip_apart(cols: Columns, left: IntArray, right: IntArray) -> BoolArray:
    """Whether any own numbers of the two differ by one typed digit or a swapped pair."""
    out = np.zeros(len(left), dtype=np.bool_)
    if len(left) == 0:
        return out
    for a in cols.phone_text:
        for b in cols.phone_text:
            x, y = a[left], b[right]
            usable = np.flatnonzero((x != "") & (y != ""))
            if len(usable) == 0:
                continue
            distance = cpdist(x[usable], y[usable], scorer=OSA.distance, dtype=np.int32)
            out[usable[distance == 1]] = True
    return out


PHONE_LEVELS = (
    "missing",
    "different",
    "other_kinds",
    "one_digit_apart",
    "shared_switchboard",
    "shared_landline",
    "shared_mobile",
)
_PHONE = {label: code for code, label in enumerate(PHONE_LEVELS)}


def _phones(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, FloatArray]:
    """Shared numbers by kind; numbers that differ only where both have the same kind.

    A mobile on one record and a landline on the other were never the same
    kind of number (sales keeps the contact's mobile, finance the office
    line): that pair says nothing, unlike two different mobiles.
    """
    mobile, mobile_tf = cols.mobiles.shared(left, right)
    landline, landline_tf = cols.landlines.shared(left, right)
    switchboard, _ = cols.switchboards.shared(left, right)
    has_left = _phone_count(cols, left) > 0
    has_right = _phone_count(cols, right) > 0
    both_mobile = (cols.mobiles.sizes(left) > 0) & (cols.mobiles.sizes(right) > 0)
    fixed_left = cols.landlines.sizes(left) + cols.switchboards.sizes(left) > 0
    fixed_right = cols.landlines.sizes(right) + cols.switchboards.sizes(right) > 0
    level = np.where(has_left & has_right, _PHONE["other_kinds"], 0).astype(np.int8)
    level[both_mobile | (fixed_left & fixed_right)] = _PHONE["different"]
    level[switchboard] = _PHONE["shared_switchboard"]
    typo = np.flatnonzero((level == _PHONE["different"]) | (level == _PHONE["other_kinds"]))
    level[typo[_one_slip_apart(cols, left[typo], right[typo])]] = _PHONE["one_digit_apart"]
    level[landline] = _PHONE["shared_landline"]
    level[mobile] = _PHONE["shared_mobile"]
    tf = np.where(mobile, mobile_tf, np.where(landline, landline_tf, 0.0)).astype(np.float32)
    return level, tf


EMAIL_LEVELS = ("missing", "different", "same_domain", "shared")


def _emails(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, FloatArray]:
    """A shared mailbox; else mailboxes of one company domain (sales@x.com, info@x.com)."""
    same, tf = cols.emails.shared(left, right)
    both = (cols.emails.sizes(left) > 0) & (cols.emails.sizes(right) > 0)
    domain, _ = cols.domains.shared(left, right)
    level = np.where(both, 1, 0).astype(np.int8)
    level[domain] = 2
    level[same] = 3
    return level, tf


CONTACT_LEVELS = ("missing", "different", "homophone", "mailbox", "same")


def _contact(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, FloatArray]:
    """The person an organization's departments talk to, typed by ear in a call centre.

    A contact named on one record whose name is a mailbox of the other
    (孙静 and sunjing@…) is the same person seen from two departments.
    """
    a, b = cols.contact_code[left], cols.contact_code[right]
    same = (a == b) & (a >= 0)
    level = _exact3(a, b)  # 0 missing, 1 different (2, same, is set last)
    sounds = cols.contact_pinyin_code[left] == cols.contact_pinyin_code[right]
    level[(level == 1) & sounds] = 2
    mailbox = _holds(cols.mailbox_names, right, cols.contact_pinyin_code[left]) | _holds(
        cols.mailbox_names, left, cols.contact_pinyin_code[right]
    )
    level[mailbox & (level != 2)] = 3
    level[same] = 4
    tf = np.where(same, cols.contact_tf[left], 0.0).astype(np.float32)
    return level, tf


def _holds(column: SetColumn, rows: IntArray, codes: IntArray) -> BoolArray:
    """Whether record ``rows[k]``'s set holds ``codes[k]`` (-1 is never held)."""
    out = np.zeros(len(rows), dtype=np.bool_)
    known = np.flatnonzero(codes >= 0)
    if len(known) == 0 or len(column.probe) == 0:
        return out
    key = (rows[known] << 32) | codes[known]
    pos = np.minimum(np.searchsorted(column.probe, key), len(column.probe) - 1)
    out[known] = column.probe[pos] == key
    return out


ADDRESS_LEVELS = (
    "missing",
    "different_city",
    "same_city",
    "same_district",
    "similar_detail",
    "same_detail",
    "different_street",
)


def _address(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, FloatArray]:
    city_l, city_r = cols.city[left], cols.city[right]
    both_city = _both(city_l, city_r)
    other_city = both_city & (city_l != city_r)
    level = np.zeros(len(left), dtype=np.int8)
    level[both_city & ~other_city] = 2
    district = (cols.district[left] == cols.district[right]) & (cols.district[left] >= 0)
    level[district] = 3
    detail_l, detail_r = cols.detail[left], cols.detail[right]
    exact = (cols.address_code[left] == cols.address_code[right]) & (cols.address_code[left] >= 0)
    has_detail = np.fromiter(
        (bool(a) and bool(b) for a, b in zip(detail_l, detail_r, strict=True)),
        dtype=np.bool_,
        count=len(left),
    )
    fuzzy = np.flatnonzero(has_detail & ~other_city & ~exact)
    if len(fuzzy):
        similar = _similarity(detail_l[fuzzy], detail_r[fuzzy]) >= DETAIL_SIMILAR
        level[fuzzy[similar]] = 4
    # The same flat of the same compound, written with and without its street.
    premises = (cols.premises_code[left] == cols.premises_code[right]) & (
        cols.premises_code[left] >= 0
    )
    level[premises & ~other_city] = 5
    level[exact] = 5
    level[other_city] = 1
    _foreign_streets(cols, left, right, level, exact)
    tf = np.where(exact, cols.address_tf[left], 0.0).astype(np.float32)
    return level, tf


def _foreign_streets(
    cols: Columns, left: IntArray, right: IntArray, level: LevelArray, exact: BoolArray
) -> None:
    """Latin-script street lines (the number is a comparison of its own)."""
    a, b = cols.street[left], cols.street[right]
    rows = np.flatnonzero((a != "") & (b != "") & ~exact)
    if len(rows) == 0:
        return
    similarity = _similarity(a[rows], b[rows])
    level[rows] = 6
    level[rows[similarity >= DETAIL_SIMILAR]] = 4
    level[rows[similarity >= 1.0]] = 5


def _street_number(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    return _exact3(cols.street_number[left], cols.street_number[right]), None


PLACE_LEVELS = ("missing", "different", "similar", "same")


def _locality(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    """A foreign town or suburb, compared as text (Chinese cities are in ``address``)."""
    level = _exact3(cols.locality_code[left], cols.locality_code[right])
    level[level == 2] = 3
    rows = np.flatnonzero(level == 1)
    if len(rows):
        similarity = _similarity(cols.locality[left[rows]], cols.locality[right[rows]])
        level[rows[similarity >= DETAIL_SIMILAR]] = 2
    return level, None


POSTCODE_LEVELS = ("missing", "different", "one_digit_apart", "same")


def _postcode(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    """A foreign postal code (a valid Chinese one adds nothing to the city)."""
    level = _exact3(cols.postcode_code[left], cols.postcode_code[right])
    level[level == 2] = 3
    rows = np.flatnonzero(level == 1)
    if len(rows):
        distance = cpdist(
            cols.postcode[left[rows]],
            cols.postcode[right[rows]],
            scorer=OSA.distance,
            dtype=np.int32,
        )
        level[rows[distance == 1]] = 2
    return level, None


def _state(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    return _exact3(cols.state[left], cols.state[right]), None


BIRTH_LEVELS = ("missing", "different", "partial", "same")


def _birth_date(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    a, b = cols.birth[left], cols.birth[right]
    level = np.where(a == b, 3, 1).astype(np.int8)
    # Within a month either way catches a mistyped day; a slip of one digit,
    # two swapped digits or day and month swapped catch the other typing errors.
    level[(a != b) & (np.abs(a - b) <= 31)] = 2
    # Only two known, different dates can be a slip (most pairs have none).
    differ = np.flatnonzero((a != b) & (a >= 0) & (b >= 0))
    slipped = _date_slip(cols.birth_ymd[left[differ]], cols.birth_ymd[right[differ]])
    level[differ[slipped]] = 2
    level[(a < 0) | (b < 0)] = 0
    return level, None


def _date_slip(a: IntArray, b: IntArray) -> BoolArray:
    """Whether two ``yyyymmdd`` numbers differ by one digit, a swap of two, or day ↔ month."""
    if len(a) == 0:  # most pairs have no two dates to compare
        return np.zeros(0, dtype=np.bool_)
    digits_a = np.stack([(a // 10**k) % 10 for k in range(8)], axis=1)
    digits_b = np.stack([(b // 10**k) % 10 for k in range(8)], axis=1)
    differ = digits_a != digits_b
    count = differ.sum(axis=1)
    adjacent = differ[:, :-1] & differ[:, 1:]
    crossed = (digits_a[:, :-1] == digits_b[:, 1:]) & (digits_a[:, 1:] == digits_b[:, :-1])
    swap = (count == 2) & (adjacent & crossed).any(axis=1)
    day_month = (
        (a // 10_000 == b // 10_000) & (a % 100 == (b // 100) % 100) & ((a // 100) % 100 == b % 100)
    )
    result: BoolArray = (count == 1) | swap | day_month
    return result


def _gender(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    return _exact3(cols.gender[left], cols.gender[right]), None


def _industry(cols: Columns, left: IntArray, right: IntArray) -> tuple[LevelArray, None]:
    """Two industry fields, or one record's field against the other's industry words.

    Only where a name lacks industry words: two names that both carry them
    are compared by the name comparison already (``exact``,
    ``trade_equal_other_industry``), and counting the same industry again
    would take it for independent evidence. A field files a short name
    (沃佳, 汽车) under the industry its full name spells out (沃佳汽车配件).
    """
    a, b = cols.industry[left], cols.industry[right]
    level = _exact3(a, b)
    one = np.flatnonzero((a >= 0) != (b >= 0))
    if len(one):
        field = np.where(a[one] >= 0, a[one], b[one])
        other = np.where(a[one] >= 0, right[one], left[one])
        named = cols.name_sectors.sizes(other) > 0
        held = _holds(cols.name_sectors, other, field)
        level[one[named]] = 1
        level[one[named & held]] = 2
    level[cols.has_industry[left] & cols.has_industry[right]] = 0
    return level, None


EXACT3 = ("missing", "different", "same")

COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", NAME_LEVELS, _name, term_frequency=True),
    Comparison("name_region", EXACT3, _name_region),
    Comparison("legal_form", LEGAL_FORM_LEVELS, _legal_form),
    Comparison("branch", ("not_branches", "same_branch", "branch_mismatch"), _branch),
    Comparison("uscc", EXACT3, _uscc),
    Comparison("national_id", EXACT3, _national_id),
    Comparison("identifiers", IDENTIFIER_LEVELS, _identifiers),
    Comparison("phones", PHONE_LEVELS, _phones, term_frequency=True),
    Comparison("emails", EMAIL_LEVELS, _emails, term_frequency=True),
    Comparison("contact", CONTACT_LEVELS, _contact, term_frequency=True),
    Comparison("address", ADDRESS_LEVELS, _address, term_frequency=True),
    Comparison("birth_date", BIRTH_LEVELS, _birth_date),
    Comparison("gender", EXACT3, _gender),
    Comparison("given_name", NAME_PART_LEVELS, _given_name, term_frequency=True),
    Comparison("surname", NAME_PART_LEVELS, _surname, term_frequency=True),
    Comparison("street_number", EXACT3, _street_number),
    Comparison("locality", PLACE_LEVELS, _locality),
    Comparison("postcode", POSTCODE_LEVELS, _postcode),
    Comparison("state", EXACT3, _state),
    Comparison("industry", EXACT3, _industry),
)


def comparison_names() -> tuple[str, ...]:
    """Names of the comparisons, in level-matrix column order."""
    return tuple(c.name for c in COMPARISONS)


@dataclass(frozen=True, slots=True, eq=False)
class ComparisonVectors:
    """Levels of every comparison for aligned pairs ``left[k]``, ``right[k]``.

    ``levels[k, c]`` is the level of comparison ``c``; ``tf[name][k]`` is the
    share of records holding the agreed value (0.0 when not applicable);
    ``constraints[k]`` is a :class:`Constraint` bit set; ``name_holders[k]``
    how many records hold the name both records share (of names that sound
    alike, its sound; of a short name against a full one, the trade name or
    its sound), 0 when they share none.
    """

    left: IntArray
    right: IntArray
    party: npt.NDArray[np.int8]
    levels: npt.NDArray[np.int8]
    tf: Mapping[str, FloatArray]
    constraints: npt.NDArray[np.uint8]
    name_holders: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.left)

    def take(self, rows: IntArray) -> ComparisonVectors:
        """The subset of pairs at ``rows``."""
        return ComparisonVectors(
            left=self.left[rows],
            right=self.right[rows],
            party=self.party[rows],
            levels=self.levels[rows],
            tf={k: v[rows] for k, v in self.tf.items()},
            constraints=self.constraints[rows],
            name_holders=self.name_holders[rows],
        )


def _constraints(cols: Columns, left: IntArray, right: IntArray) -> npt.NDArray[np.uint8]:
    out = np.zeros(len(left), dtype=np.uint8)
    uscc_l, uscc_r = cols.uscc[left], cols.uscc[right]
    out[_both(uscc_l, uscc_r) & (uscc_l != uscc_r)] |= np.uint8(Constraint.DIFFERENT_USCC.value)
    nid_l, nid_r = cols.national_id[left], cols.national_id[right]
    out[_both(nid_l, nid_r) & (nid_l != nid_r)] |= np.uint8(Constraint.DIFFERENT_NATIONAL_ID.value)
    branch_l, branch_r = cols.branch[left], cols.branch[right]
    out[_both(branch_l, branch_r) & (branch_l != branch_r)] |= np.uint8(
        Constraint.BRANCH_MISMATCH.value
    )
    out[cols.party[left] != cols.party[right]] |= np.uint8(Constraint.PARTY_MISMATCH.value)
    return out


def compare_pairs(
    cols: Columns, left: IntArray, right: IntArray, chunk_size: int = _CHUNK
) -> ComparisonVectors:
    """Compute every comparison's level for the aligned pairs (``left[k]``, ``right[k]``)."""
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    if left.shape != right.shape:
        raise ValueError("left and right must have the same length")
    levels = np.zeros((len(left), len(COMPARISONS)), dtype=np.int8)
    tf = {c.name: np.zeros(len(left), dtype=np.float32) for c in COMPARISONS if c.term_frequency}
    # Chunks bound the temporaries (string gathers, set probes) at a million pairs.
    for start in range(0, len(left), chunk_size):
        stop = min(start + chunk_size, len(left))
        a, b = left[start:stop], right[start:stop]
        for c, comparison in enumerate(COMPARISONS):
            level, freq = comparison.compute(cols, a, b)
            levels[start:stop, c] = level
            if freq is not None:
                tf[comparison.name][start:stop] = freq
    return ComparisonVectors(
        left=left,
        right=right,
        party=cols.party[left],
        levels=levels,
        tf=tf,
        constraints=_constraints(cols, left, right),
        name_holders=_name_holders(cols, left, right, levels[:, comparison_names().index("name")]),
    )


def _name_holders(
    cols: Columns, left: IntArray, right: IntArray, name: LevelArray
) -> npt.NDArray[np.int32]:
    """Holders of what a pair's names share: the name, the trade name, or their sound.

    A short name against a full one (泰晟 / 泰晟纺织, or 太晟 / 泰晟纺织 by
    sound) shares the trade name only: the holders of the trade name (of its
    sound), not those of either full name, say how common it is.
    """
    holders = np.zeros(len(left), dtype=np.int32)
    exact = (name == NAME_LEVELS.index("exact")) | (name == NAME_LEVELS.index("exact_same_place"))
    # A homophone typo is held by as many as its sound (see ``_exact_name_share``).
    named = left[exact]
    holders[exact] = np.where(
        _misspelt_sound(cols, named),
        np.maximum(cols.core_holders[named], cols.pinyin_holders[named]),
        cols.core_holders[named],
    )
    homophone = name == NAME_LEVELS.index("homophone")
    whole = homophone & (cols.pinyin_code[left] == cols.pinyin_code[right])
    holders[whole] = cols.pinyin_holders[left[whole]]
    trade_sound = homophone & ~whole
    holders[trade_sound] = cols.trade_pinyin_holders[left[trade_sound]]
    # A romanisation (王伟 / Wei Wang, 嘉顺贸易 / Jiashun Trading, or two
    # spellings of one sound) is as common as its sound: a person's name
    # sound, an organization's trade name sound, the more common side's.
    roman = np.flatnonzero(name == NAME_LEVELS.index("romanised_equal"))
    if len(roman):
        a, b = left[roman], right[roman]
        sound = np.where(
            cols.party[a] == PARTIES.index(PartyType.PERSON),
            np.maximum(cols.pinyin_holders[a], cols.pinyin_holders[b]),
            np.maximum(cols.trade_pinyin_holders[a], cols.trade_pinyin_holders[b]),
        )
        holders[roman] = sound
    trade = np.flatnonzero(name == NAME_LEVELS.index("trade_equal"))
    if len(trade):
        a, b = left[trade], right[trade]
        # Without one trade name, one name contains the other: the shorter is the trade name.
        shorter = np.fromiter(
            (len(x) <= len(y) for x, y in zip(cols.core[a], cols.core[b], strict=True)),
            np.bool_,
            len(trade),
        )
        one_trade = cols.trade_code[a] == cols.trade_code[b]
        holders[trade] = cols.trade_holders[np.where(one_trade | shorter, a, b)]
    return holders


# --- exact agreement shares ---------------------------------------------------

AgreementShares = dict[int, dict[str, dict[int, float]]]


def _pairs_sharing(codes: IntArray) -> float:
    """Number of record pairs holding the same value, from value counts."""
    present = codes[codes >= 0]
    if len(present) == 0:
        return 0.0
    counts = np.bincount(present)
    counts = counts[counts > 1].astype(np.float64)
    return float((counts * (counts - 1) / 2).sum())


def _set_items(column: SetColumn, rows: BoolArray) -> IntArray:
    owner = np.repeat(np.arange(len(column.offsets) - 1), np.diff(column.offsets))
    items: IntArray = column.codes[rows[owner]]
    return items


def agreement_shares(cols: Columns) -> AgreementShares:
    """Share of *all* same-party record pairs at each equality level, from value counts.

    Random pairs sample levels as rare as a shared USCC a handful of times at
    best; counting how many records hold each value gives their share exactly
    (pairs sharing two values of a set count twice, which is negligible).
    """
    out: AgreementShares = {}
    for code in range(len(PARTIES)):
        rows = cols.party == code
        n = int(rows.sum())
        if n < 2:
            continue
        total = n * (n - 1) / 2
        ind = rows & cols.has_industry
        described = cols.has_industry | (cols.legal_form >= 0)
        shares: dict[str, dict[int, float]] = {
            "name": {
                8: max(
                    _pairs_sharing(cols.core_code[rows])
                    - _pairs_sharing(np.where(described, cols.core_place, -1)[rows]),
                    0.0,
                ),
                9: _pairs_sharing(np.where(described, cols.core_place, -1)[rows]),
                2: max(
                    _pairs_sharing(cols.trade_code[ind]) - _pairs_sharing(cols.core_code[ind]),
                    0.0,
                ),
            },
            "uscc": {2: _pairs_sharing(cols.uscc[rows])},
            "national_id": {2: _pairs_sharing(cols.national_id[rows])},
            "phones": {
                _PHONE["shared_mobile"]: _pairs_sharing(_set_items(cols.mobiles, rows)),
                _PHONE["shared_landline"]: _pairs_sharing(_set_items(cols.landlines, rows)),
                _PHONE["shared_switchboard"]: _pairs_sharing(_set_items(cols.switchboards, rows)),
            },
            "emails": {EMAIL_LEVELS.index("shared"): _pairs_sharing(_set_items(cols.emails, rows))},
            "contact": {CONTACT_LEVELS.index("same"): _pairs_sharing(cols.contact_code[rows])},
            "address": {5: _pairs_sharing(cols.address_code[rows])},
        }
        # Half a pair for a value nobody shares keeps the weight finite.
        out[code] = {
            name: {level: max(count, 0.5) / total for level, count in levels.items()}
            for name, levels in shares.items()
        }
    return out
