"""A deterministic corpus of Chinese department records with ground truth.

True customers (entities) are drawn first, in small units that carry the hard
negatives: brand siblings in other cities, a group's subsidiaries sharing a
switchboard, branch offices of a parent, families sharing an address and a landline,
namesakes in one city. Each entity then appears in one to four departments, each
with its own keys and habits (see ``_BUILDERS``). Records are shuffled so that file
order reveals nothing; the ground truth goes to a separate file.

    python -m bench.corpus --entities 100000 --seed 7 --out bench/data/corpus-100k/
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import opencc
import phonenumbers
from pypinyin import lazy_pinyin
from stdnum.cn import ric, uscc

from bench import corpus_data as data
from bench.corpus_data import City

__all__ = [
    "SOURCES",
    "Corpus",
    "generate_corpus",
    "iter_labelled_records",
    "resident_id_is_valid",
    "write_corpus",
]

SOURCES = ("finance", "sales", "callcenter", "web", "logistics")
GENERATOR_VERSION = 2

# How many departments know an entity: mean ≈ 1.69, plus in-department duplicates.
_DEPT_COUNT_WEIGHTS = (0.52, 0.32, 0.11, 0.05)
_IN_DEPT_DUPLICATE = 0.03
_DEPT_WEIGHTS = {
    "organization": (0.30, 0.25, 0.15, 0.12, 0.18),
    "person": (0.15, 0.25, 0.25, 0.20, 0.15),
}
# Share of emitted identifiers given a wrong check character on purpose.
_INVALID_ID_RATE = 0.004
_PHONE_TRANSPOSE_RATE = 0.02
_NAME_TYPO_RATE = 0.01
_KEY_MODULUS = 9_999_991  # prime: keys are an affine permutation of a counter
_ENTITIES_PER_BUCKET = 5_000


# ---------------------------------------------------------------------------
# Entities


@dataclass(slots=True)
class Address:
    """A street address kept in parts so departments can format it their own way."""

    city: City
    district: str
    district_code: str
    postal_code: str
    road: str
    number: int
    building: str  # organizations: tower letter; persons: building number
    unit: int
    room: int
    compound: str | None = None  # persons live in residential compounds


@dataclass(slots=True)
class Contact:
    """A person an organization's departments talk to."""

    name: str
    mobile: str
    email: str | None


@dataclass(slots=True)
class Org:
    """An organization (one legal entity: a branch is its own)."""

    entity_id: str
    trade: str
    ind_term: str
    industry: tuple[str, str, str]
    form: str
    form_en: str
    region: str  # the place in the legal name ("" for a national group)
    bracketed: bool  # 宏达科技（北京）有限公司 rather than 北京宏达科技有限公司
    city: City
    uscc: str
    landlines: list[str]
    emails: list[str]
    address: Address
    contacts: list[Contact]
    ownership: str
    category: str
    name_en: str = ""
    branch_tail: str = ""  # 上海分公司 / 上海办事处 for a branch
    party_type: str = "organization"


@dataclass(slots=True)
class Person:
    """A natural person."""

    entity_id: str
    surname: str
    given: str
    gender: str  # "M" | "F"
    birth: date
    national_id: str
    city: City
    address: Address
    mobiles: list[str]
    landline: str | None
    emails: list[str]
    party_type: str = "person"

    @property
    def name(self) -> str:
        """The name in Chinese characters."""
        return self.surname + self.given


Entity = Org | Person


@dataclass(slots=True)
class Corpus:
    """An in-memory corpus: contract records and the truth ``(source, key) → entity``."""

    records: list[dict[str, Any]]
    truth: dict[tuple[str, str], str]
    stats: dict[str, int]


# ---------------------------------------------------------------------------
# Helpers


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _valid_landline(area_code: str, local: str) -> bool:
    """Whether the numbering plan has this number: real departments type real lines."""
    return phonenumbers.is_valid_number(phonenumbers.parse(f"{area_code}{local}", "CN"))


@cache
def _pinyin(text: str) -> list[str]:
    return [p.replace("ü", "v") for p in lazy_pinyin(text)]


def _capital_pinyin(text: str) -> str:
    return "".join(_pinyin(text)).capitalize()


_HOMOPHONES: dict[str, tuple[str, ...]] = {}
for _group in data.HOMOPHONE_GROUPS:
    for _ch in _group:
        _HOMOPHONES[_ch] = tuple(
            sorted(set(_HOMOPHONES.get(_ch, ())) | {c for c in _group if c != _ch})
        )

_FULL_WIDTH = {i: i + 0xFEE0 for i in range(0x21, 0x7F)}
_CITY_CUM = tuple(sum(c.weight for c in data.CITIES[: i + 1]) for i in range(len(data.CITIES)))
_SURNAMES = tuple(s for s, _ in data.SURNAMES)
_SURNAME_CUM = tuple(sum(w for _, w in data.SURNAMES[: i + 1]) for i in range(len(_SURNAMES)))
_FORMS = tuple((f, e) for f, e, _ in data.LEGAL_FORMS if f != "集团有限公司")
_FORM_CUM = tuple(
    sum(w for _, _, w in data.LEGAL_FORMS[: i + 1]) for i in range(len(data.LEGAL_FORMS) - 1)
)


