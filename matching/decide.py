"""Decisions from match weights: ``auto`` (link), ``review`` or ``distinct``, with reasons.

Two thresholds on the match weight (log2 odds) split pairs into three
decisions. Hard constraints cap the decision whatever the score: two different
valid USCCs or resident ids are at most a ``review`` (a steward may spot a
valid-looking typo); a branch against its parent or another branch, and a
person against an organization, are always ``distinct``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from matching.compare import COMPARISONS, PARTIES, ComparisonVectors, Constraint
from matching.model import TF_COMPARISONS, Model, scoring_tables
from matching.record import PartyType

__all__ = [
    "ComparisonExplanation",
    "Contradictions",
    "Decision",
    "Explanation",
    "PairDecisions",
    "Rule",
    "ScoredPair",
    "Thresholds",
    "contradictions",
    "decide",
    "decide_pairs",
    "decide_pairs_ruled",
    "explain",
    "explain_many",
]


class Decision(StrEnum):
    """What to do with a scored pair."""

    AUTO = "auto"
    REVIEW = "review"
    DISTINCT = "distinct"


# Decisions as ordered integer codes, for arrays: a cap is a minimum.
DISTINCT_CODE, REVIEW_CODE, AUTO_CODE = 0, 1, 2
DECISIONS = (Decision.DISTINCT, Decision.REVIEW, Decision.AUTO)


class Rule(StrEnum):
    """A rule that decided a pair otherwise than its weight did (see :func:`decide_pairs`)."""

    UNRELATED_PERSON_NAMES = "unrelated_person_names"
    PERSON_NAMES_APART = "person_names_apart"
    RELATIVES = "relatives"
    GROUP_HOLDING = "group_holding"
    NAMESAKES = "namesakes"
    GROUP_COMPANIES = "group_companies"
    ORGANIZATION_NAME_FLOOR = "organization_name_floor"
    RARE_PERSON_NAME_FLOOR = "rare_person_name_floor"
    REFUSED_LINK = "refused_link"
    COMMON_SOUND = "common_sound"
    CORROBORATED_COMPANY = "corroborated_company"
    RARE_TRADE_NAME_FLOOR = "rare_trade_name_floor"
    NEIGHBOURS = "neighbours"
    SECONDED_TRADE_NAME = "seconded_trade_name"
    CONTRADICTED = "contradicted"

    @property
    def reason(self) -> str:
        """The rule in a sentence, for a steward."""
        return _REASONS[self]


_REASONS: dict[Rule, str] = {
    Rule.UNRELATED_PERSON_NAMES: (
        "persons with unrelated names are never linked automatically, whatever else they share"
    ),
    Rule.PERSON_NAMES_APART: (
        "person names one character apart with no mobile, e-mail, id or birth date in common"
        " may be relatives"
    ),
    Rule.RELATIVES: "relatives at one home, each with numbers of their own",
    Rule.GROUP_HOLDING: "a group holding and a company under it are two legal entities",
    Rule.NAMESAKES: ("one common name in one city and nothing of their own in common: namesakes"),
    Rule.GROUP_COMPANIES: "two companies of one group (one trade name, different businesses)",
    Rule.ORGANIZATION_NAME_FLOOR: (
        "the same company name with nothing against it: too weak to link, too likely to ignore"
    ),
    Rule.RARE_PERSON_NAME_FLOOR: (
        "the same rare person name (or its sound) with nothing against it: too weak to link,"
        " too likely to ignore"
    ),
    Rule.REFUSED_LINK: (
        "a link the clustering refused: it would join records a hard constraint separates"
    ),
    Rule.COMMON_SOUND: (
        "company names that only sound alike, a sound many companies share: two companies"
    ),
    Rule.CORROBORATED_COMPANY: (
        "one company name in one city, with the same industry or contact and nothing against"
    ),
    Rule.NEIGHBOURS: (
        "companies with unrelated names that share an address and nothing else are neighbours"
    ),
    Rule.SECONDED_TRADE_NAME: (
        "a trade name (or its sound) in one city that both file under one industry or mail"
        " domain, with nothing against it: too weak to link, too likely to ignore"
    ),
    Rule.CONTRADICTED: (
        "a record linked to one of them tells the other apart (another resident id, birth"
        " date, gender, city, USCC or industry): two customers"
    ),
    Rule.RARE_TRADE_NAME_FLOOR: (
        "a rare trade name (or its sound) in one city with nothing against it: too weak to link,"
        " too likely to ignore"
    ),
}
# Rules as codes for arrays: 0 is "decided by its weight" (and the hard constraints).
RULES: tuple[Rule | None, ...] = (None, *Rule)
NO_RULE = 0


def rule_code(rule: Rule) -> int:
    """The array code of ``rule`` (see :data:`RULES`)."""
    return RULES.index(rule)


_CAPS: tuple[tuple[Constraint, int], ...] = (
    (Constraint.DIFFERENT_USCC, REVIEW_CODE),
    (Constraint.DIFFERENT_NATIONAL_ID, REVIEW_CODE),
    (Constraint.BRANCH_MISMATCH, DISTINCT_CODE),
    (Constraint.PARTY_MISMATCH, DISTINCT_CODE),
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Match-weight thresholds: ``>= upper`` links, ``>= lower`` goes to review.

    ``lower``/``upper`` apply to organizations, and to persons unless
    ``person_lower``/``person_upper`` are given: person names collide far more
    than company names, so the two party types end up on different scales.
    """

    # Set on the project corpus (training seed 7 at 10k, 100k and 1M records;
    # the organization upper bound keeps a homophone short name plus a shared
    # city out of the auto-links): auto-link precision above 0.995, review
    # proposals touching under 10% of the records. Review starts near even
    # odds: a steward settles the pairs a model cannot. Persons start lower,
    # at about one in four: the pairs that another record of theirs
    # contradicts no longer take review places (see ``_contradicted``), and
    # those places go to the weaker person pairs (seed 11: from -1.5 to -0.5,
    # one proposal in six was true at 100k records, one in four at 1M).
    lower: float = 0.5
    upper: float = 6.5
    person_lower: float | None = -1.5
    person_upper: float | None = 4.5
    # Namesakes (王伟 ×3 in one city) share a name and a city and nothing of
    # their own: such a pair goes to review only from this weight on, where
    # the name is rare enough to make it likely. Namesakes that a linked
    # record tells apart (another birth date, another resident id) leave
    # review first (see ``_contradicted``): seed 11, from -0.5 to 0.5 one
    # remaining proposal in four was true at 100k records, one in five at 1M
    # (one in ten before).
    namesake_lower: float = -0.5
    # Two person records of one name (or one sound: a homophone typo) that at
    # most this many records hold, with nothing against them, go to review
    # whatever their weight: a person with two mobiles gives one department
    # each. Set on seed 11 (10k and 100k records, checked on seed 7): from
    # three to five holders recall with review still rose a point per 0.1%
    # of records in review; a common name (王伟) stays a namesake's.
    rare_name_holders: int = 5
    # Company names that only sound alike, a sound more than this many
    # records hold, are two companies (see ``_common_sound``). Set on seed 11
    # at 1M records: up to 20 holders, two such proposals in five were true;
    # beyond 100, one in sixteen.
    common_sound_holders: int = 20
    # Company names that sound alike, a sound no more records hold than
    # this, are one name typed twice, never two companies of one brand
    # (seed 11 at 100k records: 23 such pairs in 31 were one company). Two
    # is all a pair holds: term frequencies that keep only common values
    # (the shipped model's) count a rare one as a few more, and then say
    # nothing here (beyond two holders, one such pair in four was true).
    typo_sound_holders: int = 2
    # A romanised company name (Jiashun Trading / 嘉顺贸易) held by more
    # records than this goes to review on the name alone only with a second
    # agreement (see ``_organization_floor``): as many as a blocking key may
    # hold (``DEFAULT_MAX_BLOCK_SIZE``), since a sound too common to block on
    # is too common to ask a steward about alone (seed 11 at 1M records).
    common_romanisation_holders: int = 40
    # The same company name that more records hold than this goes to review
    # on the name alone only with a second agreement (see
    # ``_organization_floor``). Seed 11 at 1M records: such floored pairs
    # were one company more often than not up to three holders, one time in
    # four from six to eight and one in seven beyond; the review proposals
    # they cost find more elsewhere (see ``_seconded_trade_name``).
    common_name_holders: int = 7
    # Two person names that sound alike in one city, one record with a
    # landline and the other with a mobile, go to review up to this many
    # holders of the sound (see ``_person_floor``; seed 11 at 100k records:
    # from six to twenty holders, 40 such pairs in 55 were one person).
    sound_in_city_holders: int = 20
    # A trade name in one city (or unplaced) that both records file under
    # one stated industry goes to review up to this many holders (see
    # ``_rare_trade_name``; seed 11 at 100k records: from six to ten
    # holders, 15 such pairs in 22 were one company).
    industry_trade_name_holders: int = 10

    def __post_init__(self) -> None:
        if not math.isfinite(self.namesake_lower):
            raise ValueError("thresholds must be finite numbers")
        for field, holders in (
            ("rare_name_holders", self.rare_name_holders),
            ("common_sound_holders", self.common_sound_holders),
            ("typo_sound_holders", self.typo_sound_holders),
            ("common_romanisation_holders", self.common_romanisation_holders),
            ("common_name_holders", self.common_name_holders),
            ("sound_in_city_holders", self.sound_in_city_holders),
            ("industry_trade_name_holders", self.industry_trade_name_holders),
        ):
            if holders < 0:
                raise ValueError(f"{field} must not be negative, got {holders}")
        for lower, upper in (self.bounds(PartyType.ORGANIZATION), self.bounds(PartyType.PERSON)):
            if not (math.isfinite(lower) and math.isfinite(upper)):
                raise ValueError("thresholds must be finite numbers")
            if lower >= upper:
                raise ValueError(
                    f"lower threshold ({lower}) must be below upper threshold ({upper})"
                )

    def bounds(self, party: PartyType) -> tuple[float, float]:
        """(lower, upper) for ``party``."""
        if party is PartyType.PERSON:
            lower = self.lower if self.person_lower is None else self.person_lower
            upper = self.upper if self.person_upper is None else self.person_upper
            return lower, upper
        return self.lower, self.upper


