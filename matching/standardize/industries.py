"""Industries: a department's industry field and a name's industry words, as one sector.

Finance files every company under an industry (信息技术, 批发零售, 汽车 …),
sales sometimes does, and a legal name carries industry words (汽车配件,
网络科技, 商贸). Brought to one sector code, the field of one record meets the
field or the name of another: a short name 沃佳 filed under 汽车 is the group's
auto-parts company 沃佳汽车配件, not its logistics arm 沃佳物流.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from matching.standardize.text import normalize_text
from matching.types import Flag, Standardized

__all__ = ["SECTORS", "name_sectors", "standardize_industry"]

# Sector code → the industry names departments file under it, Chinese and
# English (the national classification's wording and the trade's short forms).
SECTORS: Mapping[str, tuple[str, ...]] = {
    "technology": (
        "信息技术",
        "信息技术服务",
        "软件和信息技术服务",
        "信息传输、软件和信息技术服务",
        "互联网",
        "软件",
        "通信",
        "it",
        "information technology",
        "technology",
        "software",
    ),
    "trading": (
        "批发零售",
        "批发和零售",
        "批发",
        "零售",
        "商贸",
        "贸易",
        "wholesale",
        "retail",
        "trading",
    ),
    "logistics": (
        "物流",
        "交通运输、仓储和邮政",
        "交通运输",
        "仓储",
        "运输",
        "logistics",
        "transport",
    ),
    "machinery": ("机械", "通用设备制造", "专用设备制造", "装备制造", "machinery"),
    "electronics": ("电子", "电子设备制造", "electronics"),
    "construction": ("建筑", "建筑业", "建设", "工程", "construction", "engineering"),
    "food": ("食品", "农副食品加工", "食品制造", "food"),
    "pharmaceutical": ("医药", "医药制造", "制药", "pharmaceutical", "pharmaceuticals"),
    "chemical": ("化工", "化学原料和化学制品制造", "chemical", "chemicals"),
    "automotive": ("汽车", "汽车制造", "汽车配件", "automotive", "auto parts"),
    "appliance": ("家电", "家用电器", "电器", "home appliances", "appliances"),
    "shipbuilding": ("船舶", "造船", "船舶制造", "shipbuilding"),
    "metallurgy": ("冶金", "钢铁", "有色金属", "黑色金属冶炼和压延加工", "metallurgy", "steel"),
    "conglomerate": ("综合", "多元化", "实业", "投资", "控股", "conglomerate", "diversified"),
    "materials": ("材料", "新材料", "materials"),
    "textile": ("纺织", "纺织服装", "纺织业", "textile", "textiles"),
    "energy": ("能源", "电力、热力、燃气及水生产和供应", "电力", "energy"),
    "environmental": ("环保", "生态保护和环境治理", "环境治理", "environmental protection"),
    "packaging": ("包装", "packaging"),
}

# A name's canonical industry words (see ``StandardName.industry_term``) and
# their sector. Words that name no one sector (服务 services, 制造
# manufacturing, 国际 international, 发展 development …) are left out.
_TERM_SECTORS: Mapping[str, str] = {
    "technology": "technology",
    "information": "technology",
    "software": "technology",
    "network": "technology",
    "communication": "technology",
    "trading": "trading",
    "logistics": "logistics",
    "transport": "logistics",
    "machinery": "machinery",
    "equipment": "machinery",
    "electronics": "electronics",
    "construction": "construction",
    "engineering": "construction",
    "food": "food",
    "pharmaceutical": "pharmaceutical",
    "chemical": "chemical",
    "automotive": "automotive",
    "appliance": "appliance",
    "shipbuilding": "shipbuilding",
    "steel": "metallurgy",
    "metallurgy": "metallurgy",
    "metal": "metallurgy",
    "industrial": "conglomerate",
    "investment": "conglomerate",
    "holding": "conglomerate",
    "materials": "materials",
    "textile": "textile",
    "energy": "energy",
    "environmental": "environmental",
    "packaging": "packaging",
}

_FIELD = "industry"
# Trailing words that say "the … industry" without naming it (汽车行业, 建筑业).
_INDUSTRY_SUFFIX = re.compile(r"(?:行业|产业|业|industry|sector)$")
_SEPARATORS = re.compile(r"[\s/|,;、]+")


def _key(text: str) -> str:
    return _INDUSTRY_SUFFIX.sub("", normalize_text(text).strip()).strip()


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for sector, names in SECTORS.items():
        for name in names:
            table[_key(name)] = sector
            table[normalize_text(name)] = sector
    return table


@lru_cache(maxsize=4_096)
def standardize_industry(text: str) -> Standardized[str]:
    """The sector code of an industry field (``汽车行业`` → ``automotive``).

    Text that names no known sector is kept out (``None``) and flagged: it
    cannot be compared with another department's wording.
    """
    normalized = normalize_text(text)
    if not normalized:
        return Standardized(None, (Flag(_FIELD, "empty", "the industry is empty"),))
    table = _lookup()
    found = table.get(normalized) or table.get(_key(normalized))
    if found is None:
        # 汽车/机械: several sectors written in one field; the first known one.
        found = next(
            (
                table[part]
                for part in (_key(p) for p in _SEPARATORS.split(normalized))
                if part in table
            ),
            None,
        )
    if found is None:
        return Standardized(
            None, (Flag(_FIELD, "unknown", f"'{text[:40]}' is not a known industry"),)
        )
    return Standardized(found)


def name_sectors(industry_term: str | None) -> frozenset[str]:
    """The sectors a name's canonical industry words name (``automotive parts`` → automotive)."""
    if not industry_term:
        return frozenset()
    return frozenset(_sectors(industry_term.split()))


def _sectors(words: Iterable[str]) -> Iterable[str]:
    return (_TERM_SECTORS[word] for word in words if word in _TERM_SECTORS)