def full_width(text: str) -> str:
    """ASCII → full-width forms, as some web forms store them."""
    return text.translate(_FULL_WIDTH)


def resident_id_is_valid(number: str) -> bool:
    """Check digit, birth date and a known region code of an 18-digit resident id.

    ``stdnum.cn.ric.is_valid`` also requires the region code to have existed in the
    birth year, but its table starts in 1983 for most of China: it rejects the real
    id of anyone born earlier outside Beijing, Tianjin and Shanghai. Ids are issued
    with the code of the place of registration at issue time, so that check is
    skipped here.
    """
    from stdnum import numdb

    if len(number) != 18 or not number[:17].isdigit():
        return False
    if number[-1] != ric.calc_check_digit(number):
        return False
    try:
        ric.get_birth_date(number)
    except ValueError:
        return False
    return any("county" in props for _, props in numdb.get("cn/loc").info(number[:6]))


def ric_15(national_id: str) -> str:
    """The old 15-digit form of an 18-digit resident id (no century, no check digit)."""
    return national_id[:6] + national_id[8:17]


def ric_15_to_18(old: str) -> str:
    """The 18-digit form of an old 15-digit id (born in the 1900s)."""
    body = old[:6] + "19" + old[6:]
    return body + ric.calc_check_digit(body + "0")


def _short_city(city: City) -> str:
    return city.name.removesuffix("市")


def _short_province(city: City) -> str:
    return city.province.removesuffix("省").removesuffix("市")


class _Keys:
    """Department keys: an affine permutation of a counter, unique and unordered."""

    def __init__(self, source: str, seed: int) -> None:
        r = random.Random(f"{seed}-keys-{source}")
        self.source = source
        self.a = r.randrange(1, _KEY_MODULUS)
        self.b = r.randrange(_KEY_MODULUS)
        self.count = 0

    def next(self) -> str:
        if self.count >= _KEY_MODULUS:
            raise OverflowError(f"more than {_KEY_MODULUS} keys for {self.source}")
        p = (self.a * self.count + self.b) % _KEY_MODULUS
        self.count += 1
        match self.source:
            case "finance":
                return f"FIN-{p:07d}"
            case "sales":
                return f"S{2018 + p % 8}-{p // 8:06d}"
            case "callcenter":
                return str(10_000_000 + p)
            case "web":
                return f"u{p:06x}"
            case _:
                return f"WL{p:08d}"


# ---------------------------------------------------------------------------
# Drawing entities


class _World:
    """Random draws of entities; remembers what must stay unique."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.next_id = 0
        self.used: set[str] = set()  # identifiers, phones, domains, org name slots

    def claim(self, value: str) -> bool:
        """Reserve a unique value; False when already taken."""
        if value in self.used:
            return False
        self.used.add(value)
        return True

    def entity_id(self) -> str:
        self.next_id += 1
        return f"E{self.next_id:07d}"

    def city(self) -> City:
        return self.r.choices(data.CITIES, cum_weights=_CITY_CUM)[0]

    def address(self, city: City, *, person: bool) -> Address:
        r = self.r
        index = r.randrange(len(city.districts))
        district, code = city.districts[index]
        return Address(
            city=city,
            district=district,
            district_code=code,
            postal_code=f"{city.postal_prefix}{10 * (index + 1):03d}",
            road=r.choice(data.ROADS),
            number=r.randint(1, 999),
            building=str(r.randint(1, 30)) if person else r.choice(data.TOWERS),
            unit=r.randint(1, 6),
            room=r.randint(1, 28) * 100 + r.randint(1, 12),
            compound=r.choice(data.COMPOUNDS) if person else None,
        )

    def mobile(self) -> str:
        while True:
            m = self.r.choice(data.MOBILE_PREFIXES) + f"{self.r.randrange(10**8):08d}"
            if self.claim(m):
                return m

    def landline(self, city: City) -> str:
        while True:
            local = f"{self.r.randint(2, 8)}{self.r.randrange(10**7):07d}"
            if not _valid_landline(city.area_code, local):
                local = local[:7]  # a city of seven-digit numbers (厦门)
            number = f"{city.area_code}-{local}"
            if _valid_landline(city.area_code, local) and self.claim(number):
                return number

    def uscc(self, code: str) -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            org = "".join(self.r.choice(alphabet[:28]) for _ in range(8))
            body = "91" + code + org + _org_code_check(org)
            number = body + uscc.calc_check_digit(body)
            if self.claim(number):
                return number

    def national_id(self, code: str, birth: date, gender: str) -> str:
        while True:
            seq = self.r.randrange(500) * 2 + (1 if gender == "M" else 0)
            body = f"{code}{birth:%Y%m%d}{seq:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if self.claim(number):
                return number

    def birth(self, first: int, last: int) -> date:
        start = date(first, 1, 1)
        return start + timedelta(days=self.r.randrange((date(last, 12, 31) - start).days))

    def surname(self) -> str:
        return self.r.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]

    def given(self, gender: str, generation: str | None = None) -> str:
        r = self.r
        chars = data.GIVEN_MALE if gender == "M" else data.GIVEN_FEMALE
        if generation is not None:
            return generation + r.choice(chars)
        roll = r.random()
        if roll < 0.3:
            popular = data.POPULAR_GIVEN_MALE if gender == "M" else data.POPULAR_GIVEN_FEMALE
            return r.choice(popular)
        if roll < 0.45:
            return r.choice(chars)
        return r.choice(chars) + r.choice(chars)

    def trade(self) -> str:
        r = self.r
        return "".join(r.sample(data.TRADE_CHARS, 3 if r.random() < 0.25 else 2))

    def domain(self, trade: str, ind_en: str) -> str:
        base = "".join(_pinyin(trade))
        suffix = "".join(w[0] for w in ind_en.lower().split())
        for candidate in (base, base + suffix, f"{base}-{suffix}"):
            name = f"{candidate}.{self.r.choice(data.DOMAIN_TLDS)}"
            if self.claim(name):
                return name
        while True:
            name = f"{base}{self.r.randrange(10, 9999)}.com"
            if self.claim(name):
                return name

    def person_email(self, surname: str, given: str) -> str:
        r = self.r
        while True:
            roll = r.random()
            if roll < 0.3:
                email = f"{r.randrange(10**5, 10**10)}@qq.com"
            else:
                local = "".join(_pinyin(given)) + "".join(_pinyin(surname))
                if roll < 0.6:
                    local = "".join(_pinyin(surname)) + "".join(_pinyin(given))
                email = f"{local}{r.randrange(1, 9999)}@{r.choice(data.FREE_MAIL)}"
            if self.claim(email):
                return email

    def contact(self, domain: str) -> Contact:
        gender = self.r.choice("MF")
        surname, given = self.surname(), self.given(gender)
        email: str | None = None
        if self.r.random() < 0.7:
            local = "".join(_pinyin(surname)) + "".join(_pinyin(given))
            email = f"{local}@{domain}"
            if not self.claim(email):
                email = self.person_email(surname, given)
        elif self.r.random() < 0.5:
            email = self.person_email(surname, given)
        return Contact(surname + given, self.mobile(), email)


def _org_code_check(code: str) -> str:
    """GB 11714 check character of the 8-character organization code inside a USCC."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in code]
    rest = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(rest, str(rest))


