"""Customer names taken apart for matching: region, trade name, industry, legal form, branch.

A Chinese organization name is region + trade name (字号) + industry term +
legal form, possibly followed by a branch designation; departments write the
region in front (北京X科技有限公司), in brackets (X科技(北京)有限公司) or leave it
out, and use traditional script, full-width characters or the English name.
These functions bring all of those spellings to the same parts so that the
trade name (and its pinyin) can be compared across departments and scripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from cleanco import prepare_default_terms
from cleanco.clean import normalized as cleanco_normalized
from cleanco.clean import strip_punct, strip_tail

from matching.record import PartyType
from matching.standardize.divisions import (
    Division,
    Level,
    division_table,
    is_romanized_place,
    locate,
    lookup_division,
    may_start_place,
    place_from_romanized,
)
from matching.standardize.text import has_han, normalize_text, romanize, romanize_syllables
from matching.types import Flag, Standardized, StandardName

__all__ = [
    "branch_key",
    "standardize_latin_name",
    "standardize_name",
    "standardize_org_name",
    "standardize_person_name",
]

_FIELD = "name"

# Longest first, so 集团有限公司 wins over 有限公司 and 有限公司 over 公司.
_LEGAL_FORMS = tuple(
    sorted(
        (
            "集团股份有限公司",
            "集团有限责任公司",
            "集团有限公司",
            "集团公司",
            "集团",
            "股份有限公司",
            "有限责任公司",
            "股份合作公司",
            "有限公司",
            "股份公司",
            "总公司",
            "公司",
            "合伙企业(有限合伙)",
            "合伙企业(普通合伙)",
            "合伙企业",
            "(有限合伙)",
            "(普通合伙)",
            "个人独资企业",
            "个体工商户",
            "专业合作社",
            "合作社",
            "事务所",
            "工作室",
            "经营部",
            "门市部",
            "商行",
            "总厂",
            "厂",
        ),
        key=len,
        reverse=True,
    )
)
_LEGAL_FORM_SET = frozenset(_LEGAL_FORMS)
_LEGAL_FORM_SIZES = tuple(sorted({len(form) for form in _LEGAL_FORMS}, reverse=True))
# Legal forms that can end the parent's name in front of a branch designation.
_PARENT_ENDINGS = tuple(form for form in _LEGAL_FORMS if form.endswith(("公司", "集团")))
# 厂 also occurs inside names (厂桥), so it only ends a parent that has no 公司 or 集团.
_FACTORY_ENDINGS = ("总厂", "厂")

_BRANCH_WORDS = (
    "分公司",
    "支公司",
    "办事处",
    "代表处",
    "营业部",
    "分理处",
    "分厂",
    "分店",
    "分行",
    "支行",
    "分部",
    "分所",
    "分社",
)
_ORDINAL = re.compile(r"第[一二三四五六七八九十百零〇\d]+$")
_TRAILING_BRACKET = re.compile(r"^(.*)\(([^()]*)\)$")
_BRACKETED = re.compile(r"\(([^()]*)\)")
_NAME_PUNCTUATION = re.compile(r"[\s()·\-,.&'/:;!?*#@+_=~|\\]+")

# One canonical English term per industry, for Chinese terms and English words alike.
_INDUSTRY_HAN: dict[str, str] = {
    **dict.fromkeys(("科技", "技术"), "technology"),
    "电子": "electronics",
    **dict.fromkeys(("贸易", "商贸", "经贸", "进出口"), "trading"),
    **dict.fromkeys(("物流", "供应链"), "logistics"),
    "机械": "machinery",
    **dict.fromkeys(("建设", "建筑", "建工"), "construction"),
    "工程": "engineering",
    **dict.fromkeys(("实业", "工业"), "industrial"),
    "投资": "investment",
    "食品": "food",
    **dict.fromkeys(("医药", "药业", "制药"), "pharmaceutical"),
    "汽车": "automotive",
    "化工": "chemical",
    "钢铁": "steel",
    **dict.fromkeys(("船舶", "造船"), "shipbuilding"),
    **dict.fromkeys(("家电", "电器"), "appliance"),
    "网络": "network",
    "信息": "information",
    "软件": "software",
    "咨询": "consulting",
    "服务": "services",
    "制造": "manufacturing",
    "设备": "equipment",
    "材料": "materials",
    "能源": "energy",
    "环保": "environmental",
    **dict.fromkeys(("发展", "开发"), "development"),
    "控股": "holding",
    "国际": "international",
    **dict.fromkeys(("通信", "通讯"), "communication"),
    "运输": "transport",
    "电气": "electric",
    "金属": "metal",
    "银行": "bank",
    "冶金": "metallurgy",
    "纺织": "textile",
    "包装": "packaging",
    "配件": "parts",
}
_INDUSTRY_LATIN: dict[str, str] = {
    **dict.fromkeys(("technology", "technologies", "tech", "technological"), "technology"),
    **dict.fromkeys(("electronics", "electronic"), "electronics"),
    **dict.fromkeys(("trading", "trade", "trades", "import", "export"), "trading"),
    "logistics": "logistics",
    **dict.fromkeys(("machinery", "machine", "machines"), "machinery"),
    "construction": "construction",
    "engineering": "engineering",
    **dict.fromkeys(("industrial", "industry", "industries"), "industrial"),
    **dict.fromkeys(("investment", "investments"), "investment"),
    **dict.fromkeys(("food", "foods"), "food"),
    **dict.fromkeys(
        ("pharmaceutical", "pharmaceuticals", "pharma", "pharmaceutics"), "pharmaceutical"
    ),
    **dict.fromkeys(("automotive", "auto", "automobile", "automobiles"), "automotive"),
    **dict.fromkeys(("chemical", "chemicals"), "chemical"),
    "steel": "steel",
    **dict.fromkeys(("shipbuilding", "shipyard"), "shipbuilding"),
    **dict.fromkeys(("appliance", "appliances"), "appliance"),
    **dict.fromkeys(("network", "networks", "networking"), "network"),
    **dict.fromkeys(("information", "info"), "information"),
    "software": "software",
    **dict.fromkeys(("consulting", "consultancy", "consultants"), "consulting"),
    **dict.fromkeys(("service", "services"), "services"),
    **dict.fromkeys(("manufacturing", "manufacture", "manufacturer"), "manufacturing"),
    "equipment": "equipment",
    **dict.fromkeys(("material", "materials"), "materials"),
    "energy": "energy",
    **dict.fromkeys(("environmental", "environment"), "environmental"),
    "development": "development",
    **dict.fromkeys(("holding", "holdings"), "holding"),
    **dict.fromkeys(("international", "intl"), "international"),
    **dict.fromkeys(("communication", "communications", "telecom"), "communication"),
    **dict.fromkeys(("transport", "transportation"), "transport"),
    **dict.fromkeys(("electric", "electrical"), "electric"),
    **dict.fromkeys(("metal", "metals"), "metal"),
    "bank": "bank",
    **dict.fromkeys(("metallurgy", "metallurgical"), "metallurgy"),
    **dict.fromkeys(("textile", "textiles"), "textile"),
    **dict.fromkeys(("packaging", "package", "packages"), "packaging"),
    "parts": "parts",
}
# Two-word English terms that name one Chinese industry term (环保, 电器).
_INDUSTRY_LATIN_PHRASES: dict[tuple[str, str], str] = {
    ("environmental", "protection"): "environmental",
    ("electric", "appliance"): "appliance",
    ("electric", "appliances"): "appliance",
    ("electrical", "appliance"): "appliance",
    ("electrical", "appliances"): "appliance",
}
# The lengths of the Chinese industry terms, longest first (a one-character term never counts).
_INDUSTRY_SIZES = tuple(
    sorted({len(term) for term in _INDUSTRY_HAN if len(term) > 1}, reverse=True)
)

# cleanco's legal terms, prepared once (it rebuilds them on every call otherwise).
_CLEANCO_TERMS = prepare_default_terms()
# Words cleanco does not know but that play the legal form's part in Chinese
# firms' English names (集团 → Group).
_LATIN_LEGAL_EXTRA = frozenset({"group", "company", "co", "corporation", "corp"})
_LATIN_BRANCH = re.compile(
    r"\s*\b(sub-?branch|branch(?: office)?|representative office|rep office|liaison office)$"
)
_CO_LTD = re.compile(r"\bco\.\s*ltd\b")

# Pypinyin reads a character as in common words; as a surname several read otherwise.
_SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "朴": "piao",
    "查": "zha",
    "乐": "yue",
    "盖": "ge",
    "覃": "qin",
    "翟": "zhai",
    "缪": "miao",
    "繁": "po",
    "种": "chong",
    "秘": "bi",
    "员": "yun",
    "召": "shao",
    "折": "she",
    "长孙": "zhangsun",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "单于": "chanyu",
}
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "夏侯",
        "轩辕",
        "令狐",
        "宇文",
        "司徒",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "万俟",
        "闻人",
        "澹台",
        "申屠",
        "钟离",
        "呼延",
        "单于",
    }
)
# The hundred most frequent surnames; their pinyin tells which word of a
# three-word romanised name ("Wang Xiao Ming") is the family name.
_COMMON_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
_PERSON_TITLES = ("先生", "女士", "小姐", "太太")
_LATIN_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "madam", "sir"})
_LATIN_WORD = re.compile(r"[a-z0-9]+")


def standardize_name(text: str, party_type: PartyType) -> Standardized[StandardName]:
    """The name standardizer that fits the party type (organization or person)."""
    if party_type is PartyType.PERSON:
        return standardize_person_name(text)
    return standardize_org_name(text)


@lru_cache(maxsize=65_536)
def standardize_org_name(text: str) -> Standardized[StandardName]:
    """An organization's name split into region, trade name, industry, legal form, branch.

    ``北京华为技术有限公司``, ``華為技術（北京）有限公司`` and
    ``Beijing Huawei Technologies Co., Ltd.`` all give region 北京, trade pinyin
    ``huawei`` and industry term ``technology``. A branch designation
    (…分公司, …办事处) goes to ``branch``, so a branch never equals its parent.
    """
    normalized = normalize_text(text)
    if not normalized:
        return _empty_name()
    if not has_han(normalized):
        return standardize_latin_name(text, PartyType.ORGANIZATION)
    return Standardized(_han_org_name(text, normalized))


@lru_cache(maxsize=65_536)
def standardize_person_name(text: str) -> Standardized[StandardName]:
    """A person's name with its pinyin, so that 王伟, 王偉 and "WEI WANG" meet.

    ``tokens`` are the sorted romanised parts (family name, given name) and
    ``pinyin`` joins them, so word order does not matter; homophones (张伟 and
    章伟) share their pinyin. Courtesy titles (王先生, Mr Wang) are removed and flagged.
    """
    normalized = normalize_text(text)
    if not normalized:
        return _empty_name()
    if not has_han(normalized):
        return standardize_latin_name(text, PartyType.PERSON)
    return _han_person_name(text, normalized)


@lru_cache(maxsize=65_536)
def standardize_latin_name(text: str, party_type: PartyType) -> Standardized[StandardName]:
    """An English or romanised name: legal forms via cleanco, places and industries mapped.

    Place words become Chinese regions (``beijing`` → 北京) and industry words a
    canonical term, so that the remaining trade words meet a Chinese name's pinyin.
    A name in Chinese script is handed to the Chinese standardizer.
    """
    normalized = normalize_text(text)
    if not normalized:
        return _empty_name()
    if has_han(normalized):
        return standardize_name(text, party_type)
    if party_type is PartyType.PERSON:
        return _latin_person_name(text, normalized)
    return Standardized(_latin_org_name(text, normalized))


def _empty_name() -> Standardized[StandardName]:
    return Standardized(None, (Flag(_FIELD, "empty", "the name has no letters or characters"),))


# --- Chinese organization names ---------------------------------------------------------


def _han_org_name(raw: str, normalized: str) -> StandardName:
    # Spaces inside a Chinese name are typing noise (华为 技术 = 华为技术).
    name = normalized.replace(" ", "")
    parent, branch = _split_branch(name)
    parent, bracket_region = _take_bracketed_region(parent)
    parent, legal_form = _split_legal_form(parent)
    parent, bracket_region_after = _take_bracketed_region(parent)
    parent, prefix_region = _take_prefix_region(parent)
    body, industry_terms = _split_industry(_strip_punctuation(parent))
    region = prefix_region or bracket_region or bracket_region_after
    if region is None:
        body, region = _take_suffix_region(body)
    industry_text = "".join(industry_terms)
    trade, core = body, body + industry_text
    if not trade:
        # A name made only of place, industry and legal form (北京汽车有限公司):
        # the industry term is then what names the firm.
        trade = core = industry_text or _strip_punctuation(parent) or region or name
    trade_pinyin = romanize(trade)
    canonical = _canonical_industry(_INDUSTRY_HAN[term] for term in industry_terms)
    return StandardName(
        raw=raw,
        normalized=normalized,
        core=core,
        trade=trade,
        # The industry term is one of a few dozen words: its pinyin is cached.
        pinyin=trade_pinyin + romanize(core[len(trade) :]),
        trade_pinyin=trade_pinyin,
        tokens=_org_tokens(trade_pinyin, canonical),
        industry_term=canonical,
        legal_form=legal_form,
        region=region,
        branch=branch,
    )


def _split_branch(name: str) -> tuple[str, str | None]:
    """Parent name and branch designation (北京华为技术有限公司 / 上海分公司)."""
    bracketed = _TRAILING_BRACKET.match(name) if ")" in name else None
    if bracketed is not None and bracketed.group(2).endswith(_BRANCH_WORDS):
        name = bracketed.group(1) + bracketed.group(2)
    if not name.endswith(_BRANCH_WORDS):  # most names: one test instead of a search
        return name, None
    word = next(w for w in _BRANCH_WORDS if name.endswith(w))
    head = name[: -len(word)]
    cut = _parent_end(head, _PARENT_ENDINGS) or _parent_end(head, _FACTORY_ENDINGS)
    if cut == 0:
        cut = _designation_start(head)
    return head[:cut], head[cut:] + word


# Offices that do business for their parent (办事处, representative office);
# every other designation is a branch (分公司, 分行, branch office).
_OFFICE_WORDS = ("办事处", "代表处")
_LATIN_OFFICE = re.compile(r"(representative|rep|liaison) office$")


def branch_key(branch: str) -> str:
    """A branch designation in either script: its place romanised, and its kind.

    ``上海分公司`` and ``shanghai branch`` give ``shanghai|branch``; ``西安办事处``
    and ``xian representative office`` give ``xian|office``: a branch's
    English name on a web form is the branch its Chinese name is.
    """
    if has_han(branch):
        word = next((w for w in _BRANCH_WORDS if branch.endswith(w)), None)
        if word is None:
            return branch
        kind = "office" if word in _OFFICE_WORDS else "branch"
        return f"{romanize(branch[: -len(word)])}|{kind}"
    match = _LATIN_BRANCH.search(branch)
    if match is None:
        return branch
    kind = "office" if _LATIN_OFFICE.search(match.group(1)) else "branch"
    return f"{_latin_key(branch[: match.start()])}|{kind}"


def _parent_end(head: str, endings: tuple[str, ...]) -> int:
    return max((head.rfind(form) + len(form) for form in endings if form in head), default=0)


def _designation_start(head: str) -> int:
    """Where a branch designation without a parent legal form begins (招商银行|深圳分行)."""
    ordinal = _ORDINAL.search(head)
    if ordinal is not None:
        return ordinal.start()
    for start in range(max(0, len(head) - 8), len(head) - 1):
        rest = head[start:]
        if start == 0 or not may_start_place(rest):
            continue  # no place can be read there: not worth a search
        if locate(rest, free_text=False).end == len(rest):
            return start
    return len(head)


def _take_bracketed_region(name: str) -> tuple[str, str | None]:
    """Remove every bracket group that only names a place; the first one is the region."""
    region: str | None = None

    def replace(match: re.Match[str]) -> str:
        nonlocal region
        place = _whole_place(match.group(1))
        if place is None:
            return match.group(0)
        region = region or place
        return ""

    return _BRACKETED.sub(replace, name), region


@lru_cache(maxsize=16_384)
def _whole_place(text: str) -> str | None:
    """The region named when ``text`` is nothing but place names (北京, 广东深圳, 海淀)."""
    if len(text) < 2:
        return None
    location = locate(text, free_text=False)
    return location.region_name if location.end == len(text) else None


def _split_legal_form(name: str) -> tuple[str, str | None]:
    # The longest form the name ends with (and is more than): one probe per length.
    for size in _LEGAL_FORM_SIZES:
        if size < len(name) and name[-size:] in _LEGAL_FORM_SET:
            return name[:-size], name[-size:]
    return name, None


def _take_prefix_region(name: str) -> tuple[str, str | None]:
    location = locate(name, pass_ambiguous=True)
    if location.end == 0:
        return name, None
    return name[location.end :], location.region_name


def _take_suffix_region(body: str) -> tuple[str, str | None]:
    """A province or city written after the trade name (华为北京 → 华为, 北京)."""
    for size in range(min(len(body) - 2, 8), 1, -1):
        place = body[-size:]
        if not _may_name_place(place):
            continue
        found = lookup_division(place, Level.CITY) or lookup_division(place, Level.PROVINCE)
        if found is not None and has_han(place):
            return body[:-size], _region_of(found)
    return body, None


def _may_name_place(text: str) -> bool:
    """Whether a city or province lookup of ``text`` can find anything (a cheap pre-check)."""
    table = division_table()
    return (
        text in table.cities or text in table.provinces or text.replace(" ", "") in table.romanized
    )


def _region_of(division: Division) -> str:
    return division.city or division.short


def _split_industry(body: str) -> tuple[str, tuple[str, ...]]:
    """Industry terms at the end of the name (电子科技 → 电子, 科技), in written order."""
    terms: list[str] = []
    while body and (term := _industry_suffix(body)) is not None:
        terms.append(term)
        body = body[: -len(term)]
    terms.reverse()
    return body, tuple(terms)


def _industry_suffix(body: str) -> str | None:
    """The longest industry term ``body`` ends with: one probe per term length."""
    for size in _INDUSTRY_SIZES:
        # Shorter than the term, the body is probed whole, as the shorter length would.
        term = body[-size:]
        if term in _INDUSTRY_HAN:
            return term
    return None


def _strip_punctuation(text: str) -> str:
    return _NAME_PUNCTUATION.sub("", text)


def _canonical_industry(terms: Iterable[str]) -> str | None:
    return " ".join(sorted(set(terms))) or None


def _org_tokens(trade_pinyin: str, industry_term: str | None) -> tuple[str, ...]:
    words = {trade_pinyin, *(industry_term.split() if industry_term else ())}
    return tuple(sorted(word for word in words if word))


# --- Chinese person names ------------------------------------------------------------


def _han_person_name(raw: str, normalized: str) -> Standardized[StandardName]:
    flags: list[Flag] = []
    name = normalized.replace(" ", "")
    for title in _PERSON_TITLES:
        if name.endswith(title) and len(name) > len(title):
            name = name[: -len(title)]
            flags.append(Flag(_FIELD, "title_removed", f"the courtesy title {title} was removed"))
            break
    if any(char.isdigit() for char in name):
        flags.append(Flag(_FIELD, "unexpected_characters", "a person's name contains digits"))
    # Minority names are written with a middle dot between their parts (阿依古丽·买买提).
    parts = [part for part in name.split("·") if part]
    core = "".join(parts)
    words = [romanize(part) for part in parts] if len(parts) > 1 else _family_and_given(core)
    tokens = tuple(sorted(word for word in words if word))
    pinyin = "".join(tokens)
    return Standardized(
        StandardName(
            raw=raw,
            normalized=normalized,
            core=core,
            trade=core,
            pinyin=pinyin,
            trade_pinyin=pinyin,
            tokens=tokens,
        ),
        tuple(flags),
    )


def _family_and_given(name: str) -> list[str]:
    """Pinyin of family name and given name, the family name read as a surname."""
    if not has_han(name[:1]):
        return list(romanize_syllables(name))
    size = 2 if name[:2] in _COMPOUND_SURNAMES else 1
    family, given = name[:size], name[size:]
    family_pinyin = _SURNAME_READINGS.get(family) or romanize(family)
    return [family_pinyin, romanize(given)]


# --- Latin-script names --------------------------------------------------------------


def _latin_words(text: str) -> list[str]:
    return _LATIN_WORD.findall(text.replace("'", "").replace("-", ""))


def _latin_org_name(raw: str, normalized: str) -> StandardName:
    name = normalized.replace("'", "")
    name, branch = _split_latin_branch(name)
    name, bracket_region = _take_latin_bracketed_region(name)
    name, legal_form = _split_latin_legal_form(name)
    words = _latin_words(name)
    words, prefix_region = _take_latin_prefix_region(words)
    region = prefix_region or bracket_region
    trade_words, industry_words = _split_latin_industry(words)
    canonical = _canonical_industry(_INDUSTRY_LATIN[word] for word in industry_words)
    if not trade_words:
        trade_words = industry_words or words or _latin_words(normalized)
    # Scripts without Latin letters (Cyrillic, Arabic ...) keep their normalized text.
    trade = " ".join(trade_words) or normalized
    core_words = trade_words + (
        canonical.split() if canonical and trade_words != industry_words else []
    )
    trade_pinyin = "".join(trade_words)
    return StandardName(
        raw=raw,
        normalized=normalized,
        core=" ".join(core_words),
        trade=trade,
        pinyin="".join(core_words),
        trade_pinyin=trade_pinyin,
        tokens=_org_tokens(trade_pinyin, canonical),
        industry_term=canonical,
        legal_form=legal_form,
        region=region,
        branch=branch,
        is_latin=True,
    )


def _split_latin_branch(name: str) -> tuple[str, str | None]:
    bracketed = _TRAILING_BRACKET.match(name)
    if bracketed is not None and _LATIN_BRANCH.search(bracketed.group(2)):
        name = f"{bracketed.group(1)} {bracketed.group(2)}"
    match = _LATIN_BRANCH.search(name)
    if match is None:
        return name, None
    head = name[: match.start()].rstrip(" ,.")
    designation = [match.group(1)]
    words = head.split(" ")
    # The place before "branch" belongs to the designation (Shanghai Branch).
    if len(words) > 1 and is_romanized_place(_latin_key(words[-1])):
        designation.insert(0, _latin_key(words[-1]))
        head = " ".join(words[:-1])
    return head, " ".join(designation)


def _latin_key(word: str) -> str:
    return "".join(_latin_words(word))


def _take_latin_bracketed_region(name: str) -> tuple[str, str | None]:
    region: str | None = None

    def replace(match: re.Match[str]) -> str:
        nonlocal region
        key = "".join(_latin_words(match.group(1)))
        if not is_romanized_place(key):
            return match.group(0)
        region = region or place_from_romanized(key)
        return " "

    return _BRACKETED.sub(replace, name), region


def _split_latin_legal_form(name: str) -> tuple[str, str | None]:
    """Strip legal terms from the end with cleanco until none is left (Co., Ltd.)."""
    spaced = _CO_LTD.sub("co., ltd", name).replace(",", ", ")
    base = spaced
    while True:
        words = base.split()
        if words and _latin_key(words[-1]) in _LATIN_LEGAL_EXTRA and len(words) > 1:
            shorter = " ".join(words[:-1])
        else:
            shorter = without_legal_suffix(base)
        shorter = shorter.strip(" ,.&")
        if shorter == base.strip(" ,.&") or not shorter:
            break
        base = shorter
    base = base.strip(" ,.&")
    removed = _latin_words(spaced)[len(_latin_words(base)) :]
    return base, " ".join(removed) or None


def without_legal_suffix(name: str) -> str:
    """``cleanco.clean.custom_basename(name, terms, suffix=True)`` with the default terms.

    cleanco compares the name's tail with each of its few hundred terms in
    turn, removing every one that matches the tail as it then is. The same
    walk, but each step looks the tail up among the terms instead of
    scanning them: the next term (in cleanco's order) that matches it.
    """
    name = strip_tail(name)
    parts = name.split()
    folded = [strip_punct(part) for part in cleanco_normalized(name).split()]
    index, sizes = _legal_term_index()
    start = 0
    while True:
        found: tuple[int, int] | None = None
        for size in sizes:
            if size > len(folded):
                break
            later = [i for i in index.get(tuple(folded[-size:]), ()) if i >= start]
            if later and (found is None or later[0] < found[0]):
                found = (later[0], size)
        if found is None:
            break
        position, size = found
        del folded[-size:]
        del parts[-size:]
        start = position + 1
    base: str = strip_tail(" ".join(parts))
    return base


@lru_cache(maxsize=1)
def _legal_term_index() -> tuple[dict[tuple[str, ...], tuple[int, ...]], tuple[int, ...]]:
    """cleanco's terms by their words, each with its positions in cleanco's order; their sizes.

    A term of no words would only match an empty name, where removing it
    changes nothing: it is left out.
    """
    index: dict[tuple[str, ...], list[int]] = {}
    for position, (size, words) in enumerate(_CLEANCO_TERMS):
        if size > 0:
            index.setdefault(tuple(words), []).append(position)
    sizes = sorted({size for size, _ in _CLEANCO_TERMS if size > 0})
    return {words: tuple(found) for words, found in index.items()}, tuple(sizes)


def _take_latin_prefix_region(words: list[str]) -> tuple[list[str], str | None]:
    """Leading place words (Beijing, Guangdong Shenzhen, Hong Kong) give the region."""
    size = _place_words_at_start(words)
    if size == 0:
        return words, None
    # An ambiguous romanisation (Suzhou: 苏州 or 宿州) is still a place: removed, no region.
    place = place_from_romanized("".join(words[:size]))
    words = words[size:]
    province = None if place is None else lookup_division(place, Level.PROVINCE)
    if province is None:
        return words, place
    size = _place_words_at_start(words)
    city_name = place_from_romanized("".join(words[:size])) if size else None
    city = None if city_name is None else lookup_division(city_name, Level.CITY, province)
    if city is None:
        return words, province.short
    return words[size:], _region_of(city)


def _place_words_at_start(words: list[str]) -> int:
    for size in (2, 1):
        if len(words) > size and is_romanized_place("".join(words[:size])):
            return size
    return 0


def _split_latin_industry(words: list[str]) -> tuple[list[str], list[str]]:
    """Trailing industry words split off; a two-word term becomes its one canonical word."""
    trade = list(words)
    industry: list[str] = []
    while trade:
        phrase = _INDUSTRY_LATIN_PHRASES.get((trade[-2], trade[-1])) if len(trade) > 1 else None
        if phrase is not None:
            del trade[-2:]
            industry.insert(0, phrase)
        elif trade[-1] in _INDUSTRY_LATIN:
            industry.insert(0, trade.pop())
        else:
            break
    return trade, industry


def _latin_person_name(raw: str, normalized: str) -> Standardized[StandardName]:
    flags: list[Flag] = []
    family, comma, given = normalized.partition(",")
    if comma and "," not in given and _latin_words(family) and _latin_words(given):
        # "Surname, Given" is the listing order: ``core`` keeps the given name first.
        normalized_order = f"{given} {family}"
    else:
        normalized_order = normalized.replace(",", " ")
    words = [word for word in _latin_words(normalized_order) if word]
    if words and words[0] in _LATIN_TITLES and len(words) > 1:
        flags.append(Flag(_FIELD, "title_removed", f"the courtesy title {words[0]} was removed"))
        words = words[1:]
    if any(char.isdigit() for word in words for char in word):
        flags.append(Flag(_FIELD, "unexpected_characters", "a person's name contains digits"))
    tokens = tuple(sorted(_romanised_family_and_given(words)))
    pinyin = "".join(tokens)
    core = " ".join(words) or normalized
    return Standardized(
        StandardName(
            raw=raw,
            normalized=normalized,
            core=core,
            trade=core,
            pinyin=pinyin,
            trade_pinyin=pinyin,
            tokens=tokens,
            is_latin=True,
        ),
        tuple(flags),
    )


@lru_cache(maxsize=1)
def _surname_pinyin() -> frozenset[str]:
    return frozenset(romanize(char) for char in _COMMON_SURNAMES)


def _romanised_family_and_given(words: list[str]) -> list[str]:
    """Join a given name written in syllables (Wang Xiao Ming → wang, xiaoming)."""
    if len(words) != 3:
        return words
    surnames = _surname_pinyin()
    first, last = words[0] in surnames, words[-1] in surnames
    if first and not last:
        return [words[0], words[1] + words[2]]
    if last and not first:
        return [words[2], words[0] + words[1]]
    return words
