"""Blocking: which record pairs are worth comparing at all.

Every record emits several keys (identifiers, phones, e-mails, Hanzi and pinyin
name keys, address keys, person keys), each namespaced by party type and rule
(``o:uscc:9111…``, ``p:name_birth:wangwei|1980-01-02``). Records sharing a key
are candidate pairs. A rule is a named key function; rules compose by union
(a tuple of rules), and a compound rule joins two attributes into one key.

Frequent keys are capped: a key held by more than ``max_block_size`` records (a
group switchboard, 王伟, 华为) yields no pairs by itself. Its members still meet
when they share a second piece of evidence, because the default rules include
compound keys for exactly those frequent attributes (trade name + region,
trade name + city, trade-name sound + industry term, person name + birth date,
person name + city, person name + district, city + address prefix): a compound
key is as rare as the combination, so it stays under the cap where the single
attribute does not. Pair counts therefore stay linear in
the number of records (at most ``max_block_size - 1`` partners per key).
A record without a city is placed by its landline's area code
(:func:`~matching.compare.landline_city`), so that a capped name still meets
its records in that city; an area code that serves several cities (0731:
长沙, 湘潭, 株洲) places it in each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from hashlib import blake2b

import numpy as np
import numpy.typing as npt

from matching.compare import landline_city
from matching.record import PartyType
from matching.types import PhoneKind, StandardRecord

__all__ = [
    "DEFAULT_RULES",
    "BlockingRule",
    "CandidatePairs",
    "KeyHashes",
    "blocking_key_hashes",
    "blocking_keys",
    "candidate_pairs",
    "key_hash",
]

IntArray = npt.NDArray[np.int64]

ADDRESS_PREFIX = 8
PINYIN_PREFIX = 6
DEFAULT_MAX_BLOCK_SIZE = 40
MIN_SLIP_LENGTH = 6

# Area codes (no trunk 0) that serve several cities, with those cities as
# addresses are standardized to. Read from the geocoder of phonenumbers 9.0.43
# (libphonenumber, which spells 株洲 株州), like ``matching/data/area_codes.tsv``
# that lists the codes of a single city.
SHARED_AREA_CODES: dict[str, tuple[str, ...]] = {
    "24": ("沈阳", "铁岭", "抚顺", "本溪"),
    "28": ("成都", "资阳", "眉山"),
    "29": ("西安", "咸阳"),
    "433": ("延边朝鲜族自治州", "珲春", "延吉"),
    "435": ("通化", "梅河口"),
    "551": ("合肥", "巢湖"),
    "731": ("长沙", "湘潭", "株洲"),
    "754": ("汕头", "潮阳"),
    "757": ("佛山", "顺德"),
    "851": ("贵阳", "遵义", "安顺"),
    "898": ("海口", "三亚"),
}


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """A named source of blocking keys for one record."""

    name: str
    keys: Callable[[StandardRecord], Iterable[str]]

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise ValueError(f"a blocking rule needs a name without ':', got {self.name!r}")


def _uscc(r: StandardRecord) -> Iterable[str]:
    return (r.uscc,) if r.uscc else ()


def _national_id(r: StandardRecord) -> Iterable[str]:
    return (r.national_id,) if r.national_id else ()


def _identifiers(r: StandardRecord) -> Iterable[str]:
    return (f"{t}:{v}" for t, v in r.identifiers)


def _phones(r: StandardRecord) -> Iterable[str]:
    return (p.e164 for p in r.phones)


def _emails(r: StandardRecord) -> Iterable[str]:
    return r.emails


def _name(r: StandardRecord) -> Iterable[str]:
    return (r.name.core,) if r.name.core else ()


def _trade(r: StandardRecord) -> Iterable[str]:
    # Organizations only: for a person the trade is the name itself.
    if r.party_type is PartyType.ORGANIZATION and r.name.trade:
        yield r.name.trade


def _places(r: StandardRecord) -> list[str]:
    # Without a city, the landline's area code stands for it (as in comparison).
    city = r.address.city or landline_city(r)
    places = [p for p in (r.name.region, city) if p]
    if city is None:
        places.extend(_shared_area_cities(r))
    return list(dict.fromkeys(places))


def _shared_area_cities(r: StandardRecord) -> list[str]:
    """Each city that the area code of one of the record's landlines may stand for.

    A department that keeps the landline of a company in 长沙 but not its city
    would otherwise meet the records that state 长沙 only on the name alone,
    which a common short name (顺发) holds too often to block on: three keys
    of which one is right cost less than none.
    """
    cities: list[str] = []
    for phone in r.phones:
        if phone.kind is PhoneKind.MOBILE or not phone.e164.startswith("+86"):
            continue
        national = phone.e164[3:]
        area = national[:2] if national[:1] in ("1", "2") else national[:3]
        cities.extend(SHARED_AREA_CODES.get(area, ()))
    return cities


def _trade_place(r: StandardRecord) -> Iterable[str]:
    trade = r.name.trade if r.party_type is PartyType.ORGANIZATION else r.name.core
    if trade:
        yield from (f"{trade}|{place}" for place in _places(r))


def _romanised(r: StandardRecord) -> list[str]:
    """Pinyin or English forms: trade pinyin, or a person's sorted name tokens."""
    names = [r.name] if r.name_en is None else [r.name, r.name_en]
    out: list[str] = []
    for name in names:
        if r.party_type is PartyType.PERSON:
            key = " ".join(sorted(name.tokens)) if name.tokens else name.pinyin
        else:
            key = name.trade_pinyin
        if key and key not in out:
            out.append(key)
    return out