def _new_org(
    w: _World,
    *,
    trade: str,
    city: City,
    industry: tuple[str, str, str] | None = None,
    form: tuple[str, str] | None = None,
    domain: str | None = None,
    switchboard: str | None = None,
) -> Org:
    r = w.r
    if industry is None:
        industry = r.choice(data.INDUSTRIES)
    if form is None:
        form = r.choices(_FORMS, cum_weights=_FORM_CUM)[0]
    ind_term = industry[0]
    roll = r.random()
    by_province = roll < 0.12 and not city.is_municipality
    region = _short_province(city) if by_province else _short_city(city)
    bracketed = 0.12 <= roll < 0.27
    address = w.address(city, person=False)
    domain = domain or w.domain(trade, industry[1])
    landlines = [switchboard] if switchboard else []
    landlines.append(w.landline(city))
    if r.random() < 0.25:
        landlines.append(w.landline(city))
    mailboxes = r.sample(data.MAILBOXES, 2)
    emails = [f"{m}@{domain}" for m in mailboxes]
    org = Org(
        entity_id=w.entity_id(),
        trade=trade,
        ind_term=ind_term,
        industry=industry,
        form=form[0],
        form_en=form[1],
        region=region,
        bracketed=bracketed,
        city=city,
        uscc=w.uscc(address.district_code),
        landlines=landlines,
        emails=[e for e in emails if w.claim(e)] or [f"{w.next_id}@{domain}"],
        address=address,
        contacts=[w.contact(domain) for _ in range(1 if r.random() < 0.7 else 2)],
        ownership=r.choice(data.OWNERSHIPS),
        category=r.choice(data.CATEGORIES),
    )
    org.name_en = _english_org_name(org, with_city=r.random() < 0.6)
    return org


def _free_trade(w: _World, cities: list[City], *ind_terms: str) -> str:
    """A trade name not yet registered with these industry terms in any of ``cities``."""
    while True:
        trade = w.trade()
        slots = [f"name:{trade}{t}@{c.name}" for c in cities for t in ind_terms]
        if not any(s in w.used for s in slots):
            w.used.update(slots)
            return trade


def _english_org_name(org: Org, *, with_city: bool) -> str:
    words = [_capital_pinyin(org.trade)]
    if org.ind_term:
        words.append(org.industry[1])
    words.append(org.form_en)
    name = " ".join(words)
    if with_city and org.region:
        name = f"{org.city.pinyin} {name}"
    if org.branch_tail:
        name = f"{name} {org.address.city.pinyin} Branch"
    return name


def _org_units(w: _World) -> list[Org]:
    """One unit of organizations: a company, brand siblings, a group, or parent + branches."""
    roll = w.r.random()
    if roll < 0.70:
        city = w.city()
        industry = w.r.choice(data.INDUSTRIES)
        return [
            _new_org(w, trade=_free_trade(w, [city], industry[0]), city=city, industry=industry)
        ]
    if roll < 0.82:
        return _brand_siblings(w)
    if roll < 0.90:
        return _group(w)
    return _parent_and_branches(w)


