"""A seeded generator of department records with ground truth, for matching tests.

Organizations appear in several departments, each with its habits (finance:
full legal name, USCC, landline; sales: short name and mobile; web: English
name and e-mail; logistics: address with typos). Hard negatives are built in:
sibling companies of one brand in other cities, branch offices, family
members sharing an address and landline, namesakes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date

from matching.types import StandardRecord
from tests.matching.standard_records import (
    address,
    latin_org_name,
    latin_person_name,
    org,
    org_name,
    person,
    person_name,
    pinyin,
)

TRADE_CHARS = "华为中兴海信格力美的长城远大恒通金山天成鑫源博达宏图新华东方瑞丰"
INDUSTRIES = ("技术", "科技", "贸易", "物流")
CITIES = (
    ("北京", "海淀区"),
    ("上海", "浦东新区"),
    ("广州", "天河区"),
    ("深圳", "南山区"),
    ("成都", "武侯区"),
)
STREETS = "中山路人民路解放路建设路和平路长江路黄河路文化路"
FAMILY = "王李张刘陈杨赵黄周吴"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
HOMOPHONES = {
    "张": "章",
    "伟": "玮",
    "芳": "方",
    "静": "晶",
    "丽": "莉",
    "明": "铭",
    "军": "君",
    "涛": "韬",
}


@dataclass(frozen=True, slots=True)
class Corpus:
    records: list[StandardRecord]
    truth: dict[tuple[str, str], int]

    def true_pairs(self) -> set[tuple[tuple[str, str], tuple[str, str]]]:
        by_entity: dict[int, list[tuple[str, str]]] = {}
        for key, entity in self.truth.items():
            by_entity.setdefault(entity, []).append(key)
        out = set()
        for keys in by_entity.values():
            keys.sort()
            out.update((a, b) for i, a in enumerate(keys) for b in keys[i + 1 :])
        return out


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.records: list[StandardRecord] = []
        self.truth: dict[tuple[str, str], int] = {}
        self.entity = 0
        self.serial = 0

    def code(self, width: int) -> str:
        return "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(width))

    def digits(self, width: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(width))

    def add(self, record: StandardRecord, entity: int) -> None:
        self.serial += 1
        record = replace(record, source_key=f"{record.source_key}-{self.serial}")
        self.records.append(record)
        self.truth[record.key] = entity

    def detail(self) -> str:
        return f"{self.rng.choice(STREETS)}{self.rng.choice(STREETS)}路{self.rng.randint(1, 999)}号"

    def typo(self, text: str) -> str:
        if len(text) < 4:
            return text
        i = self.rng.randrange(len(text) - 1)
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]

    def organization(self, trade: str, industry: str, city: int, branch: str | None = None) -> None:
        rng = self.rng
        self.entity += 1
        e = self.entity
        city_name, district = CITIES[city]
        uscc = "91" + self.code(16)
        landline = "+8610" + self.digits(8)
        mobile = "+861" + self.digits(10)
        detail = self.detail()
        name = org_name(
            trade, industry, region=city_name if rng.random() < 0.5 else None, branch=branch
        )
        where = address(city_name, district, detail)
        email = f"info@{pinyin(trade)}{e}.cn"
        self.add(org("f", name, source="finance", uscc=uscc, phone=(landline,), where=where), e)
        if rng.random() < 0.7:
            short = org_name(trade, None, legal_form=None, branch=branch)
            self.add(org("s", short, source="sales", phone=(mobile,), where=address(city_name)), e)
        if rng.random() < 0.5 and branch is None:
            self.add(
                org(
                    "w",
                    latin_org_name(pinyin(trade), "technology" if industry in "技术科技" else None),
                    source="web",
                    emails=(email,),
                ),
                e,
            )
        if rng.random() < 0.5:
            typo_where = address(city_name, district, self.typo(detail))
            self.add(org("l", name, source="logistics", phone=(landline,), where=typo_where), e)

    def people(
        self, name: str, city: int, *, family_of: tuple[str, str, str] | None = None
    ) -> None:
        rng = self.rng
        self.entity += 1
        e = self.entity
        city_name, district = CITIES[city]
        born = date(1950 + rng.randrange(50), rng.randint(1, 12), rng.randint(1, 28))
        nid = self.digits(17) + rng.choice("0123456789X")
        mobile = "+861" + self.digits(10)
        if family_of is None:
            landline, detail = "+8628" + self.digits(8), self.detail()
        else:
            landline, detail, _ = family_of
        where = address(city_name, district, detail)
        gender = rng.choice(("male", "female"))
        self.add(
            person(
                "c",
                person_name(name),
                source="crm",
                national_id=nid,
                born=born,
                gender=gender,
                phone=(mobile, landline),
                where=where,
            ),
            e,
        )
        if rng.random() < 0.6:
            typo = "".join(HOMOPHONES.get(ch, ch) if rng.random() < 0.5 else ch for ch in name)
            self.add(
                person(
                    "t",
                    person_name(typo),
                    source="callcentre",
                    national_id=nid,
                    born=born,
                    phone=(mobile,),
                ),
                e,
            )
        if rng.random() < 0.3:
            latin = latin_person_name(pinyin(name[0]), pinyin(name[1:]))
            self.add(
                person("x", latin, source="web", born=born, emails=(f"{pinyin(name)}{e}@qq.com",)),
                e,
            )
        if family_of is None and rng.random() < 0.3:
            relative = name[0] + rng.choice(GIVEN.replace(name[1], ""))
            self.people(relative, city, family_of=(landline, detail, name))


def generate(organizations: int = 200, persons: int = 200, seed: int = 7) -> Corpus:
    """A corpus with about 2.5 records per organization and 1.6 per person."""
    maker = _Maker(seed)
    rng = maker.rng
    for _ in range(organizations):
        trade = "".join(rng.sample(TRADE_CHARS, 2))
        industry = rng.choice(INDUSTRIES)
        city = rng.randrange(len(CITIES))
        maker.organization(trade, industry, city)
        roll = rng.random()
        if roll < 0.15:  # a sibling of the brand in another city
            maker.organization(trade, industry, (city + 1) % len(CITIES))
        elif roll < 0.25:  # a branch office
            other = CITIES[(city + 2) % len(CITIES)][0]
            maker.organization(trade, industry, city, branch=f"{other}分公司")
    for _ in range(persons):
        name = rng.choice(FAMILY) + rng.choice(GIVEN)
        maker.people(name, rng.randrange(len(CITIES)))
    return Corpus(records=maker.records, truth=maker.truth)