def decide(
    weights: npt.NDArray[np.float64],
    constraints: npt.NDArray[np.uint8],
    thresholds: Thresholds,
    party: npt.NDArray[np.int8] | None = None,
) -> npt.NDArray[np.int8]:
    """Decision codes (0 distinct, 1 review, 2 auto) per pair, constraints applied.

    ``party`` (party codes per pair) selects each pair's thresholds; without
    it the organization thresholds apply to all.
    """
    # Float arrays whatever the thresholds were written as (an int would
    # truncate a person bound of 4.5 to 4).
    lower = np.full(len(weights), thresholds.lower, dtype=np.float64)
    upper = np.full(len(weights), thresholds.upper, dtype=np.float64)
    if party is not None:
        persons = party == PARTIES.index(PartyType.PERSON)
        lower[persons], upper[persons] = thresholds.bounds(PartyType.PERSON)
    codes = np.where(
        weights >= upper, AUTO_CODE, np.where(weights >= lower, REVIEW_CODE, DISTINCT_CODE)
    ).astype(np.int8)
    for constraint, cap in _CAPS:
        bound = (constraints & constraint.value) != 0
        codes[bound] = np.minimum(codes[bound], cap)
    return codes


_NAME = [c.name for c in COMPARISONS].index("name")
_NAME_DIFFERENT = COMPARISONS[_NAME].levels.index("different")
_GIVEN = [c.name for c in COMPARISONS].index("given_name")
_SURNAME = [c.name for c in COMPARISONS].index("surname")
_PART_DIFFERENT = COMPARISONS[_GIVEN].levels.index("different")
_IDENTIFIERS = [c.name for c in COMPARISONS].index("identifiers")
_SHARED = COMPARISONS[_IDENTIFIERS].levels.index("shared")
_BIRTH = [c.name for c in COMPARISONS].index("birth_date")
_BIRTH_SAME = COMPARISONS[_BIRTH].levels.index("same")
_NAME_SIMILAR = COMPARISONS[_NAME].levels.index("similar")
_NAME_CLOSE = COMPARISONS[_NAME].levels.index("close")
_PHONES = [c.name for c in COMPARISONS].index("phones")
_SHARED_MOBILE = COMPARISONS[_PHONES].levels.index("shared_mobile")
_PHONES_DIFFERENT = COMPARISONS[_PHONES].levels.index("different")
_HOUSEHOLD_LINE = COMPARISONS[_PHONES].levels.index("shared_switchboard")
_ADDRESS = [c.name for c in COMPARISONS].index("address")
_LEGAL_FORM = [c.name for c in COMPARISONS].index("legal_form")
_GROUP_MISMATCH = COMPARISONS[_LEGAL_FORM].levels.index("group_mismatch")
_SAME_DETAIL = COMPARISONS[_ADDRESS].levels.index("same_detail")
_EMAILS = [c.name for c in COMPARISONS].index("emails")
_EMAIL_SHARED = COMPARISONS[_EMAILS].levels.index("shared")
_EMAILS_DIFFERENT = COMPARISONS[_EMAILS].levels.index("different")
_NATIONAL_ID = [c.name for c in COMPARISONS].index("national_id")
_ID_SAME = COMPARISONS[_NATIONAL_ID].levels.index("same")
_NAME_EXACT = COMPARISONS[_NAME].levels.index("exact")
_NAME_ROMANISED = COMPARISONS[_NAME].levels.index("romanised_equal")
_NAME_TRADE = COMPARISONS[_NAME].levels.index("trade_equal")
_NAME_HOMOPHONE = COMPARISONS[_NAME].levels.index("homophone")
_SHARED_PHONE = tuple(
    COMPARISONS[_PHONES].levels.index(level)
    for level in ("shared_switchboard", "shared_landline", "shared_mobile")
)
_NO_NUMBER_IN_COMMON = tuple(
    COMPARISONS[_PHONES].levels.index(level) for level in ("missing", "other_kinds")
)
_SAME_CITY = COMPARISONS[_ADDRESS].levels.index("same_city")
_ADDRESS_MISSING = COMPARISONS[_ADDRESS].levels.index("missing")
_DIFFERENT_CITY = COMPARISONS[_ADDRESS].levels.index("different_city")
_DIFFERENT_STREET = COMPARISONS[_ADDRESS].levels.index("different_street")
# Levels that speak against an organization pair whose names agree. Each is
# the "different" level of its comparison, or a legal-entity mismatch.
_AGAINST: tuple[tuple[int, int], ...] = tuple(
    (column, COMPARISONS[column].levels.index(level))
    for column, level in (
        ([c.name for c in COMPARISONS].index(name), level)
        for name, level in (
            ("name_region", "different"),
            ("legal_form", "different"),
            ("legal_form", "group_mismatch"),
            ("branch", "branch_mismatch"),
            ("uscc", "different"),
            ("emails", "different"),
            ("contact", "different"),
            ("industry", "different"),
        )
    )
)
# Levels that speak against a person pair whose names agree.
_PERSON_AGAINST: tuple[tuple[int, int], ...] = tuple(
    (
        [c.name for c in COMPARISONS].index(name),
        COMPARISONS[[c.name for c in COMPARISONS].index(name)].levels.index(level),
    )
    for name, level in (
        ("national_id", "different"),
        ("birth_date", "different"),
        ("gender", "different"),
        ("emails", "different"),
        ("identifiers", "different"),
    )
)
_CONTACT = [c.name for c in COMPARISONS].index("contact")
_CONTACT_DIFFERENT = COMPARISONS[_CONTACT].levels.index("different")
_CONTACT_SAME = COMPARISONS[_CONTACT].levels.index("same")
_INDUSTRY = [c.name for c in COMPARISONS].index("industry")
_INDUSTRY_DIFFERENT = COMPARISONS[_INDUSTRY].levels.index("different")
_INDUSTRY_SAME = COMPARISONS[_INDUSTRY].levels.index("same")
_NAME_REGION = [c.name for c in COMPARISONS].index("name_region")
_REGION_SAME = COMPARISONS[_NAME_REGION].levels.index("same")
_LEGAL_SAME = COMPARISONS[_LEGAL_FORM].levels.index("same")
_USCC = [c.name for c in COMPARISONS].index("uscc")
_USCC_SAME = COMPARISONS[_USCC].levels.index("same")
_NO_FLOOR = Constraint.BRANCH_MISMATCH | Constraint.PARTY_MISMATCH
_ONE_DIGIT_APART = COMPARISONS[_PHONES].levels.index("one_digit_apart")
_OTHER_KINDS = COMPARISONS[_PHONES].levels.index("other_kinds")
_SHARED_LANDLINE = COMPARISONS[_PHONES].levels.index("shared_landline")
_SIMILAR_DETAIL = COMPARISONS[_ADDRESS].levels.index("similar_detail")
_BRANCH = [c.name for c in COMPARISONS].index("branch")
_SAME_BRANCH = COMPARISONS[_BRANCH].levels.index("same_branch")
_IDENTIFIERS_DIFFERENT = COMPARISONS[_IDENTIFIERS].levels.index("different")
_GENDER = [c.name for c in COMPARISONS].index("gender")
# What a customer has only one of, so that two records of one customer do
# not disagree on it (a mistyped date is a slip, the ``partial`` level): a
# person's resident id, birth date and gender, a company's USCC, industry and
# branch, and the city of either. Left out is what one customer may keep
# several of, whatever a corpus shows: a person's mobiles and mailboxes
# (work and private), a company's mailboxes, contacts and legal-form
# spellings (seed 11 at 100k records: each of these "disagreed" between
# clusters of one company), and a street line, which departments write with
# or without the road.
_CONTRADICTIONS: dict[PartyType, tuple[tuple[int, int], ...]] = {
    PartyType.PERSON: (
        (_NATIONAL_ID, COMPARISONS[_NATIONAL_ID].levels.index("different")),
        (_BIRTH, COMPARISONS[_BIRTH].levels.index("different")),
        (_GENDER, COMPARISONS[_GENDER].levels.index("different")),
        (_IDENTIFIERS, _IDENTIFIERS_DIFFERENT),
        (_ADDRESS, _DIFFERENT_CITY),
    ),
    PartyType.ORGANIZATION: (
        (_USCC, COMPARISONS[_USCC].levels.index("different")),
        (_INDUSTRY, _INDUSTRY_DIFFERENT),
        (_BRANCH, COMPARISONS[_BRANCH].levels.index("branch_mismatch")),
        (_ADDRESS, _DIFFERENT_CITY),
    ),
}