def _brand_siblings(w: _World) -> list[Org]:
    """One brand registered as separate companies in 2–4 cities (hard negatives)."""
    r = w.r
    cities = r.sample(data.CITIES, r.randint(2, 4))
    industry = r.choice(data.INDUSTRIES)
    trade = _free_trade(w, cities, industry[0])
    shared_domain = w.domain(trade, industry[1]) if r.random() < 0.5 else None
    form = r.choices(_FORMS, cum_weights=_FORM_CUM)[0]
    out = []
    for city in cities:
        same = r.random() < 0.7
        ind = industry if same else r.choice(data.INDUSTRIES)
        if not same and not w.claim(f"name:{trade}{ind[0]}@{city.name}"):
            ind = industry
        out.append(
            _new_org(w, trade=trade, city=city, industry=ind, form=form, domain=shared_domain)
        )
    return out


def _group(w: _World) -> list[Org]:
    """A holding and 1–3 subsidiaries in one city sharing a switchboard (hard negatives)."""
    r = w.r
    city = w.city()
    industries = r.sample(data.INDUSTRIES, r.randint(1, 3))
    holding_industry = ("", "", "综合")
    trade = _free_trade(w, [city], "集团", *(ind[0] for ind in industries))
    domain = w.domain(trade, "group")
    switchboard = w.landline(city)
    holding = _new_org(
        w,
        trade=trade,
        city=city,
        industry=holding_industry,
        form=("集团有限公司", "Group Co., Ltd."),
        domain=domain,
        switchboard=switchboard,
    )
    holding.region, holding.bracketed = "", False
    holding.name_en = _english_org_name(holding, with_city=False)
    subsidiaries = [
        _new_org(w, trade=trade, city=city, industry=ind, domain=domain, switchboard=switchboard)
        for ind in industries
    ]
    return [holding, *subsidiaries]


def _parent_and_branches(w: _World) -> list[Org]:
    """A company and 1–2 branch offices in other cities (each its own legal entity)."""
    r = w.r
    city = w.city()
    industry = r.choice(data.INDUSTRIES)
    parent = _new_org(w, trade=_free_trade(w, [city], industry[0]), city=city, industry=industry)
    others = [c for c in data.CITIES if c is not city]
    out = [parent]
    for branch_city in r.sample(others, r.randint(1, 2)):
        kind = "分公司" if r.random() < 0.8 else "办事处"
        branch = _new_org(
            w,
            trade=parent.trade,
            city=branch_city,
            industry=industry,
            form=(parent.form, parent.form_en),
            domain=parent.emails[0].split("@")[1],
        )
        branch.region, branch.bracketed = parent.region, parent.bracketed
        branch.city = parent.city  # the legal name keeps the parent's region ...
        branch.branch_tail = _short_city(branch_city) + kind  # ... the address is the branch's
        branch.name_en = (
            parent.name_en
            + f" {branch_city.pinyin} "
            + ("Branch" if kind == "分公司" else "Representative Office")
        )
        out.append(branch)
    return out


def _person_units(w: _World) -> list[Person]:
    """One unit of persons: a single person, a family, or namesakes in one city."""
    roll = w.r.random()
    if roll < 0.72:
        gender = w.r.choice("MF")
        return [_new_person(w, w.city(), w.surname(), None, gender)]
    if roll < 0.90:
        return _family(w)
    return _namesakes(w)


def _new_person(
    w: _World,
    city: City,
    surname: str,
    given: str | None,
    gender: str,
    *,
    birth: date | None = None,
    address: Address | None = None,
    landline: str | None = None,
) -> Person:
    r = w.r
    given = given or w.given(gender)
    birth = birth or w.birth(1950, 2002)
    address = address or w.address(city, person=True)
    mobiles = [w.mobile()]
    if r.random() < 0.25:
        mobiles.append(w.mobile())
    if landline is None and r.random() < 0.15:
        landline = w.landline(city)
    return Person(
        entity_id=w.entity_id(),
        surname=surname,
        given=given,
        gender=gender,
        birth=birth,
        national_id=w.national_id(address.district_code, birth, gender),
        city=city,
        address=address,
        mobiles=mobiles,
        landline=landline,
        emails=[w.person_email(surname, given)] if r.random() < 0.8 else [],
    )


def _family(w: _World) -> list[Person]:
    """2–4 relatives: one surname, one home address and landline (hard negatives)."""
    r = w.r
    city, surname = w.city(), w.surname()
    address, landline = w.address(city, person=True), w.landline(city)
    generation = r.choice(data.GIVEN_MALE) if r.random() < 0.5 else None
    members: list[Person] = []
    used_given: set[str] = set()
    for i in range(r.randint(2, 4)):
        gender = r.choice("MF")
        birth = w.birth(1950, 1975) if i == 0 else w.birth(1978, 2002)
        given = w.given(gender, generation if i > 0 else None)
        while given in used_given:
            given = w.given(gender)
        used_given.add(given)
        members.append(
            _new_person(
                w, city, surname, given, gender, birth=birth, address=address, landline=landline
            )
        )
    return members


