"""China's administrative divisions: recognising provinces, cities and districts in text.

The table (``matching/data/divisions.tsv``, derived from the cpca package, MIT)
holds every province, prefecture-level city and county-level division with its
GB/T 2260 code. It is loaded once; lookups are plain dictionary probes of the
longest name that starts at a position, so locating the divisions at the start
of an address or a company name costs a few dozen probes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cache, lru_cache
from importlib import resources

from matching.standardize.text import romanize

__all__ = [
    "REGION_BY_PROVINCE",
    "Division",
    "DivisionTable",
    "Level",
    "Location",
    "division_table",
    "is_romanized_place",
    "locate",
    "lookup_division",
    "may_start_place",
    "place_from_romanized",
]

# The seven economic regions of the practice, keyed by province short form.
REGION_BY_PROVINCE: dict[str, str] = {
    **dict.fromkeys(("北京", "天津", "河北", "山西", "内蒙古"), "华北"),
    **dict.fromkeys(("辽宁", "吉林", "黑龙江"), "东北"),
    **dict.fromkeys(("上海", "江苏", "浙江", "安徽", "福建", "江西", "山东", "台湾"), "华东"),
    **dict.fromkeys(("河南", "湖北", "湖南"), "华中"),
    **dict.fromkeys(("广东", "广西", "海南", "香港", "澳门"), "华南"),
    **dict.fromkeys(("重庆", "四川", "贵州", "云南", "西藏"), "西南"),
    **dict.fromkeys(("陕西", "甘肃", "青海", "宁夏", "新疆"), "西北"),
}

_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})

# Romanised forms that plain pinyin gets wrong or that English uses instead.
_ROMANIZED_EXTRA: dict[str, str] = {
    "shaanxi": "陕西",  # 陕西 and 山西 are both "shanxi" in toneless pinyin
    "innermongolia": "内蒙古",
    "tibet": "西藏",
    "hongkong": "香港",
    "macau": "澳门",
    "macao": "澳门",
    "peking": "北京",
    "canton": "广州",
    "amoy": "厦门",
    # Cities whose English name is no pinyin of their Chinese one.
    "harbin": "哈尔滨",
    "hohhot": "呼和浩特",
    "urumqi": "乌鲁木齐",
    "lhasa": "拉萨",
    "kashgar": "喀什",
}

# A short name in free text is only a place when it is not the start of a
# street, landmark or building name: every city has a 中山路 and a 长安街.
_NOT_AFTER_SHORT_NAME = (
    "路",
    "街",
    "道",
    "巷",
    "里",
    "弄",
    "东路",
    "西路",
    "南路",
    "北路",
    "中路",
    "大街",
    "大道",
    "门",
    "桥",
    "广场",
    "大厦",
    "公园",
    "花园",
    "新村",
    "村",
    "湖",
)


class Level(IntEnum):
    """The tier of a division: province, prefecture-level city, county-level district."""

    PROVINCE = 1
    CITY = 2
    DISTRICT = 3


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division with the short names of its parents."""

    code: str
    name: str
    short: str
    level: Level
    province: str
    city: str | None

    @property
    def is_municipality(self) -> bool:
        """Whether this is one of the four municipalities (北京, 天津, 上海, 重庆)."""
        return self.level is Level.PROVINCE and self.code[:2] in _MUNICIPALITIES

    def within(self, other: Division) -> bool:
        """Whether this division lies inside (or is) ``other``."""
        if other.level is Level.PROVINCE or other.code[:2] in _MUNICIPALITIES:
            return self.code[:2] == other.code[:2]
        if other.level is Level.CITY:
            return self.code[:4] == other.code[:4] or self.code == other.code
        return self.code == other.code


@dataclass(frozen=True, slots=True)
class DivisionTable:
    """Name → divisions indexes over the whole table, plus derived lookups."""

    provinces: dict[str, Division]
    cities: dict[str, tuple[Division, ...]]
    districts: dict[str, tuple[Division, ...]]
    district_shorts: dict[str, tuple[Division, ...]]
    romanized: dict[str, str | None]
    postal_zones: dict[str, frozenset[str]]
    longest_name: int
    # Per index (by field name): first character → lengths of its keys, longest first.
    key_lengths: dict[str, dict[str, tuple[int, ...]]]


@dataclass(frozen=True, slots=True)
class Location:
    """The divisions found at the start of a text and where they end."""

    province: Division | None = None
    city: Division | None = None
    district: Division | None = None
    end: int = 0

    @property
    def province_name(self) -> str | None:
        """Short form of the province, also when only a city or district was named."""
        for found in (self.province, self.city, self.district):
            if found is not None:
                return found.province
        return None

    @property
    def city_name(self) -> str | None:
        """Short form of the prefecture-level city (a municipality is its own city)."""
        if self.city is not None:
            return self.city.short
        if self.district is not None:
            return self.district.city
        if self.province is not None and self.province.is_municipality:
            return self.province.short
        return None

    @property
    def region_name(self) -> str | None:
        """The place a name is registered in: the city when known, else the province."""
        return self.city_name or self.province_name