def decide_pairs(
    weights: npt.NDArray[np.float64], vectors: ComparisonVectors, thresholds: Thresholds
) -> npt.NDArray[np.int8]:
    """The decision codes of :func:`decide_pairs_ruled`."""
    return decide_pairs_ruled(weights, vectors, thresholds).codes


@dataclass(frozen=True, slots=True, eq=False)
class PairDecisions:
    """Decision codes per pair, and the rule that set each (a :data:`RULES` code, 0: none)."""

    codes: npt.NDArray[np.int8]
    rules: npt.NDArray[np.int8]

    def apply(self, where: npt.NDArray[np.bool_], code: int, rule: Rule) -> None:
        """Decide ``code`` where ``where`` holds, naming ``rule`` where that changes a decision."""
        changed = where & (self.codes != code)
        self.codes[changed] = code
        self.rules[changed] = rule_code(rule)

    def cap(self, where: npt.NDArray[np.bool_], code: int, rule: Rule) -> None:
        """At most ``code`` where ``where`` holds."""
        self.apply(where & (self.codes > code), code, rule)

    def floor(self, where: npt.NDArray[np.bool_], code: int, rule: Rule) -> None:
        """At least ``code`` where ``where`` holds."""
        self.apply(where & (self.codes < code), code, rule)