def _namesakes(w: _World) -> list[Person]:
    """2–3 different people with one common name in one city (hard negatives)."""
    r = w.r
    city, gender = w.city(), r.choice("MF")
    surname = r.choice(_SURNAMES[:6])
    popular = data.POPULAR_GIVEN_MALE if gender == "M" else data.POPULAR_GIVEN_FEMALE
    given = r.choice(popular)
    return [_new_person(w, city, surname, given, gender) for _ in range(r.randint(2, 3))]


# ---------------------------------------------------------------------------
# Formatting


def _digits_swap(text: str, r: random.Random) -> str:
    """Swap two adjacent, different digits (a typing slip)."""
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    pairs = [(a, b) for a, b in itertools.pairwise(positions) if b == a + 1 and text[a] != text[b]]
    if not pairs:
        return text
    a, b = r.choice(pairs)
    return text[:a] + text[b] + text[a] + text[b + 1 :]


def format_mobile(mobile: str, style: str) -> str:
    """A mobile number the way a department types it."""
    spaced = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    return {
        "plain": mobile,
        "dash": f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        "space": spaced,
        "intl_space": f"+86 {spaced}",
        "cc": f"86{mobile}",
        "intl": f"+86{mobile}",
    }[style]


def format_landline(number: str, style: str) -> str:
    """A landline ``AREA-LOCAL`` the way a department types it."""
    area, local = number.split("-")
    return {
        "dash": number,
        "paren": f"({area}){local}",
        "dash_space": f"{area}-{local[:4]} {local[4:]}",
        "plain": area + local,
        "intl": f"+86 {area[1:]} {local[:4]} {local[4:]}",
        "intl00": f"0086-{area[1:]}-{local}",
        "local": local,
        "ext": f"{number}-{801 + int(local[-1])}",
    }[style]


_ODD_MOBILE = ("intl_space", "cc", "intl", "space", "dash", "plain")
_ODD_LANDLINE = ("paren", "dash_space", "plain", "intl", "intl00", "dash")


def _org_address(a: Address, style: str, r: random.Random) -> str:
    city = a.city
    head = {
        "full": (city.name if city.is_municipality else city.province + city.name) + a.district,
        "city": city.name + a.district,
        "district": a.district,
    }[style]
    building = r.choice(
        (
            f"{a.building}座{a.room}室",
            f"{a.building}栋{a.room}室",
            f"{a.building}座{a.room}",
            f"{a.building}-{a.room}",
            "",
        )
    )
    return f"{head}{a.road}{a.number}号{building}"


def _person_address(a: Address, style: str, r: random.Random) -> str:
    city = a.city
    head = {
        "full": (city.name if city.is_municipality else city.province + city.name) + a.district,
        "city": city.name + a.district,
        "district": a.district,
    }[style]
    road = f"{a.road}{a.number}号" if r.random() < 0.5 else ""
    b, u, room = a.building, a.unit, a.room
    flat = r.choice(
        (f"{b}栋{u}单元{room}室", f"{b}号楼{u}单元{room}", f"{b}-{u}-{room}", f"{b}幢{room}室")
    )
    return f"{head}{road}{a.compound}{flat}"


def _address(e: Entity, style: str, r: random.Random) -> str:
    if isinstance(e, Org):
        return _org_address(e.address, style, r)
    return _person_address(e.address, style, r)


def org_name(o: Org, style: str) -> str:
    """An organization's name in one of the forms departments use."""
    core = o.trade + o.ind_term
    if style == "legal":
        if not o.region:
            base = core + o.form
        elif o.bracketed:
            base = f"{core}（{o.region}）{o.form}"
        else:
            base = o.region + core + o.form
        return base + o.branch_tail
    if style == "swapped":  # the other placement of the region (logistics labels)
        if not o.region:
            return core + o.form + o.branch_tail
        if o.bracketed:
            return o.region + core + o.form + o.branch_tail
        return f"{core}（{o.region}）{o.form}{o.branch_tail}"
    if style == "no_region":
        return core + o.form + o.branch_tail
    if style == "trade_ind":
        return core + o.branch_tail
    return o.trade + o.branch_tail  # "trade"


def _homophone_typo(text: str, r: random.Random, candidates: str | None = None) -> str:
    """Replace one character by a homophone (call-centre typing by pinyin)."""
    pool = candidates if candidates is not None else text
    positions = [i for i, c in enumerate(text) if c in _HOMOPHONES and c in pool]
    if not positions:
        return text
    i = r.choice(positions)
    return text[:i] + r.choice(_HOMOPHONES[text[i]]) + text[i + 1 :]


def _person_en(p: Person, r: random.Random) -> str:
    given = "".join(_pinyin(p.given)).capitalize()
    surname = "".join(_pinyin(p.surname)).capitalize()
    roll = r.random()
    if roll < 0.4:
        return f"{given} {surname}"
    if roll < 0.7:
        return f"{surname.upper()} {given}"
    return f"{surname} {given}"


def _timestamp(r: random.Random) -> str:
    start = datetime(2019, 1, 1)
    moment = start + timedelta(seconds=r.randrange(6 * 365 * 86400))
    return moment.isoformat() + "+08:00"