def _pinyin(r: StandardRecord) -> Iterable[str]:
    return _romanised(r)


def _pinyin_place(r: StandardRecord) -> Iterable[str]:
    places = _places(r)
    return (f"{key}|{place}" for key in _romanised(r) for place in places)


def _name_district(r: StandardRecord) -> Iterable[str]:
    """A person's romanised name with the city and district of the address.

    At a million records a common name in a large city (wang wei, 上海) is
    held by more records than a block may hold: the district narrows it.
    """
    address = r.address
    if r.party_type is not PartyType.PERSON or not (address.city and address.district):
        return
    yield from (f"{key}|{address.city}|{address.district}" for key in _romanised(r))


def _pinyin_prefix(r: StandardRecord) -> Iterable[str]:
    """The first letters of the trade pinyin, alone and with each place.

    A short name (嘉隆信, 太晟) and the full name (嘉隆信纺织, 泰晟纺织) share
    it even when the industry term was not split off, homophones included.
    """
    if r.party_type is not PartyType.ORGANIZATION:
        return
    for key in _romanised(r):
        prefix = key[:PINYIN_PREFIX]
        if len(prefix) == PINYIN_PREFIX:
            yield prefix
            yield from (f"{prefix}|{place}" for place in _places(r))


def _trade_industry(r: StandardRecord) -> Iterable[str]:
    """The trade pinyin with the industry term of the name, in any script.

    At a million records a sound (jiashun) names too many companies to block
    on, and a web form's English name (Jiashun Trading) keeps no city to
    narrow it: the industry term (贸易, trading) does, in either script.
    """
    if r.party_type is not PartyType.ORGANIZATION:
        return
    names = [r.name] if r.name_en is None else [r.name, r.name_en]
    keys = {
        f"{name.trade_pinyin}|{name.industry_term}"
        for name in names
        if name.trade_pinyin and name.industry_term
    }
    yield from sorted(keys)


def _phone_slip(r: StandardRecord) -> Iterable[str]:
    """The name with each phone's digits in sorted order.

    Two adjacent digits typed in the wrong order (1515835… / 1518535…) keep
    the digits, so the records of one person still meet when their name is
    too common to block on and one of them has no city.
    """
    if not r.phones:
        return
    digits = sorted({"".join(sorted(p.e164)) for p in r.phones})
    for key in _romanised(r):
        yield from (f"{key}|{d}" for d in digits)


def _address(r: StandardRecord) -> Iterable[str]:
    detail = r.address.detail
    if detail and r.address.city:
        yield f"{r.address.city}|{detail[:ADDRESS_PREFIX]}"


