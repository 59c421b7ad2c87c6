"""StandardRecords built directly, the way the standardizers would build them.

The matching stages read only :class:`StandardRecord`; building them here keeps
these tests independent of standardization.
"""

from __future__ import annotations

from datetime import date

from pypinyin import lazy_pinyin

from matching.record import PartyType
from matching.types import PhoneKind, StandardAddress, StandardName, StandardPhone, StandardRecord

INDUSTRY_TERMS = {
    "技术": "technology",
    "科技": "technology",
    "贸易": "trading",
    "物流": "logistics",
    "汽车配件": "automotive parts",
}


def pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text))


def org_name(
    trade: str,
    industry: str | None = "技术",
    *,
    region: str | None = None,
    legal_form: str | None = "有限公司",
    branch: str | None = None,
) -> StandardName:
    core = trade + (industry or "")
    normalized = (region or "") + core + (legal_form or "") + (branch or "")
    term = INDUSTRY_TERMS.get(industry or "")
    return StandardName(
        raw=normalized,
        normalized=normalized,
        core=core,
        trade=trade,
        pinyin=pinyin(core),
        trade_pinyin=pinyin(trade),
        tokens=tuple(sorted([pinyin(trade), *([term] if term else [])])),
        industry_term=term,
        legal_form=legal_form,
        region=region,
        branch=branch,
    )


def latin_org_name(trade: str, industry_term: str | None = "technology") -> StandardName:
    words = [trade, *([industry_term] if industry_term else [])]
    core = " ".join(words)
    return StandardName(
        raw=core,
        normalized=core,
        core=core,
        trade=trade,
        pinyin="".join(words),
        trade_pinyin=trade,
        tokens=tuple(sorted(words)),
        industry_term=industry_term,
        legal_form="co ltd",
        is_latin=True,
    )


def person_name(name: str) -> StandardName:
    tokens = tuple(sorted([pinyin(name[0]), pinyin(name[1:])]))
    return StandardName(
        raw=name,
        normalized=name,
        core=name,
        trade=name,
        pinyin=pinyin(name),
        trade_pinyin=pinyin(name),
        tokens=tokens,
    )


def latin_person_name(family: str, given: str) -> StandardName:
    tokens = tuple(sorted([family.lower(), given.lower()]))
    core = f"{given.lower()} {family.lower()}"
    return StandardName(
        raw=core,
        normalized=core,
        core=core,
        trade=core,
        pinyin=family.lower() + given.lower(),
        trade_pinyin=family.lower() + given.lower(),
        tokens=tokens,
        is_latin=True,
    )


def phones(*numbers: str) -> tuple[StandardPhone, ...]:
    """E.164 numbers; +861… are mobiles, the rest landlines."""
    return tuple(
        StandardPhone(n, PhoneKind.MOBILE if n.startswith("+861") else PhoneKind.LANDLINE)
        for n in numbers
    )


def address(
    city: str | None, district: str | None = None, detail: str | None = None
) -> StandardAddress:
    return StandardAddress(city=city, district=district, detail=detail)


def org(
    key: str,
    name: StandardName,
    *,
    source: str = "finance",
    uscc: str | None = None,
    phone: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    where: StandardAddress | None = None,
    name_en: StandardName | None = None,
    identifiers: tuple[tuple[str, str], ...] = (),
) -> StandardRecord:
    return StandardRecord(
        source=source,
        source_key=key,
        party_type=PartyType.ORGANIZATION,
        name=name,
        name_en=name_en,
        uscc=uscc,
        identifiers=identifiers,
        phones=phones(*phone),
        emails=emails,
        address=where or StandardAddress(),
    )


def person(
    key: str,
    name: StandardName,
    *,
    source: str = "service",
    national_id: str | None = None,
    born: date | None = None,
    gender: str | None = None,
    phone: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    where: StandardAddress | None = None,
) -> StandardRecord:
    return StandardRecord(
        source=source,
        source_key=key,
        party_type=PartyType.PERSON,
        name=name,
        national_id=national_id,
        birth_date=born,
        gender=gender,
        phones=phones(*phone),
        emails=emails,
        address=where or StandardAddress(),
    )