# ---------------------------------------------------------------------------
# Departments


class _Emitter:
    """Emits identifiers, counting the ones deliberately given a bad check character."""

    def __init__(self, r: random.Random, stats: Counter[str]) -> None:
        self.r = r
        self.stats = stats

    def uscc(self, value: str) -> str:
        if self.r.random() < _INVALID_ID_RATE:
            self.stats["invalid_uscc"] += 1
            alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
            return value[:-1] + self.r.choice(alphabet.replace(value[-1], ""))
        return value

    def national_id(self, value: str, *, old_form: bool = False) -> str:
        if old_form and value[6:8] == "19":
            self.stats["ric15"] += 1
            return ric_15(value)
        if self.r.random() < _INVALID_ID_RATE:
            self.stats["invalid_ric"] += 1
            return value[:-1] + self.r.choice("0123456789X".replace(value[-1], ""))
        return value


def _maybe(r: random.Random, p: float) -> bool:
    return r.random() < p


def _place(
    rec: dict[str, Any],
    e: Entity,
    r: random.Random,
    *,
    p_city: float,
    p_district: float = 0.0,
    p_province: float = 0.0,
) -> None:
    city = e.address.city
    if _maybe(r, p_province):
        rec["province"] = city.province
    if _maybe(r, p_city):
        rec["city"] = city.name if _maybe(r, 0.6) else _short_city(city)
    if _maybe(r, p_district):
        rec["district"] = e.address.district


def _finance(e: Entity, r: random.Random, em: _Emitter) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    if isinstance(e, Org):
        rec["name"] = org_name(e, "legal")
        if _maybe(r, 0.95):
            rec["uscc"] = em.uscc(e.uscc)
        rec["phones"] = [format_landline(p, "dash") for p in e.landlines[: 1 + _maybe(r, 0.3)]]
        if _maybe(r, 0.3):
            rec["emails"] = [e.emails[0]]
        if _maybe(r, 0.1):
            rec["name_en"] = e.name_en
        if _maybe(r, 0.25):
            rec["contact_name"] = e.contacts[0].name
        rec["industry"] = e.industry[2]
        rec["ownership"] = e.ownership
        rec["category"] = e.category
    else:
        rec["name"] = e.name
        if _maybe(r, 0.92):
            rec["national_id"] = em.national_id(e.national_id)
        phones = [e.mobiles[0]] + ([format_landline(e.landline, "dash")] if e.landline else [])
        rec["phones"] = phones
        if _maybe(r, 0.6):
            rec["birth_date"] = e.birth.isoformat()
        if _maybe(r, 0.6):
            rec["gender"] = "男" if e.gender == "M" else "女"
    rec["address"] = _address(e, "full", r)
    _place(rec, e, r, p_city=0.95, p_district=0.9, p_province=0.9)
    if _maybe(r, 0.8):
        rec["postal_code"] = e.address.postal_code
    return rec


def _sales(e: Entity, r: random.Random, em: _Emitter) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    if isinstance(e, Org):
        style = r.choices(("trade", "trade_ind", "no_region", "legal"), (0.3, 0.35, 0.2, 0.15))[0]
        rec["name"] = org_name(e, style)
        contact = r.choice(e.contacts)
        phones = [format_mobile(contact.mobile, r.choice(("plain", "plain", "dash", "space")))]
        if _maybe(r, 0.1):
            phones = []
        if _maybe(r, 0.3):
            phones.append(format_landline(r.choice(e.landlines), "dash"))
        rec["phones"] = phones
        if _maybe(r, 0.6):
            rec["contact_name"] = contact.name
        if contact.email and _maybe(r, 0.4):
            rec["emails"] = [contact.email]
        if _maybe(r, 0.1):
            rec["uscc"] = em.uscc(e.uscc)
        if _maybe(r, 0.3):
            rec["industry"] = e.industry[2]
    else:
        rec["name"] = e.name
        if _maybe(r, 0.95):
            rec["phones"] = [format_mobile(r.choice(e.mobiles), r.choice(("plain", "dash")))]
        if e.emails and _maybe(r, 0.3):
            rec["emails"] = [e.emails[0]]
        if _maybe(r, 0.15):
            rec["national_id"] = em.national_id(e.national_id)
    if _maybe(r, 0.7):
        rec["category"] = r.choice(data.CATEGORIES) if _maybe(r, 0.2) else _category(e)
    _place(rec, e, r, p_city=0.85)
    return rec


def _category(e: Entity) -> str:
    return e.category if isinstance(e, Org) else "终端客户"