def decide_pairs_ruled(
    weights: npt.NDArray[np.float64], vectors: ComparisonVectors, thresholds: Thresholds
) -> PairDecisions:
    """:func:`decide` for compared pairs, with the rules that read the levels.

    A person is their name: two person records with unrelated names (not a
    homophone, romanisation or close spelling; for Latin-script names,
    neither part similar) go to a steward at most, whatever else they share:
    relatives share an address, a landline, even an e-mail box. Only a shared
    identifier of another scheme (passport, social security number) together
    with the same birth date lifts the cap. Names one character apart
    (similar or close, not a homophone) are capped the same way unless the
    pair shares what relatives do not: a mobile, an e-mail box, a resident id
    or a birth date.
    At one home, each with numbers of their own, both kinds of pair are
    relatives (distinct); so are a group holding and a company under it,
    and companies of one group (see ``_group_companies``). Namesakes, one
    name in one city and nothing of their own, need ``namesake_lower``.
    Organizations whose names agree with nothing against them go to review
    whatever their weight (see ``_organization_floor``), and so do persons
    of one rare name (see ``_person_floor``) and organizations of one rare
    trade name in one city (see ``_rare_trade_name``). Last, a review pair
    between two groups of auto-linked records that another pair of the two
    tells apart is distinct (see ``_contradicted``).

    Each pair a rule decided otherwise than its weight carries that rule
    (the last one to change its decision).
    """
    decided = PairDecisions(
        codes=decide(weights, vectors.constraints, thresholds, vectors.party),
        rules=np.zeros(len(weights), dtype=np.int8),
    )
    # Latin-script names are compared part by part: neither part even similar.
    given, surname = vectors.levels[:, _GIVEN], vectors.levels[:, _SURNAME]
    unrelated_parts = (np.maximum(given, surname) == _PART_DIFFERENT) | (
        (given == _PART_DIFFERENT) & (surname == 0)
    )
    # Relatives share no passport or social security number and birth date:
    # with both agreeing, a different name is a changed or mangled one.
    identified = (vectors.levels[:, _IDENTIFIERS] == _SHARED) & (
        vectors.levels[:, _BIRTH] == _BIRTH_SAME
    )
    persons = vectors.party == PARTIES.index(PartyType.PERSON)
    unrelated = persons & ((vectors.levels[:, _NAME] == _NAME_DIFFERENT) | unrelated_parts)
    decided.cap(unrelated & ~identified, REVIEW_CODE, Rule.UNRELATED_PERSON_NAMES)
    # Names one character apart at one address are siblings as often as a
    # typo (黄磊鹏 / 黄磊勇): only what relatives do not share (a mobile, an
    # e-mail box, a resident id, a birth date) makes them one person.
    own = (
        identified
        | (vectors.levels[:, _PHONES] == _SHARED_MOBILE)
        | (vectors.levels[:, _EMAILS] == _EMAIL_SHARED)
        | (vectors.levels[:, _NATIONAL_ID] == _ID_SAME)
        | (vectors.levels[:, _BIRTH] == _BIRTH_SAME)
    )
    spelt_apart = (vectors.levels[:, _NAME] == _NAME_SIMILAR) | (
        vectors.levels[:, _NAME] == _NAME_CLOSE
    )
    kin = persons & spelt_apart & ~own
    decided.cap(kin, REVIEW_CODE, Rule.PERSON_NAMES_APART)
    # At one home (the same flat, or a household line) with numbers of their
    # own that differ, names one character apart or unrelated are siblings
    # and relatives: nothing for a steward to decide. At the same flat, with
    # nothing of their own in common, no number in common is enough: one
    # kept the home landline, the other a mobile, or neither a number (seed
    # 11 at 100k records: none of 45 such review proposals was true).
    phones = vectors.levels[:, _PHONES]
    flat = vectors.levels[:, _ADDRESS] == _SAME_DETAIL
    household = flat | (phones == _HOUSEHOLD_LINE)
    own_numbers = (phones == _PHONES_DIFFERENT) | (phones == _HOUSEHOLD_LINE)
    no_number_in_common = own_numbers | _any_of(phones, _NO_NUMBER_IN_COMMON)
    relatives = ((kin | (unrelated & ~identified)) & household & own_numbers) | (
        (kin | unrelated) & ~own & flat & no_number_in_common
    )
    decided.apply(relatives, DISTINCT_CODE, Rule.RELATIVES)
    # A group holding and a company under it, both with their legal forms
    # (X集团有限公司 / X科技有限公司), are two legal entities.
    decided.apply(
        vectors.levels[:, _LEGAL_FORM] == _GROUP_MISMATCH, DISTINCT_CODE, Rule.GROUP_HOLDING
    )
    names_agree = (vectors.levels[:, _NAME] == _NAME_EXACT) | (
        vectors.levels[:, _NAME] == _NAME_ROMANISED
    )
    # A submission's candidates are all of its party: the other party's
    # rules are skipped, not run on no pairs (each costs microseconds).
    if persons.any():
        # Namesakes: one name in one city, each with a number of their own
        # that differs, and no e-mail, id or birth date in common. Below
        # ``namesake_lower`` the name is too common to ask. A mobile against
        # the home landline, or no number at all, is no such sign: one
        # department keeps the one, another the other (seed 11 at 100k
        # records: three such proposals in five were true).
        namesakes = (
            persons
            & names_agree
            & (vectors.levels[:, _ADDRESS] >= _SAME_CITY)
            & (vectors.levels[:, _ADDRESS] != _DIFFERENT_STREET)
            & ~_any_of(phones, _SHARED_PHONE)
            & ~own
            & (weights < thresholds.namesake_lower)
            & (phones == _PHONES_DIFFERENT)
        )
        decided.apply(namesakes, DISTINCT_CODE, Rule.NAMESAKES)
        floor = _person_floor(vectors, thresholds)
        decided.floor(floor, REVIEW_CODE, Rule.RARE_PERSON_NAME_FLOOR)
    if not persons.all():
        group = _group_companies(vectors, thresholds.typo_sound_holders)
        decided.apply(_neighbours(vectors), DISTINCT_CODE, Rule.NEIGHBOURS)
        # What one company keeps (one flat, its own line, one contact, one
        # branch) leaves the question to a steward.
        kept_alike = group & _kept_alike(vectors.levels)
        decided.apply(group & ~kept_alike, DISTINCT_CODE, Rule.GROUP_COMPANIES)
        decided.cap(kept_alike, REVIEW_CODE, Rule.GROUP_COMPANIES)
        floor = _organization_floor(vectors, names_agree, thresholds)
        decided.floor(floor, REVIEW_CODE, Rule.ORGANIZATION_NAME_FLOOR)
        in_review = decided.codes == REVIEW_CODE
        common = _common_sound(vectors, thresholds.common_sound_holders)
        decided.apply(in_review & common, DISTINCT_CODE, Rule.COMMON_SOUND)
        corroborated = _corroborated_company(vectors)
        decided.apply(in_review & corroborated, AUTO_CODE, Rule.CORROBORATED_COMPANY)
        # Last: the floor lifts no pair out of another rule's decision, nor
        # two companies of one group that the weight alone kept distinct.
        rare_trade = _rare_trade_name(vectors, thresholds) & ~group
        floor_only = rare_trade & (decided.rules == NO_RULE)
        decided.floor(floor_only, REVIEW_CODE, Rule.RARE_TRADE_NAME_FLOOR)
        seconded = _seconded_trade_name(vectors) & ~group & (decided.rules == NO_RULE)
        decided.floor(seconded, REVIEW_CODE, Rule.SECONDED_TRADE_NAME)
    # Last, over all pairs at once: a review pair between two customers that
    # another pair of theirs tells apart, unless the pair shares a number,
    # mailbox or identifier of its own (a steward weighs that against the rest).
    told = contradictions(vectors)
    asked = (decided.codes == REVIEW_CODE) & ~told.own
    contradicted = _contradicted(vectors, told.disagree, decided.codes, asked)
    decided.apply(contradicted, DISTINCT_CODE, Rule.CONTRADICTED)
    return decided


