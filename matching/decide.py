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
from matching.model import Model
from matching.record import PartyType

__all__ = [
    "ComparisonExplanation",
    "Decision",
    "Explanation",
    "ScoredPair",
    "Thresholds",
    "decide",
    "decide_pairs",
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
    # odds: a steward settles the pairs a model cannot.
    lower: float = 0.5
    upper: float = 6.5
    person_lower: float | None = -0.5
    person_upper: float | None = 4.5
    # Namesakes (王伟 ×3 in one city) share a name and a city and nothing of
    # their own: such a pair goes to review only from this weight on, where
    # the name is rare enough to make it likely (seed 7 and 11: below it, one
    # proposal in ten was true).
    namesake_lower: float = 0.5

    def __post_init__(self) -> None:
        if not math.isfinite(self.namesake_lower):
            raise ValueError("thresholds must be finite numbers")
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
_SAME_CITY = COMPARISONS[_ADDRESS].levels.index("same_city")
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
_CONTACT = [c.name for c in COMPARISONS].index("contact")
_CONTACT_DIFFERENT = COMPARISONS[_CONTACT].levels.index("different")
_INDUSTRY = [c.name for c in COMPARISONS].index("industry")
_INDUSTRY_DIFFERENT = COMPARISONS[_INDUSTRY].levels.index("different")
_INDUSTRY_SAME = COMPARISONS[_INDUSTRY].levels.index("same")
_NAME_REGION = [c.name for c in COMPARISONS].index("name_region")
_REGION_SAME = COMPARISONS[_NAME_REGION].levels.index("same")
_LEGAL_SAME = COMPARISONS[_LEGAL_FORM].levels.index("same")
_USCC = [c.name for c in COMPARISONS].index("uscc")
_USCC_SAME = COMPARISONS[_USCC].levels.index("same")
_NO_FLOOR = Constraint.BRANCH_MISMATCH | Constraint.PARTY_MISMATCH


def decide_pairs(
    weights: npt.NDArray[np.float64], vectors: ComparisonVectors, thresholds: Thresholds
) -> npt.NDArray[np.int8]:
    """:func:`decide` for compared pairs, with the one cap that reads the levels.

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
    whatever their weight (see ``_organization_floor``).
    """
    codes = decide(weights, vectors.constraints, thresholds, vectors.party)
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
    codes[unrelated & ~identified] = np.minimum(codes[unrelated & ~identified], REVIEW_CODE)
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
    codes[kin] = np.minimum(codes[kin], REVIEW_CODE)
    # At one home (the same flat, or a household line) with numbers of their
    # own that differ, names one character apart or unrelated are siblings
    # and relatives: nothing for a steward to decide.
    phones = vectors.levels[:, _PHONES]
    household = (vectors.levels[:, _ADDRESS] == _SAME_DETAIL) | (phones == _HOUSEHOLD_LINE)
    own_numbers = (phones == _PHONES_DIFFERENT) | (phones == _HOUSEHOLD_LINE)
    relatives = (kin | (unrelated & ~identified)) & household & own_numbers
    codes[relatives] = DISTINCT_CODE
    # A group holding and a company under it, both with their legal forms
    # (X集团有限公司 / X科技有限公司), are two legal entities.
    codes[vectors.levels[:, _LEGAL_FORM] == _GROUP_MISMATCH] = DISTINCT_CODE
    names_agree = (vectors.levels[:, _NAME] == _NAME_EXACT) | (
        vectors.levels[:, _NAME] == _NAME_ROMANISED
    )
    # A submission's candidates are all of its party: the other party's
    # rules are skipped, not run on no pairs (each costs microseconds).
    if persons.any():
        # Namesakes: one name in one city, no number, e-mail, id or birth
        # date in common. Below ``namesake_lower`` the name is too common to ask.
        namesakes = (
            persons
            & names_agree
            & (vectors.levels[:, _ADDRESS] >= _SAME_CITY)
            & (vectors.levels[:, _ADDRESS] != _DIFFERENT_STREET)
            & ~_any_of(phones, _SHARED_PHONE)
            & ~own
            & (weights < thresholds.namesake_lower)
        )
        codes[namesakes] = DISTINCT_CODE
    if not persons.all():
        codes[_group_companies(vectors)] = DISTINCT_CODE
        floor = _organization_floor(vectors, names_agree)
        codes[floor] = np.maximum(codes[floor], REVIEW_CODE)
    return codes


def _any_of(column: npt.NDArray[np.int8], levels: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """Where ``column`` holds one of ``levels`` (np.isin costs more on a few pairs)."""
    found: npt.NDArray[np.bool_] = column == levels[0]
    for level in levels[1:]:
        found |= column == level
    return found


def _group_companies(vectors: ComparisonVectors) -> npt.NDArray[np.bool_]:
    """Organization pairs that are two companies of one name, not one company.

    Companies of one group share a trade name in one city (辉宝冶金 /
    辉宝科技): two different stated industries make them two companies, and
    so do names that only share the trade name or sound alike together with
    numbers of the same kind that differ or another contact person, unless
    both name one industry or the legal names only sound alike (on the
    project corpus three in four such review proposals were false).
    """
    levels = vectors.levels
    organizations = vectors.party == PARTIES.index(PartyType.ORGANIZATION)
    weak_name = _any_of(levels[:, _NAME], (_NAME_TRADE, _NAME_HOMOPHONE))
    their_own = (levels[:, _PHONES] == _PHONES_DIFFERENT) | (
        levels[:, _CONTACT] == _CONTACT_DIFFERENT
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
) -> npt.NDArray[np.bool_]:
    """Organization pairs a steward should see whatever their weight.

    The same full name (or its romanisation), or the same trade name with a
    shared switchboard, and nothing against: no other city, region, legal
    form, branch, USCC, number of the same kind, e-mail box, contact or
    industry. Department records often lack a city or carry a mobile where
    the other has a landline: such a pair is too weak to link and too likely
    to ignore. A legal name that only sounds the same (same region and legal
    form, a homophone typed in by a call centre) needs no common number: a
    company has several landlines.
    """
    levels = vectors.levels
    switchboard = (levels[:, _PHONES] == _HOUSEHOLD_LINE) & _any_of(
        levels[:, _NAME], (_NAME_EXACT, _NAME_TRADE, _NAME_HOMOPHONE)
    )
    against = _any_of(levels[:, _ADDRESS], (_DIFFERENT_CITY, _DIFFERENT_STREET))
    for column, level in _AGAINST:
        against |= levels[:, column] == level
    other_numbers = levels[:, _PHONES] == _PHONES_DIFFERENT
    floor: npt.NDArray[np.bool_] = (
        (vectors.party == PARTIES.index(PartyType.ORGANIZATION))
        & ~against
        & (((names_agree | switchboard) & ~other_numbers) | _legal_homophone(levels))
        & ((vectors.constraints & _NO_FLOOR.value) == 0)
    )
    return floor


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
    """Why a pair scored what it did: prior, comparisons, constraints, total."""

    prior: float
    comparisons: tuple[ComparisonExplanation, ...]
    constraints: tuple[str, ...]
    weight: float

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
        }


def explain(model: Model, vectors: ComparisonVectors, row: int) -> Explanation:
    """The explanation of pair ``row`` of ``vectors`` under ``model``."""
    return explain_many(model, vectors, np.asarray([row], dtype=np.int64))[0]


def explain_many(
    model: Model, vectors: ComparisonVectors, rows: npt.NDArray[np.int64]
) -> list[Explanation]:
    """The explanations of pairs ``rows`` of ``vectors``, in that order.

    Weight tables and term-frequency adjustments are computed once per party
    type for all the rows, not once per pair.
    """
    rows = np.asarray(rows, dtype=np.int64)
    out: list[Explanation | None] = [None] * len(rows)
    tf_columns = {c.name: t for t, c in enumerate(c for c in COMPARISONS if c.term_frequency)}
    for code, party in enumerate(PARTIES):
        positions = np.flatnonzero(vectors.party[rows] == code)
        if len(positions) == 0:
            continue
        params = model.parties[party]
        tables = params.weight_table()
        selected = rows[positions]
        tf = model.tf_adjustments(vectors, selected, params).tolist()
        levels = vectors.levels[selected].tolist()
        constraints = vectors.constraints[selected].tolist()
        for k, position in enumerate(positions.tolist()):
            parts = []
            for c, comparison in enumerate(COMPARISONS):
                level = levels[k][c]
                t = tf_columns.get(comparison.name)
                parts.append(
                    ComparisonExplanation(
                        comparison=comparison.name,
                        level=comparison.levels[level],
                        weight=float(tables[c][level]),
                        tf_adjustment=0.0 if t is None else tf[k][t],
                    )
                )
            total = params.prior_weight + sum(p.weight + p.tf_adjustment for p in parts)
            out[position] = Explanation(
                prior=params.prior_weight,
                comparisons=tuple(parts),
                constraints=constraint_names(int(constraints[k])),
                weight=total,
            )
    return [e for e in out if e is not None]


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