def _callcenter(e: Entity, r: random.Random, em: _Emitter) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    if isinstance(e, Org):
        style = r.choices(("legal", "trade_ind", "trade", "no_region"), (0.4, 0.35, 0.1, 0.15))[0]
        name = org_name(e, style)
        if _maybe(r, 0.35):
            name = _homophone_typo(name, r, e.trade)
        rec["name"] = name
        if _maybe(r, 0.6):
            phone = format_landline(r.choice(e.landlines), r.choice(_ODD_LANDLINE))
        else:
            phone = format_mobile(r.choice(e.contacts).mobile, r.choice(_ODD_MOBILE))
        rec["phones"] = [phone]
        if _maybe(r, 0.5):
            contact = e.contacts[0].name
            rec["contact_name"] = _homophone_typo(contact, r) if _maybe(r, 0.25) else contact
        if _maybe(r, 0.03):
            rec["uscc"] = em.uscc(e.uscc)
    else:
        rec["name"] = _homophone_typo(e.name, r) if _maybe(r, 0.3) else e.name
        if e.landline and _maybe(r, 0.3):
            phone = format_landline(e.landline, r.choice(_ODD_LANDLINE))
        else:
            phone = format_mobile(r.choice(e.mobiles), r.choice(_ODD_MOBILE))
        rec["phones"] = [phone]
        if _maybe(r, 0.55):
            rec["national_id"] = em.national_id(e.national_id, old_form=_maybe(r, 0.65))
        if _maybe(r, 0.3):
            rec["gender"] = "男" if e.gender == "M" else "女"
    if _maybe(r, 0.4):
        rec["address"] = _address(e, "district", r)
    _place(rec, e, r, p_city=0.5)
    return rec


def _web(e: Entity, r: random.Random, em: _Emitter) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    trad = _converter("s2t" if _maybe(r, 0.6) else "s2twp")
    traditional = False
    if isinstance(e, Org):
        roll = r.random()
        if roll < 0.45:
            rec["name"], traditional = trad.convert(org_name(e, "legal")), True
        elif roll < 0.65:
            rec["name"] = e.name_en
        else:
            rec["name"] = org_name(e, "legal")
        if _maybe(r, 0.7):
            rec["name_en"] = e.name_en
        pool = [*e.emails, *(c.email for c in e.contacts if c.email)]
        emails = [r.choice(pool)] if _maybe(r, 0.9) else []
        if _maybe(r, 0.5):
            phone = format_landline(r.choice(e.landlines), r.choice(("dash", "paren", "plain")))
            rec["phones"] = [full_width(phone) if _maybe(r, 0.3) else phone]
    else:
        roll = r.random()
        if roll < 0.4:
            rec["name"], traditional = trad.convert(e.name), True
        elif roll < 0.55:
            rec["name"] = rec["name_en"] = _person_en(e, r)
        else:
            rec["name"] = e.name
        emails = e.emails[:1] if _maybe(r, 0.95) else []
        # A web account is verified by a text message to a mobile (real-name
        # registration), so nearly every sign-up has one: not always the
        # number the other departments know.
        if _maybe(r, 0.95):
            phone = format_mobile(e.mobiles[-1], r.choice(("plain", "intl", "dash")))
            rec["phones"] = [full_width(phone) if _maybe(r, 0.25) else phone]
        if _maybe(r, 0.5):
            rec["birth_date"] = e.birth.isoformat()
        if _maybe(r, 0.5):
            rec["gender"] = e.gender
        if _maybe(r, 0.1):
            rec["national_id"] = em.national_id(e.national_id)
    if emails:
        rec["emails"] = [m.upper() if _maybe(r, 0.15) else m for m in emails]
    if _maybe(r, 0.4):
        address = _address(e, r.choice(("full", "city")), r)
        if traditional:
            address = trad.convert(address)
        rec["address"] = full_width(address) if _maybe(r, 0.3) else address
    _place(rec, e, r, p_city=0.5, p_province=0.4)
    return rec


def _logistics(e: Entity, r: random.Random, em: _Emitter) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    if isinstance(e, Org):
        style = r.choices(("swapped", "legal", "no_region"), (0.5, 0.35, 0.15))[0]
        name = org_name(e, style)
        if _maybe(r, 0.3):
            name = name.replace("（", "(").replace("）", ")")
        rec["name"] = name
        contact = r.choice(e.contacts)
        if _maybe(r, 0.7):
            phone = format_mobile(contact.mobile, "plain")
        else:
            phone = format_landline(r.choice(e.landlines), "local" if _maybe(r, 0.2) else "dash")
        rec["phones"] = [phone]
        if _maybe(r, 0.8):
            rec["contact_name"] = contact.name
    else:
        rec["name"] = e.name
        rec["phones"] = [format_mobile(r.choice(e.mobiles), "plain")]
    rec["address"] = _address(e, r.choice(("full", "city", "district")), r)
    _place(rec, e, r, p_city=0.6, p_district=0.6, p_province=0.3)
    if _maybe(r, 0.4):
        rec["postal_code"] = e.address.postal_code
    return rec


_Builder = Callable[[Entity, random.Random, _Emitter], dict[str, Any]]
_BUILDERS: dict[str, _Builder] = {
    "finance": _finance,
    "sales": _sales,
    "callcenter": _callcenter,
    "web": _web,
    "logistics": _logistics,
}


def _noise(rec: dict[str, Any], r: random.Random) -> None:
    """Department-independent slips: a transposed phone digit, a dropped character."""
    phones = rec.get("phones")
    if phones and _maybe(r, _PHONE_TRANSPOSE_RATE):
        i = r.randrange(len(phones))
        phones[i] = _digits_swap(phones[i], r)
    name = rec["name"]
    if len(name) > 4 and _maybe(r, _NAME_TYPO_RATE):
        i = r.randrange(1, len(name) - 1)
        rec["name"] = name[:i] + name[i + 1 :]