@dataclass(frozen=True, slots=True)
class Contradictions:
    """What :data:`Rule.CONTRADICTED` reads of each pair.

    ``disagree``: the two records disagree on what a customer has only one of
    (see ``_CONTRADICTIONS``); ``own``: they share a number, a mailbox or an
    identifier, evidence of their own that no other record's disagreement
    outweighs. A caller that scores one record against the members of known
    customers applies the rule itself: a review pair without evidence of its
    own is distinct when another member of that customer disagrees with the
    record.
    """

    disagree: npt.NDArray[np.bool_]
    own: npt.NDArray[np.bool_]


def contradictions(vectors: ComparisonVectors) -> Contradictions:
    """The :class:`Contradictions` of each pair of ``vectors``."""
    return Contradictions(disagree=_disagreeing(vectors), own=_shares_own(vectors.levels))


def _contradicted(
    vectors: ComparisonVectors,
    disagreeing: npt.NDArray[np.bool_],
    codes: npt.NDArray[np.int8],
    asked: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """The ``asked`` pairs whose two groups of linked records another pair tells apart.

    The records that auto-links join are one customer: when any record of
    one group disagrees with any record of the other on what a customer has
    only one of (a resident id, a birth date, a city, a USCC, an industry;
    see ``_CONTRADICTIONS``), a pair between them that only a name and a
    city hold together (a department's record with little else) is two
    customers, however alike its own two records look: 王强 at the call
    centre is not the 王强 whose finance record, linked to his, says another
    birth date. A pair's own disagreement is weighed in its own weight and
    does not count here. Seed 11 at 100k records (the thresholds as they
    were): review proposals fell from 5,385 to 5,031 (records in review from
    9.2% to 8.7%), and not one true pair was lost; at 1M, from 9.9% to 9.1%
    of the records, 31 true pairs in 31,000 missed ones lost.
    """
    contradicted = np.zeros(len(codes), dtype=np.bool_)
    rows = np.flatnonzero(asked)
    if len(rows) == 0:
        return contradicted
    groups = _linked_groups(vectors, codes == AUTO_CODE)
    # Only disagreements between two groups that an asked pair joins count.
    asked_groups = np.zeros(len(groups), dtype=np.bool_)
    asked_groups[groups[vectors.left[rows]]] = True
    asked_groups[groups[vectors.right[rows]]] = True
    against = np.flatnonzero(disagreeing)
    a, b = groups[vectors.left[against]], groups[vectors.right[against]]
    against = against[asked_groups[a] & asked_groups[b] & (a != b)]
    if len(against) == 0:
        return contradicted
    span = np.int64(groups.max() + 1)
    found, counts = np.unique(_group_pair(vectors, groups, against, span), return_counts=True)
    keys = _group_pair(vectors, groups, rows, span)
    pos = np.minimum(np.searchsorted(found, keys), len(found) - 1)
    # Another pair than this one: a pair's own disagreement is in its weight.
    others = np.where(found[pos] == keys, counts[pos], 0) - disagreeing[rows]
    contradicted[rows[others > 0]] = True
    return contradicted


def _group_pair(
    vectors: ComparisonVectors,
    groups: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    span: np.int64,
) -> npt.NDArray[np.int64]:
    """One number per pair of groups (either order) for each pair at ``rows``."""
    a, b = groups[vectors.left[rows]], groups[vectors.right[rows]]
    key: npt.NDArray[np.int64] = np.minimum(a, b) * span + np.maximum(a, b)
    return key


def _shares_own(levels: npt.NDArray[np.int8]) -> npt.NDArray[np.bool_]:
    """Pairs that share a number, a mailbox or an identifier: evidence of their own."""
    shared: npt.NDArray[np.bool_] = (
        _any_of(levels[:, _PHONES], (*_SHARED_PHONE, _ONE_DIGIT_APART))
        | (levels[:, _EMAILS] == _EMAIL_SHARED)
        | (levels[:, _USCC] == _USCC_SAME)
        | (levels[:, _NATIONAL_ID] == _ID_SAME)
        | (levels[:, _IDENTIFIERS] > _IDENTIFIERS_DIFFERENT)
    )
    return shared


def _linked_groups(
    vectors: ComparisonVectors, linked: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """The connected component (its smallest record) of each record over the ``linked`` pairs."""
    n = int(max(vectors.left.max(initial=-1), vectors.right.max(initial=-1))) + 1
    groups = np.arange(n, dtype=np.int64)
    left, right = vectors.left[linked], vectors.right[linked]
    while len(left):
        low = np.minimum(groups[left], groups[right])
        before = groups.copy()
        np.minimum.at(groups, left, low)
        np.minimum.at(groups, right, low)
        groups = groups[groups]  # each record to its group's current root
        if np.array_equal(groups, before):
            break
    return groups


def _disagreeing(vectors: ComparisonVectors) -> npt.NDArray[np.bool_]:
    """Pairs that disagree on something a customer has only one of (see ``_CONTRADICTIONS``)."""
    levels = vectors.levels
    found = np.zeros(len(levels), dtype=np.bool_)
    for party, pairs in _CONTRADICTIONS.items():
        of_party = vectors.party == PARTIES.index(party)
        for column, level in pairs:
            found |= of_party & (levels[:, column] == level)
    return found


def _person_floor(vectors: ComparisonVectors, thresholds: Thresholds) -> npt.NDArray[np.bool_]:
    """Person pairs a steward should see whatever their weight.

    The same name, or two spellings of one sound (a call centre's homophone
    typo, or a web form's pinyin: 郑宏江 / Hongjiang Zheng, seed 11 at 100k
    records: 51 such proposals in 76 were true), held by at most
    ``rare_name_holders`` records (of the sound), and nothing against:
    no other resident id, birth date, gender, city, street, e-mail box or
    identifier, nor numbers of one kind that differ outside one city. A
    person with two mobiles gives one to each department, a department may
    know the home landline only, and one that keeps no birth date leaves
    little but the name: a rare name is then likely the same person, a
    common one is not. Two spellings of one sound in one city, one with a
    landline and the other with a mobile, are likely up to
    ``sound_in_city_holders``; a number one digit apart is one number
    mistyped, however common the name (seed 11 at 1M records: 64 such
    pairs, all one person).
    """
    levels = vectors.levels
    against = _spoken_against(levels, _PERSON_AGAINST)
    # Each with a number of their own that differs and no city in common, a
    # rare name is still a namesake more often than not (seed 11 at 100k
    # records: one such proposal in six was true).
    against |= (levels[:, _PHONES] == _PHONES_DIFFERENT) & (levels[:, _ADDRESS] < _SAME_CITY)
    shared_name = _any_of(levels[:, _NAME], (_NAME_EXACT, _NAME_HOMOPHONE, _NAME_ROMANISED))
    held = vectors.name_holders > 0
    rare = shared_name & held & (vectors.name_holders <= thresholds.rare_name_holders)
    sound_in_city = (
        (levels[:, _NAME] == _NAME_HOMOPHONE)
        & (levels[:, _ADDRESS] >= _SAME_CITY)
        & (levels[:, _PHONES] == _OTHER_KINDS)
        & held
        & (vectors.name_holders <= thresholds.sound_in_city_holders)
    )
    mistyped = shared_name & (levels[:, _PHONES] == _ONE_DIGIT_APART)
    floor: npt.NDArray[np.bool_] = (
        (vectors.party == PARTIES.index(PartyType.PERSON))
        & (rare | sound_in_city | mistyped)
        & ~against
        & ((vectors.constraints & _NO_FLOOR.value) == 0)
    )
    return floor


def _any_of(column: npt.NDArray[np.int8], levels: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """Where ``column`` holds one of ``levels`` (np.isin costs more on a few pairs)."""
    found: npt.NDArray[np.bool_] = column == levels[0]
    for level in levels[1:]:
        found |= column == level
    return found


def _group_companies(vectors: ComparisonVectors, typo_sound_holders: int) -> npt.NDArray[np.bool_]:
    """Organization pairs that are two companies of one name, not one company.

    Companies of one group share a trade name in one city (辉宝冶金 /
    辉宝科技): two different stated industries make them two companies, and
    so do names that only share the trade name or sound alike together with
    numbers of the same kind that differ, another contact person or e-mail
    boxes of other domains, unless both name one industry or the legal names
    only sound alike (on the project corpus three in four such review
    proposals were false; with other mail domains, one in a thousand was true).
    Names that sound alike, a sound at most ``typo_sound_holders`` records
    hold, are one name typed twice, not two companies of one brand.
    """
    levels = vectors.levels
    organizations = vectors.party == PARTIES.index(PartyType.ORGANIZATION)
    # A sound no other record holds is a typo of one name, not a shared brand.
    rare_sound = (
        (levels[:, _NAME] == _NAME_HOMOPHONE)
        & (vectors.name_holders > 0)
        & (vectors.name_holders <= typo_sound_holders)
    )
    weak_name = _any_of(levels[:, _NAME], (_NAME_TRADE, _NAME_HOMOPHONE)) & ~rare_sound
    their_own = (
        (levels[:, _PHONES] == _PHONES_DIFFERENT)
        | (levels[:, _CONTACT] == _CONTACT_DIFFERENT)
        | (levels[:, _EMAILS] == _EMAILS_DIFFERENT)
    )
    # One USCC is one company, whatever a department filed it under.
    registered = levels[:, _USCC] == _USCC_SAME
    industry = levels[:, _INDUSTRY]
    two: npt.NDArray[np.bool_] = (
        organizations
        & ~registered
        & (
            (industry == _INDUSTRY_DIFFERENT)
            | (weak_name & their_own & (industry != _INDUSTRY_SAME) & ~_legal_homophone(levels))
        )
    )
    return two


def _kept_alike(levels: npt.NDArray[np.int8]) -> npt.NDArray[np.bool_]:
    """Organization pairs that share what one company keeps and a group's companies do not.

    The same street address to the door, a landline or mobile of its own
    (not the group's switchboard), the same contact person, or the same
    branch: seed 11 at 100k records, 45 pairs that the group-companies
    rule kept apart shared one of them, and all were one company.
    """
    kept: npt.NDArray[np.bool_] = (
        _any_of(levels[:, _ADDRESS], (_SIMILAR_DETAIL, _SAME_DETAIL))
        | _any_of(levels[:, _PHONES], (_SHARED_LANDLINE, _SHARED_MOBILE))
        | (levels[:, _CONTACT] == _CONTACT_SAME)
        | (levels[:, _BRANCH] == _SAME_BRANCH)
    )
    return kept


def _neighbours(vectors: ComparisonVectors) -> npt.NDArray[np.bool_]:
    """Organization pairs of unrelated names at one street address, and nothing else in common.

    An office tower holds dozens of companies: the same address with names
    that share nothing (not a trade name, a sound or a romanisation) and no
    number, e-mail box, USCC, identifier or contact in common is two
    neighbours (seed 11 at 1M records: four such review proposals in 300
    were true).
    """
    levels = vectors.levels
    shared = (
        _any_of(levels[:, _PHONES], (*_SHARED_PHONE, _ONE_DIGIT_APART))
        | (levels[:, _EMAILS] == _EMAIL_SHARED)
        | (levels[:, _USCC] == _USCC_SAME)
        | (levels[:, _CONTACT] > _CONTACT_DIFFERENT)
        | (levels[:, _IDENTIFIERS] > _IDENTIFIERS_DIFFERENT)
    )
    neighbours: npt.NDArray[np.bool_] = (
        (vectors.party == PARTIES.index(PartyType.ORGANIZATION))
        & (levels[:, _NAME] == _NAME_DIFFERENT)
        & (levels[:, _ADDRESS] == _SAME_DETAIL)
        & ~shared
    )
    return neighbours


def _legal_homophone(levels: npt.NDArray[np.int8]) -> npt.NDArray[np.bool_]:
    """Legal names that sound the same: one region, one legal form (a typed-in typo)."""
    same: npt.NDArray[np.bool_] = (
        (levels[:, _NAME] == _NAME_HOMOPHONE)
        & (levels[:, _NAME_REGION] == _REGION_SAME)
        & (levels[:, _LEGAL_FORM] == _LEGAL_SAME)
    )
    return same


def _organization_floor(
    vectors: ComparisonVectors,
    names_agree: npt.NDArray[np.bool_],
    thresholds: Thresholds,
) -> npt.NDArray[np.bool_]:
    """Organization pairs a steward should see whatever their weight.

    The same full name (or its romanisation), or the same trade name (or
    one that sounds alike, or is spelt alike) with a shared switchboard
    (seed 11 at 100k records: 15 of 18 spelt-alike ones were true), and
    nothing against: no other city, region, legal
    form, branch, USCC, number of the same kind, e-mail box, contact or
    industry. Department records often lack a city or carry a mobile where
    the other has a landline: such a pair is too weak to link and too likely
    to ignore. A legal name that only sounds the same (same region and legal
    form, a homophone typed in by a call centre) needs no common number: a
    company has several landlines. A name more than ``common_name_holders``
    records hold (a romanisation, a sound: more than
    ``common_romanisation_holders``) names several companies, the more so
    as the records grow, and needs a second agreement (see ``_seconded``).
    """
    levels = vectors.levels
    name = levels[:, _NAME]
    common_name = (
        ((name == _NAME_EXACT) & (vectors.name_holders > thresholds.common_name_holders))
        | (
            (name == _NAME_ROMANISED)
            & (vectors.name_holders > thresholds.common_romanisation_holders)
        )
    ) & ~_seconded(levels)
    names_agree = names_agree & ~common_name
    switchboard = (levels[:, _PHONES] == _HOUSEHOLD_LINE) & _any_of(
        levels[:, _NAME],
        (_NAME_EXACT, _NAME_TRADE, _NAME_HOMOPHONE, _NAME_SIMILAR, _NAME_CLOSE),
    )
    against = _spoken_against(levels, _AGAINST)
    other_numbers = levels[:, _PHONES] == _PHONES_DIFFERENT
    floor: npt.NDArray[np.bool_] = (
        (vectors.party == PARTIES.index(PartyType.ORGANIZATION))
        & ~against
        & (((names_agree | switchboard) & ~other_numbers) | _legal_homophone(levels))
        & ((vectors.constraints & _NO_FLOOR.value) == 0)
    )
    return floor


def _seconded(levels: npt.NDArray[np.int8]) -> npt.NDArray[np.bool_]:
    """Pairs that agree on more than a name: one city (stated or in the name), number,
    e-mail box or domain, contact, industry or identifier."""
    seconded: npt.NDArray[np.bool_] = (
        ((levels[:, _ADDRESS] >= _SAME_CITY) & (levels[:, _ADDRESS] != _DIFFERENT_STREET))
        | (levels[:, _NAME_REGION] == _REGION_SAME)
        | _any_of(levels[:, _PHONES], (*_SHARED_PHONE, _ONE_DIGIT_APART))
        | (levels[:, _EMAILS] > _EMAILS_DIFFERENT)
        | (levels[:, _CONTACT] > _CONTACT_DIFFERENT)
        | (levels[:, _INDUSTRY] == _INDUSTRY_SAME)
        | (levels[:, _IDENTIFIERS] > _IDENTIFIERS_DIFFERENT)
        | (levels[:, _USCC] == _USCC_SAME)
    )
    return seconded


def _spoken_against(
    levels: npt.NDArray[np.int8], against: tuple[tuple[int, int], ...]
) -> npt.NDArray[np.bool_]:
    """Pairs in other cities or streets, or at one of the ``against`` levels."""
    found = _any_of(levels[:, _ADDRESS], (_DIFFERENT_CITY, _DIFFERENT_STREET))
    for column, level in against:
        found |= levels[:, column] == level
    return found


def _common_sound(vectors: ComparisonVectors, holders: int) -> npt.NDArray[np.bool_]:
    """Organization pairs whose names only sound alike, a sound many records hold.

    Without one legal form in common (星浩 / 兴浩科技), two companies of one
    sound in one city are as likely as a homophone typo, and ever more so
    as the records grow: more than ``holders`` holders of the sound (of the
    trade name's sound, for a short name against a full one). A number in
    common (the switchboard, most often) makes them one company however
    common the sound (seed 11 at 100k records: 19 such pairs in 22 were one).
    """
    levels = vectors.levels
    common: npt.NDArray[np.bool_] = (
        (vectors.party == PARTIES.index(PartyType.ORGANIZATION))
        & (levels[:, _NAME] == _NAME_HOMOPHONE)
        & (levels[:, _LEGAL_FORM] != _LEGAL_SAME)
        & (vectors.name_holders > holders)
        & ~_any_of(levels[:, _PHONES], _SHARED_PHONE)
    )
    return common


def _rare_trade_name(vectors: ComparisonVectors, thresholds: Thresholds) -> npt.NDArray[np.bool_]:
    """Organization pairs of one rare trade name (or its sound) in one city, nothing against.

    A short name against a full one (盛佳 / 盛佳信息技术), or names that sound
    alike, that at most ``rare_name_holders`` records share, in one city and
    with nothing against (see ``_organization_floor``): a department that
    keeps a mobile where the other keeps the switchboard leaves little else
    (seed 11 at 1M records: one such pair in two was true, against one in
    seven for more common trade names). A call centre that noted a mobile
    and no city leaves even less: such a pair counts too unless both have
    numbers of one kind that differ, the one sign left that they are two
    (seed 11 at 100k records: three such proposals in five were true). Both
    filed under one stated industry, a trade name up to
    ``industry_trade_name_holders`` records share counts as rare.
    """
    levels = vectors.levels
    against = _spoken_against(levels, _AGAINST)
    unplaced = (levels[:, _ADDRESS] == _ADDRESS_MISSING) & (levels[:, _PHONES] != _PHONES_DIFFERENT)
    rare: npt.NDArray[np.bool_] = (
        (vectors.party == PARTIES.index(PartyType.ORGANIZATION))
        & _any_of(levels[:, _NAME], (_NAME_TRADE, _NAME_HOMOPHONE))
        & ((levels[:, _ADDRESS] >= _SAME_CITY) | unplaced)
        & ~against
        & (vectors.name_holders > 0)
        & (
            (vectors.name_holders <= thresholds.rare_name_holders)
            | (
                (levels[:, _INDUSTRY] == _INDUSTRY_SAME)
                & (vectors.name_holders <= thresholds.industry_trade_name_holders)
            )
        )
        & (vectors.constraints == 0)
    )
    return rare


def _seconded_trade_name(vectors: ComparisonVectors) -> npt.NDArray[np.bool_]:
    """Organization pairs of one trade name (or its sound) in one city that a second field seconds.

    A short name against a full one, or names that sound alike, in one
    city (stated, or in both names), both filed under one industry or
    writing from one mail domain, with nothing against (see
    ``_organization_floor``): however common the trade name, a steward
    should see them (seed 11 at 1M records: 800 such pairs in 1,400 were
    one company, most of them under a trade name more than 40 records hold).
    """
    levels = vectors.levels
    placed = (levels[:, _ADDRESS] >= _SAME_CITY) | (levels[:, _NAME_REGION] == _REGION_SAME)
    second = (levels[:, _INDUSTRY] == _INDUSTRY_SAME) | (levels[:, _EMAILS] > _EMAILS_DIFFERENT)
    seconded: npt.NDArray[np.bool_] = (
        (vectors.party == PARTIES.index(PartyType.ORGANIZATION))
        & _any_of(levels[:, _NAME], (_NAME_TRADE, _NAME_HOMOPHONE))
        & placed
        & second
        & ~_spoken_against(levels, _AGAINST)
        & (vectors.constraints == 0)
    )
    return seconded


def _corroborated_company(vectors: ComparisonVectors) -> npt.NDArray[np.bool_]:
    """Organization pairs of one name in one city that a second attribute confirms.

    The same name (exact, or a trade name) in one city,
    with the same stated industry (and no numbers of the same kind that
    differ) or the same contact person, and nothing against (see
    ``_organization_floor``): one company (seed 11: 19 such review
    proposals in 20 were true at 100k records; names that only sound or
    romanise alike let too many false links through at 1M records).
    """
    levels = vectors.levels
    named = _any_of(levels[:, _NAME], (_NAME_EXACT, _NAME_TRADE))
    against = _spoken_against(levels, _AGAINST)
    same_city = levels[:, _ADDRESS] >= _SAME_CITY
    industry = (levels[:, _INDUSTRY] == _INDUSTRY_SAME) & (levels[:, _PHONES] != _PHONES_DIFFERENT)
    contact = levels[:, _CONTACT] == _CONTACT_SAME
    confirmed: npt.NDArray[np.bool_] = (
        (vectors.party == PARTIES.index(PartyType.ORGANIZATION))
        & named
        & ~against
        & ((same_city & industry) | contact)
        & (vectors.constraints == 0)
    )
    return confirmed


def constraint_names(bits: int) -> tuple[str, ...]:
    """Names of the constraints set in ``bits``."""
    return tuple(str(c.name).lower() for c, _ in _CAPS if bits & c.value)


@dataclass(frozen=True, slots=True)
class ComparisonExplanation:
    """One comparison's part in a score: its level and weight in bits."""

    comparison: str
    level: str
    weight: float
    tf_adjustment: float = 0.0

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "comparison": self.comparison,
            "level": self.level,
            "weight": round(self.weight, 3),
        }
        if self.tf_adjustment:
            out["tf_adjustment"] = round(self.tf_adjustment, 3)
        return out


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a pair scored what it did: prior, comparisons, constraints, total.

    ``rule`` names the rule that decided the pair otherwise than its weight
    (a floor that put it into review, a cap that kept it out of the
    auto-links), when one did.
    """

    prior: float
    comparisons: tuple[ComparisonExplanation, ...]
    constraints: tuple[str, ...]
    weight: float
    rule: Rule | None = None

    @property
    def probability(self) -> float:
        """Match probability from the weight (log2 odds)."""
        return 1.0 / (1.0 + math.pow(2.0, -min(max(self.weight, -1000.0), 1000.0)))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "weight": round(self.weight, 3),
            "probability": round(self.probability, 6),
            "prior": round(self.prior, 3),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "constraints": list(self.constraints),
            **({} if self.rule is None else {"rule": self.rule.value, "reason": self.rule.reason}),
        }


def explain(
    model: Model,
    vectors: ComparisonVectors,
    row: int,
    rules: npt.NDArray[np.int8] | None = None,
) -> Explanation:
    """The explanation of pair ``row`` of ``vectors`` under ``model``."""
    return explain_many(model, vectors, np.asarray([row], dtype=np.int64), rules)[0]


def explain_many(
    model: Model,
    vectors: ComparisonVectors,
    rows: npt.NDArray[np.int64],
    rules: npt.NDArray[np.int8] | None = None,
) -> list[Explanation]:
    """The explanations of pairs ``rows`` of ``vectors``, in that order.

    ``rules`` are the rule codes per pair of ``vectors`` (those of
    :func:`decide_pairs_ruled`); without them no explanation names a rule.
    Weight tables and term-frequency adjustments are computed once per party
    type for all the rows, not once per pair.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if rules is not None and len(rules) != len(vectors):
        raise ValueError(f"{len(rules)} rule codes for {len(vectors)} pairs")
    ruled = [None] * len(rows) if rules is None else [RULES[r] for r in rules[rows].tolist()]
    out: list[Explanation | None] = [None] * len(rows)
    for code, party in enumerate(PARTIES):
        positions = np.flatnonzero(vectors.party[rows] == code)
        if len(positions) == 0:
            continue
        params = model.parties[party]
        prior = params.prior_weight
        weights = scoring_tables(params).weight_values
        selected = rows[positions]
        tf = model.tf_adjustments(vectors, selected, params).tolist()
        levels = vectors.levels[selected].tolist()
        constraints = vectors.constraints[selected].tolist()
        for k, position in enumerate(positions.tolist()):
            adjustments = tf[k]
            parts = tuple(
                ComparisonExplanation(
                    comparison=name,
                    level=labels[level],
                    weight=weights[c][level],
                    tf_adjustment=0.0 if t is None else adjustments[t],
                )
                for c, ((name, labels, t), level) in enumerate(
                    zip(_EXPLAINED_COMPARISONS, levels[k], strict=True)
                )
            )
            out[position] = Explanation(
                prior=prior,
                comparisons=parts,
                constraints=constraint_names(int(constraints[k])),
                weight=prior + sum(p.weight + p.tf_adjustment for p in parts),
                rule=ruled[position],
            )
    return [e for e in out if e is not None]


# Per comparison, what an explanation names: the comparison, its level labels,
# and its column of term-frequency adjustments (None without one).
_EXPLAINED_COMPARISONS: tuple[tuple[str, tuple[str, ...], int | None], ...] = tuple(
    (
        comparison.name,
        comparison.levels,
        TF_COMPARISONS.index(comparison.name) if comparison.term_frequency else None,
    )
    for comparison in COMPARISONS
)


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """A scored, decided and explained pair of records, by (source, source_key)."""

    left: tuple[str, str]
    right: tuple[str, str]
    weight: float
    decision: Decision
    explanation: Explanation

    @property
    def probability(self) -> float:
        return self.explanation.probability

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the review-file line)."""
        return {
            "left": {"source": self.left[0], "source_key": self.left[1]},
            "right": {"source": self.right[0], "source_key": self.right[1]},
            "score": round(self.weight, 3),
            "decision": self.decision.value,
            "explanation": self.explanation.to_dict(),
        }