def _person_birth(r: StandardRecord) -> Iterable[str]:
    if r.party_type is PartyType.PERSON and r.birth_date is not None:
        born = r.birth_date.isoformat()
        yield from (f"{key}|{born}" for key in _romanised(r))


def _identifier_slips(r: StandardRecord) -> Iterable[str]:
    """Each other-scheme number with one character left out (its deletion neighbourhood).

    Two numbers one mistyped character apart share the key that leaves that
    position out; two swapped neighbours share the keys of either position.
    """
    for kind, value in r.identifiers:
        if len(value) >= MIN_SLIP_LENGTH:
            yield from (f"{kind}:{value[:i]}{value[i + 1 :]}" for i in range(len(value)))


def _latin_person(r: StandardRecord) -> Iterable[str]:
    """Keys for Latin-script person names, whose spellings vary more than pinyin does.

    Birth date alone; name initials (in either order) with the postal code or
    the town; each name part with them; the house number with the postal code.
    """
    if r.party_type is not PartyType.PERSON or not r.name.is_latin:
        return
    given, _, surname = r.name.core.rpartition(" ")
    address = r.address
    places = [p for p in (address.postcode, address.locality, address.postal_code) if p]
    if r.birth_date is not None:
        born = r.birth_date.isoformat()
        yield f"born|{born}"
        yield from (f"born_part|{born}|{part[:3]}" for part in (given, surname) if part)
    initials = "".join(sorted(part[:2] for part in (given, surname) if part))
    for place in places:
        yield f"initials|{initials}|{place}"
        yield from (f"part|{part}|{place}" for part in (given, surname) if part)
    if address.detail and address.postcode:
        number = address.detail.partition(" ")[0]
        if number.isdigit():
            yield f"house|{number}|{address.postcode}"
    if given and surname:
        yield f"names|{'|'.join(sorted((given[:4], surname[:4])))}"


DEFAULT_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("uscc", _uscc),
    BlockingRule("national_id", _national_id),
    BlockingRule("identifier", _identifiers),
    BlockingRule("phone", _phones),
    BlockingRule("email", _emails),
    BlockingRule("name", _name),
    BlockingRule("trade", _trade),
    BlockingRule("trade_place", _trade_place),
    BlockingRule("pinyin", _pinyin),
    BlockingRule("pinyin_place", _pinyin_place),
    BlockingRule("name_district", _name_district),
    BlockingRule("pinyin_prefix", _pinyin_prefix),
    BlockingRule("trade_industry", _trade_industry),
    BlockingRule("phone_slip", _phone_slip),
    BlockingRule("address", _address),
    BlockingRule("name_birth", _person_birth),
    BlockingRule("identifier_slip", _identifier_slips),
    BlockingRule("latin_person", _latin_person),
)

_PARTY_PREFIX = {PartyType.ORGANIZATION: "o", PartyType.PERSON: "p"}


def blocking_keys(
    record: StandardRecord, rules: Sequence[BlockingRule] = DEFAULT_RULES
) -> list[str]:
    """The record's blocking keys, namespaced ``party:rule:value``, without repeats."""
    prefix = _PARTY_PREFIX[record.party_type]
    keys: dict[str, None] = {}
    for rule in rules:
        for value in rule.keys(record):
            keys[f"{prefix}:{rule.name}:{value}"] = None
    return list(keys)


@dataclass(frozen=True, slots=True, eq=False)
class CandidatePairs:
    """Candidate pairs as aligned index arrays with ``left < right``, sorted, unique."""

    left: IntArray
    right: IntArray
    keys: int
    capped_keys: int

    def __len__(self) -> int:
        return len(self.left)


def key_hash(key: str) -> int:
    """A blocking key as a signed 64-bit number, the same in every process and run."""
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "little", signed=True)


def blocking_key_hashes(
    record: StandardRecord, rules: Sequence[BlockingRule] = DEFAULT_RULES
) -> tuple[int, ...]:
    """:func:`key_hash` of each of the record's blocking keys.

    Stable across processes, so worker processes that standardize records can
    hash their keys too and spare the matching process that work.
    """
    return tuple(key_hash(key) for key in blocking_keys(record, rules))