# ---------------------------------------------------------------------------
# Streams


def _departments(r: random.Random, party_type: str) -> list[str]:
    k = r.choices((1, 2, 3, 4), _DEPT_COUNT_WEIGHTS)[0]
    weights = list(_DEPT_WEIGHTS[party_type])
    chosen: list[str] = []
    for _ in range(k):
        i = r.choices(range(len(SOURCES)), weights)[0]
        chosen.append(SOURCES[i])
        weights[i] = 0.0
    if _maybe(r, _IN_DEPT_DUPLICATE):
        chosen.append(r.choice(chosen))
    return chosen


def _entities(entities: int, w: _World) -> Iterator[Entity]:
    made = 0
    while made < entities:
        unit: list[Org] | list[Person] = _org_units(w) if w.r.random() < 0.55 else _person_units(w)
        for entity in unit[: entities - made]:
            made += 1
            yield entity


def _unit_stats(e: Entity, stats: Counter[str]) -> None:
    stats[e.party_type] += 1
    if isinstance(e, Org) and e.branch_tail:
        stats["branches"] += 1


def iter_labelled_records(
    entities: int, seed: int, stats: Counter[str] | None = None
) -> Iterator[tuple[dict[str, Any], str]]:
    """Yield ``(record, entity_id)`` in generation order (entities grouped)."""
    stats = stats if stats is not None else Counter()
    w = _World(seed)
    r = random.Random(f"{seed}-departments")
    em = _Emitter(r, stats)
    keys = {s: _Keys(s, seed) for s in SOURCES}
    for e in _entities(entities, w):
        _unit_stats(e, stats)
        for source in _departments(r, e.party_type):
            rec = {"source": source, "source_key": keys[source].next(), "party_type": e.party_type}
            rec.update(_BUILDERS[source](e, r, em))
            _noise(rec, r)
            if not rec.get("phones", True):
                del rec["phones"]
            if _maybe(r, 0.85):
                rec["updated_at"] = _timestamp(r)
            stats["records"] += 1
            stats[f"source:{source}"] += 1
            yield rec, e.entity_id
    stats["entities"] = entities


def _bucket_count(entities: int) -> int:
    return max(1, entities // _ENTITIES_PER_BUCKET)


def generate_corpus(entities: int, seed: int) -> Corpus:
    """Generate a corpus in memory (same records and order as :func:`write_corpus`)."""
    stats: Counter[str] = Counter()
    n = _bucket_count(entities)
    buckets: list[list[tuple[dict[str, Any], str]]] = [[] for _ in range(n)]
    picker = random.Random(f"{seed}-bucket")
    for item in iter_labelled_records(entities, seed, stats):
        buckets[picker.randrange(n)].append(item)
    shuffler = random.Random(f"{seed}-shuffle")
    records: list[dict[str, Any]] = []
    truth: dict[tuple[str, str], str] = {}
    for bucket in buckets:
        shuffler.shuffle(bucket)
        for rec, entity_id in bucket:
            records.append(rec)
            truth[rec["source"], rec["source_key"]] = entity_id
    return Corpus(records=records, truth=truth, stats=dict(stats))


def write_corpus(out_dir: Path, entities: int, seed: int) -> dict[str, int]:
    """Stream a corpus to ``records.jsonl``, ``truth.csv`` and ``manifest.json``.

    Records pass through temporary bucket files so that only one bucket is ever
    held in memory while shuffling.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".buckets"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    stats: Counter[str] = Counter()
    n = _bucket_count(entities)
    picker = random.Random(f"{seed}-bucket")
    files = [(tmp / f"{i}.tsv").open("w", encoding="utf-8") for i in range(n)]
    try:
        for rec, entity_id in iter_labelled_records(entities, seed, stats):
            line = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
            files[picker.randrange(n)].write(
                f"{rec['source']}\t{rec['source_key']}\t{entity_id}\t{line}\n"
            )
    finally:
        for f in files:
            f.close()
    shuffler = random.Random(f"{seed}-shuffle")
    with (
        (out_dir / "records.jsonl").open("w", encoding="utf-8") as rec_out,
        (out_dir / "truth.csv").open("w", encoding="utf-8", newline="") as truth_out,
    ):
        writer = csv.writer(truth_out)
        writer.writerow(("source", "source_key", "entity_id"))
        for i in range(n):
            lines = (tmp / f"{i}.tsv").read_text(encoding="utf-8").splitlines()
            shuffler.shuffle(lines)
            for line in lines:
                source, key, entity_id, record = line.split("\t", 3)
                rec_out.write(record + "\n")
                writer.writerow((source, key, entity_id))
    shutil.rmtree(tmp)
    manifest = {"generator_version": GENERATOR_VERSION, "seed": seed, **dict(stats)}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return dict(stats)


def main(argv: list[str] | None = None) -> None:
    """CLI: write a corpus directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stats = write_corpus(args.out, args.entities, args.seed)
    elapsed = time.perf_counter() - started
    print(
        f"{stats['records']:,} records of {stats['entities']:,} entities "
        f"written to {args.out} in {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