def _read_lines(name: str) -> list[list[str]]:
    text = resources.files("matching").joinpath("data", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def _build_divisions() -> list[Division]:
    rows = [(code, name, short) for code, name, short in _read_lines("divisions.tsv")]
    names = {code: (name, short) for code, name, short in rows}
    out: list[Division] = []
    for code, name, short in rows:
        province = names[code[:2] + "0000"][1]
        if code[2:] == "0000":
            out.append(Division(code, name, short, Level.PROVINCE, province, None))
        elif code[4:] == "00" or code[2:4] == "90":
            # Counties governed directly by the province (济源, 仙桃) act as cities.
            out.append(Division(code, name, short or name, Level.CITY, province, short or name))
        else:
            parent = names.get(code[:4] + "00")
            city = parent[1] if parent is not None else province
            out.append(Division(code, name, short, Level.DISTRICT, province, city))
    return out


def _index(pairs: list[tuple[str, Division]]) -> dict[str, tuple[Division, ...]]:
    index: dict[str, list[Division]] = {}
    for key, division in pairs:
        if key and division not in index.setdefault(key, []):
            index[key].append(division)
    return {key: tuple(found) for key, found in index.items()}


def _romanized(divisions: list[Division]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for division in divisions:
        if division.level is Level.DISTRICT:
            continue
        key = romanize(division.short)
        known = out.get(key, division.short)
        # Two places with one romanisation (苏州/宿州 "suzhou") cannot be told apart.
        out[key] = division.short if known == division.short else None
    out.update(_ROMANIZED_EXTRA)
    return out


def _postal_zones() -> dict[str, frozenset[str]]:
    return {
        province: frozenset(prefixes.split(","))
        for province, prefixes in _read_lines("postal_zones.tsv")
    }


@cache
def division_table() -> DivisionTable:
    """The division table, loaded from the package data on first use."""
    divisions = _build_divisions()
    provinces = {
        key: d for d in divisions if d.level is Level.PROVINCE for key in (d.name, d.short)
    }
    cities = _index(
        [(key, d) for d in divisions if d.level is Level.CITY for key in (d.name, d.short)]
    )
    districts = _index([(d.name, d) for d in divisions if d.level is Level.DISTRICT])
    # A district's short form must not shadow a province or city of the same name.
    shorts = _index(
        [
            (d.short, d)
            for d in divisions
            if d.level is Level.DISTRICT and d.short not in provinces and d.short not in cities
        ]
    )
    longest = max(len(key) for index in (provinces, cities, districts) for key in index)
    indexes: dict[str, Mapping[str, object]] = {
        "provinces": provinces,
        "cities": cities,
        "districts": districts,
        "district_shorts": shorts,
    }
    return DivisionTable(
        provinces=provinces,
        cities=cities,
        districts=districts,
        district_shorts=shorts,
        romanized=_romanized(divisions),
        postal_zones=_postal_zones(),
        longest_name=longest,
        key_lengths={name: _key_lengths(index) for name, index in indexes.items()},
    )


def _key_lengths(index: Mapping[str, object]) -> dict[str, tuple[int, ...]]:
    """First character → the lengths of the index's keys starting with it, longest first.

    Only lengths of two characters and more: no one-character name is looked up.
    """
    lengths: dict[str, set[int]] = {}
    for key in index:
        if len(key) >= 2:
            lengths.setdefault(key[0], set()).add(len(key))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def _longest_at(
    text: str,
    pos: int,
    index: dict[str, tuple[Division, ...]] | dict[str, Division],
    lengths: Mapping[str, tuple[int, ...]],
) -> tuple[str, tuple[Division, ...]] | None:
    """The longest key of ``index`` (two characters or more) at ``pos``, and its divisions.

    Only the lengths of keys that start with the character at ``pos`` are
    probed: most positions start no name at all.
    """
    room = len(text) - pos
    for size in lengths.get(text[pos : pos + 1], ()):
        if size > room:
            continue
        key = text[pos : pos + size]
        found = index.get(key)
        if found is not None:
            return key, found if isinstance(found, tuple) else (found,)
    return None


def _is_full_name(key: str, division: Division) -> bool:
    return key == division.name


def _starts_street(text: str, pos: int) -> bool:
    return text.startswith(_NOT_AFTER_SHORT_NAME, pos)


def _hit_at(
    text: str,
    pos: int,
    index: dict[str, tuple[Division, ...]] | dict[str, Division],
    lengths: Mapping[str, tuple[int, ...]],
    context: Division | None,
    *,
    free_text: bool,
) -> tuple[tuple[Division, ...], int] | None:
    """The divisions named at ``pos`` that fit inside ``context``, and where the name ends."""
    hit = _longest_at(text, pos, index, lengths)
    if hit is None:
        return None
    key, found = hit
    fitting = found if context is None else _within(found, context)
    if not fitting:
        return None
    end = pos + len(key)
    # Rarely a street follows: the full-name test runs only then.
    if free_text and _starts_street(text, end) and not any(_is_full_name(key, d) for d in fitting):
        return None
    return fitting, end


def _within(divisions: tuple[Division, ...], context: Division) -> tuple[Division, ...]:
    if len(divisions) == 1:  # the common case, without building a tuple
        return divisions if divisions[0].within(context) else ()
    return tuple(d for d in divisions if d.within(context))


_Search = tuple[Level, dict[str, tuple[Division, ...]], Mapping[str, tuple[int, ...]], bool]


@cache
def _search_plan() -> tuple[_Search, ...]:
    """The indexes :func:`locate` probes, in order of preference, each once for all calls.

    Each holds its level, its divisions by name (one-division tuples for
    provinces too), the key lengths by first character, and whether it is
    only searched after a city (district short forms in free text).
    """
    table = division_table()
    provinces: dict[str, tuple[Division, ...]] = {
        key: (division,) for key, division in table.provinces.items()
    }
    return (
        (Level.PROVINCE, provinces, table.key_lengths["provinces"], False),
        (Level.CITY, table.cities, table.key_lengths["cities"], False),
        (Level.DISTRICT, table.districts, table.key_lengths["districts"], False),
        (Level.DISTRICT, table.district_shorts, table.key_lengths["district_shorts"], True),
    )


def may_start_place(text: str) -> bool:
    """Whether some division's name (two characters or more) starts with ``text``'s first character.

    When none does, :func:`locate` finds nothing in ``text`` (``end`` 0).
    """
    first = text[:1]
    return any(first in lengths for _, _, lengths, _ in _search_plan())


@lru_cache(maxsize=65_536)
def locate(
    text: str,
    province: Division | None = None,
    city: Division | None = None,
    *,
    free_text: bool = True,
    pass_ambiguous: bool = False,
) -> Location:
    """Find the province, city and district named at the start of ``text``.

    ``text`` must be normalized (see :func:`~matching.standardize.text.normalize_text`).
    ``province`` and ``city`` are divisions already known from elsewhere; they
    narrow ambiguous names (朝阳区 in 北京 or 长春). Each step takes the longest
    name at the position (吉林市 the city over 吉林 the province) and stops at
    a name it cannot resolve. Short forms (深圳 for 深圳市) are accepted; in
    ``free_text`` a short form that begins a street name (中山路) is not a place,
    and a district needs its suffix (南山区) unless a city was named before it.
    With ``pass_ambiguous`` a name shared by several places is passed over
    (counted in ``end``) instead of stopping the search: a company name's
    leading 朝阳区 is a place even when it cannot tell which.
    """
    found: dict[Level, Division] = {}
    context = city or province
    pos = 0
    deepest = Level.PROVINCE - 1
    while len(found) < 3:
        with_shorts = Level.CITY in found or not free_text
        best: tuple[Level, tuple[Division, ...], int] | None = None
        for level, index, lengths, after_city in _search_plan():
            if level <= deepest or (after_city and not with_shorts):
                continue
            hit = _hit_at(text, pos, index, lengths, context, free_text=free_text)
            if hit is not None and (best is None or hit[1] > best[2]):
                best = (level, *hit)
        if best is None:
            break
        if len(best[1]) != 1:
            if pass_ambiguous:
                pos = best[2]
            break
        level, (division,), pos = best
        found[level] = division
        context = division
        # Levels are found in descending order of size: the last one is the deepest.
        deepest = level
    return Location(
        found.get(Level.PROVINCE), found.get(Level.CITY), found.get(Level.DISTRICT), pos
    )


@lru_cache(maxsize=4_096)
def lookup_division(name: str, level: Level, within: Division | None = None) -> Division | None:
    """The division of ``level`` called ``name`` (full, short or romanised form)."""
    table = division_table()
    index: dict[str, tuple[Division, ...]] | dict[str, Division] = table.districts
    if level is Level.PROVINCE:
        index = table.provinces
    elif level is Level.CITY:
        index = table.cities
    key = name
    if key not in index and level is not Level.DISTRICT:
        key = place_from_romanized(name.replace(" ", "")) or name
    found = index.get(key)
    if found is None and level is Level.DISTRICT:
        found = table.district_shorts.get(name)
    if found is None:
        return None
    candidates = found if isinstance(found, tuple) else (found,)
    fitting = [d for d in candidates if within is None or d.within(within)]
    return fitting[0] if len(fitting) == 1 else None


def place_from_romanized(word: str) -> str | None:
    """The province or city a romanised word names (``beijing`` → 北京), if unambiguous."""
    return division_table().romanized.get(word)


def is_romanized_place(word: str) -> bool:
    """Whether a romanised word names a province or city, even an ambiguous one."""
    return word in division_table().romanized