@dataclass(frozen=True, slots=True, eq=False)
class KeyHashes:
    """Blocking-key hashes of many records, packed: ``counts[i]`` keys for record ``i``.

    Two arrays instead of a tuple of Python ints per record: a million
    records' keys take 100 MB less, and cross process boundaries as bytes.
    """

    counts: IntArray
    values: IntArray

    @classmethod
    def of(cls, rows: Sequence[Sequence[int]]) -> KeyHashes:
        """Pack per-record hash lists (or tuples)."""
        counts = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter(
            (k for row in rows for k in row), dtype=np.int64, count=int(counts.sum())
        )
        return cls(counts, values)

    @classmethod
    def compute(
        cls, records: Sequence[StandardRecord], rules: Sequence[BlockingRule] = DEFAULT_RULES
    ) -> KeyHashes:
        """The :func:`blocking_key_hashes` of ``records``, packed."""
        return cls.of([blocking_key_hashes(record, rules) for record in records])

    @classmethod
    def concat(cls, parts: Sequence[KeyHashes]) -> KeyHashes:
        """The records of ``parts``, one after the other."""
        if not parts:
            return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return cls(
            np.concatenate([p.counts for p in parts]), np.concatenate([p.values for p in parts])
        )

    def __len__(self) -> int:
        return len(self.counts)

    def take(self, rows: IntArray) -> KeyHashes:
        """The records at positions ``rows`` (a subset or a reordering)."""
        starts = np.cumsum(self.counts) - self.counts
        counts = self.counts[rows]
        offsets = np.repeat(starts[rows], counts) + (
            np.arange(int(counts.sum()), dtype=np.int64)
            - np.repeat(np.cumsum(counts) - counts, counts)
        )
        return KeyHashes(counts, self.values[offsets])

    def owners(self) -> IntArray:
        """The record position of each value."""
        return np.repeat(np.arange(len(self.counts), dtype=np.int64), self.counts)


def candidate_pairs(
    records: Sequence[StandardRecord],
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    hashes: KeyHashes | None = None,
) -> CandidatePairs:
    """Pairs of ``records`` (by position) that share at least one blocking key.

    A key held by more than ``max_block_size`` records yields no pairs.
    ``hashes``, when given, are the records' :func:`blocking_key_hashes` for
    ``rules``, computed beforehand.
    """
    if max_block_size < 2:
        raise ValueError(f"max_block_size must be at least 2, got {max_block_size}")
    if hashes is None:
        hashes = KeyHashes.compute(records, rules)
    elif len(hashes) != len(records):
        raise ValueError(f"{len(hashes)} key hash lists for {len(records)} records")
    owners, keys = hashes.owners(), hashes.values
    # Sorting by key hash groups each key's holders; a 64-bit hash collision
    # only adds a candidate pair, which scoring then rejects.
    order = np.argsort(keys, kind="stable")
    keys, owners = keys[order], owners[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    kept = (sizes >= 2) & (sizes <= max_block_size)
    left, right = _pairs_within_groups(owners, starts[kept], sizes[kept])
    n = max(len(records), 1)
    codes = np.unique(np.minimum(left, right) * n + np.maximum(left, right))
    lo, hi = codes // n, codes % n
    distinct = lo != hi
    return CandidatePairs(
        left=lo[distinct],
        right=hi[distinct],
        keys=len(starts),
        capped_keys=int(np.count_nonzero(sizes > max_block_size)),
    )


def _pairs_within_groups(
    owners: IntArray, starts: IntArray, sizes: IntArray
) -> tuple[IntArray, IntArray]:
    """All pairs inside each group, one vectorised step per distinct group size."""
    lefts: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    rights: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    for size in np.unique(sizes):
        group_starts = starts[sizes == size]
        members = owners[group_starts[:, None] + np.arange(size)]
        i, j = np.triu_indices(int(size), k=1)
        lefts.append(members[:, i].ravel())
        rights.append(members[:, j].ravel())
    return np.concatenate(lefts), np.concatenate(rights)
