"""The Fellegi-Sunter model: m and u probabilities per comparison level.

A pair's match weight is ``log2(λ / (1 - λ)) + Σ log2(m / u)`` over its
comparisons (level 0, "missing", contributes nothing), plus term-frequency
adjustments: agreeing on a value many records hold (王伟, a group switchboard)
weighs ``log2(u_level / share_of_value)`` less. Only a person's exact name may
also weigh *more* (:data:`RAISED_LEVELS`, up to :data:`MAX_TF_RAISE` bits): a
name nobody else holds is far better evidence than the average name. Elsewhere
the adjustment only lowers a weight, so only frequent values need counting
(and for the raise, a value without a count is known to be rare).

Parameters are kept per party type (names of persons collide far more often
than names of organizations). ``u`` is estimated from random record pairs
(exact agreement levels from value counts, less the duplicates the model
expects among them: a person's mobile on three of their records is no chance
agreement), ``m`` and ``λ`` by expectation-maximisation over the candidate pairs, starting
from the priors below and pulled gently towards them; steward labels refine
``m`` afterwards. ``λ`` is the share of matches among *candidate* pairs, so the
blocking count as non-matches).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources

import numpy as np
import numpy.typing as npt

from matching.compare import (
    COMPARISONS,
    CONTACT_LEVELS,
    EMAIL_LEVELS,
    NAME_LEVELS,
    PARTIES,
    PHONE_LEVELS,
    RAISED_KINDS,
    AgreementShares,
    ComparisonVectors,
    TermFrequencies,
)
from matching.record import PartyType

__all__ = [
    "MODEL_VERSION",
    "TF_COMPARISONS",
    "ComparisonParameters",
    "Model",
    "PartyParameters",
    "ScoringTables",
    "default_model",
    "estimate_model",
    "estimate_u",
    "sample_pairs",
    "scoring_tables",
]

MODEL_VERSION = 1
FloatArray = npt.NDArray[np.float64]

# Sensible starting points, per level (level 0 "missing" is a placeholder).
PRIOR_M: Mapping[str, tuple[float, ...]] = {
    "name": (1, 0.03, 0.001, 0.04, 0.06, 0.07, 0.05, 0.25, 0.25, 0.25),
    "name_region": (1, 0.10, 0.90),
    "legal_form": (1, 0.25, 0.74, 0.01),
    "branch": (1, 0.95, 0.05),
    "uscc": (1, 0.01, 0.99),
    "national_id": (1, 0.02, 0.98),
    "identifiers": (1, 0.05, 0.05, 0.90),
    "phones": (1, 0.15, 0.30, 0.02, 0.05, 0.15, 0.33),
    "emails": (1, 0.30, 0.20, 0.50),
    "contact": (1, 0.30, 0.10, 0.05, 0.55),
    "address": (1, 0.08, 0.12, 0.10, 0.20, 0.45, 0.05),
    "birth_date": (1, 0.03, 0.05, 0.92),
    "gender": (1, 0.02, 0.98),
    "given_name": (1, 0.05, 0.05, 0.10, 0.80),
    "surname": (1, 0.05, 0.05, 0.10, 0.80),
    "street_number": (1, 0.10, 0.90),
    "locality": (1, 0.10, 0.10, 0.80),
    "postcode": (1, 0.05, 0.10, 0.85),
    "state": (1, 0.05, 0.95),
    "industry": (1, 0.05, 0.95),
}
PRIOR_U: Mapping[str, tuple[float, ...]] = {
    "name": (1, 0.97, 0.001, 0.02, 0.005, 0.002, 0.0005, 0.002, 0.0005, 0.000_01),
    "name_region": (1, 0.85, 0.15),
    "legal_form": (1, 0.35, 0.60, 0.05),
    "branch": (1, 0.30, 0.70),
    "uscc": (1, 0.999_999, 0.000_001),
    "national_id": (1, 0.999_999, 0.000_001),
    "identifiers": (1, 0.999, 0.000_5, 0.000_5),
    "phones": (1, 0.7, 0.299_96, 0.000_01, 0.000_02, 0.000_01, 0.000_01),
    "emails": (1, 0.999_9, 0.000_09, 0.000_01),
    "contact": (1, 0.999, 0.0005, 0.0001, 0.0004),
    "address": (1, 0.90, 0.08, 0.015, 0.004, 0.001, 0.10),
    "birth_date": (1, 0.997, 0.0025, 0.0005),
    "gender": (1, 0.50, 0.50),
    "given_name": (1, 0.95, 0.03, 0.01, 0.01),
    "surname": (1, 0.95, 0.03, 0.01, 0.01),
    "street_number": (1, 0.95, 0.05),
    "locality": (1, 0.97, 0.02, 0.01),
    "postcode": (1, 0.97, 0.02, 0.01),
    "state": (1, 0.70, 0.30),
    "industry": (1, 0.90, 0.10),
}
# Levels that say "two entities" by domain rule, whose m EM cannot learn:
# among candidate pairs the companies of one group (same trade name, same
# switchboard, same city) look like duplicates to an unsupervised model. Their
# m stays at the prior; steward labels may still move it.
#
# Two different valid identifiers (USCC, resident id) or two birth dates that
# are no typing slip of each other belong to two parties: one entity shows
# them only through a mistyped number that still passes its check character.
# Namesakes and a group's companies are candidates that agree on everything
# else, and EM would otherwise take them for duplicates whose identifiers
# "often differ", weakening the strongest evidence of two parties there is.
FIXED_M_LEVELS: Mapping[str, frozenset[int]] = {
    "name": frozenset({2}),  # trade_equal_other_industry
    "legal_form": frozenset({3}),  # group_mismatch
    "uscc": frozenset({1}),  # different
    "national_id": frozenset({1}),  # different
    "birth_date": frozenset({1}),  # different
}
# Levels that carry no evidence by domain rule: a number shared by records of
# several names (a group switchboard, a household line) identifies none of
# them, yet under independence it would add as much as a private line.
# Mailboxes of one company domain are the same: a group's companies, a
# brand's siblings and a parent's branches often share the domain.
NEUTRAL_LEVELS: Mapping[str, frozenset[int]] = {
    "phones": frozenset({PHONE_LEVELS.index("shared_switchboard")}),
    "emails": frozenset({EMAIL_LEVELS.index("same_domain")}),
}
# Levels whose term frequency may raise a weight (for the party types of
# :data:`matching.compare.RAISED_KINDS`): the exact name, whose rare values
# the comparison counts. Other levels are only ever lowered.
RAISED_LEVELS: Mapping[str, frozenset[int]] = {
    "name": frozenset({NAME_LEVELS.index("exact")}),
}
# The most a rare value adds: beyond it a count of one or two says little.
MAX_TF_RAISE = 6.0
# A duplicate or two per record among some ten thousand records.
PRIOR_MATCH_SHARE = 1e-4
# Pseudo-pairs of prior weight in EM: enough to keep rarely seen levels sane,
# far too few to outvote the data.
PRIOR_STRENGTH = 20.0
U_PSEUDO_COUNT = 0.5
# Rounds of taking the expected duplicates out of the exact agreement shares,
# and the part of a share always kept as non-matches.
DUPLICATE_ROUNDS = 1
DUPLICATE_FLOOR = 0.05
_MIN_PROBABILITY = 1e-9


def _normalise(values: Sequence[float] | FloatArray) -> tuple[float, ...]:
    """Level 0 stays a placeholder (1.0); the others are made to sum to 1."""
    tail = np.maximum(np.asarray(values[1:], dtype=np.float64), _MIN_PROBABILITY)
    return (1.0, *(float(x) for x in tail / tail.sum()))


@dataclass(frozen=True, slots=True)
class ComparisonParameters:
    """m and u per level of one comparison (index 0, "missing", is unused)."""

    name: str
    levels: tuple[str, ...]
    m: tuple[float, ...]
    u: tuple[float, ...]
    # The share of *all* pairs at each level, duplicates included: what a
    # value's term frequency (counted over all records) is measured against.
    # ``None`` when it equals ``u``.
    tf_u: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        checked = [("m", self.m), ("u", self.u)]
        if self.tf_u is not None:
            checked.append(("tf_u", self.tf_u))
        for label, probs in checked:
            if len(probs) != len(self.levels):
                raise ValueError(
                    f"{self.name}: {label} has {len(probs)} values for {len(self.levels)} levels"
                )
            tail = probs[1:]
            if any(not (0.0 < p <= 1.0) for p in tail):
                raise ValueError(f"{self.name}: {label} probabilities must be in (0, 1]")
            if not math.isclose(sum(tail), 1.0, abs_tol=1e-6):
                raise ValueError(f"{self.name}: {label} probabilities must sum to 1")

    def weights(self) -> FloatArray:
        """log2(m/u) per level; 0 for the missing level."""
        out: FloatArray = np.log2(np.asarray(self.m) / np.asarray(self.u))
        out[0] = 0.0
        return out


@dataclass(frozen=True, slots=True)
class PartyParameters:
    """The prior match share among candidate pairs and each comparison's parameters."""

    prior: float
    comparisons: tuple[ComparisonParameters, ...]

    def __post_init__(self) -> None:
        if not (0.0 < self.prior < 1.0):
            raise ValueError(f"prior must be in (0, 1), got {self.prior}")
        names = tuple(c.name for c in self.comparisons)
        expected = tuple(c.name for c in COMPARISONS)
        if names != expected:
            raise ValueError(f"comparisons {names} do not match this library's {expected}")
        for params, comparison in zip(self.comparisons, COMPARISONS, strict=True):
            if params.levels != comparison.levels:
                raise ValueError(
                    f"{params.name}: levels {params.levels} do not match {comparison.levels}"
                )

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))

    def weight_table(self) -> list[FloatArray]:
        return [c.weights() for c in self.comparisons]

    def u_table(self) -> list[FloatArray]:
        return [np.asarray(c.u, dtype=np.float64) for c in self.comparisons]

    def tf_u_table(self) -> list[FloatArray]:
        """Per comparison, the u that term frequencies are compared with."""
        return [
            np.asarray(c.u if c.tf_u is None else c.tf_u, dtype=np.float64)
            for c in self.comparisons
        ]


@dataclass(frozen=True, slots=True)
class Model:
    """A trained Fellegi-Sunter model: parameters per party type and frequent values."""

    parties: Mapping[PartyType, PartyParameters]
    frequencies: TermFrequencies = field(
        default_factory=lambda: TermFrequencies(totals={}, counts={})
    )
    version: int = MODEL_VERSION

    def __post_init__(self) -> None:
        if self.version != MODEL_VERSION:
            raise ValueError(f"model version {self.version} is not supported ({MODEL_VERSION})")
        missing = [p.value for p in PARTIES if p not in self.parties]
        if missing:
            raise ValueError(f"model has no parameters for {', '.join(missing)}")

    # --- scoring ---

    def match_weights(self, vectors: ComparisonVectors) -> FloatArray:
        """Match weight (log2 odds) of every pair, term-frequency adjusted."""
        out = np.zeros(len(vectors), dtype=np.float64)
        for code, party in enumerate(PARTIES):
            rows = np.flatnonzero(vectors.party == code)
            if len(rows) == 0:
                continue
            params = self.parties[party]
            total = np.full(len(rows), params.prior_weight)
            levels = vectors.levels[rows]
            for c, table in enumerate(scoring_tables(params).weights):
                total += table[levels[:, c]]
            total += self.tf_adjustments(vectors, rows, params).sum(axis=1)
            out[rows] = total
        return out

    def tf_adjustments(
        self, vectors: ComparisonVectors, rows: npt.NDArray[np.int64], params: PartyParameters
    ) -> FloatArray:
        """Per pair and term-frequency comparison: the (non-positive) adjustment in bits."""
        tables = scoring_tables(params)
        out = np.zeros((len(rows), len(TF_COMPARISONS)), dtype=np.float64)
        # A batch's pairs in slices: the temporaries are several times ``out``.
        for start in range(0, len(rows), _TF_CHUNK):
            part = rows[start : start + _TF_CHUNK]
            out[start : start + len(part)] = _tf_adjustments(vectors, part, tables)
        return out

    # --- labels ---

    def refine(
        self,
        vectors: ComparisonVectors,
        is_match: npt.NDArray[np.bool_],
        strength: float = PRIOR_STRENGTH,
    ) -> Model:
        """Re-estimate m from steward-labelled matches, the current m weighing ``strength`` pairs.

        Labelled non-matches are hard negatives chosen by a steward, not random
        pairs, so they leave u alone.
        """
        if len(is_match) != len(vectors):
            raise ValueError("one label per pair is needed")
        if strength <= 0:
            raise ValueError(f"strength must be positive, got {strength}")
        parties = dict(self.parties)
        for code, party in enumerate(PARTIES):
            rows = np.flatnonzero((vectors.party == code) & is_match)
            if len(rows) == 0:
                continue
            weights = np.ones(len(rows))
            old = parties[party]
            comparisons = tuple(
                replace(p, m=_m_update(vectors.levels[rows, c], weights, p.m, strength))
                for c, p in enumerate(old.comparisons)
            )
            parties[party] = replace(old, comparisons=comparisons)
        return replace(self, parties=parties)

    # --- JSON ---

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, with the format version."""
        return {
            "version": self.version,
            "parties": {
                party.value: {
                    "prior": params.prior,
                    "comparisons": [_comparison_to_dict(c) for c in params.comparisons],
                }
                for party, params in self.parties.items()
            },
            "frequencies": self.frequencies.to_dict(),
        }

    def to_json(self) -> str:
        """The model as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Model:
        """Read a model written by :meth:`to_json`; unknown versions are refused."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a model is a JSON object")
        version = data.get("version")
        if version != MODEL_VERSION:
            raise ValueError(f"model version {version!r} is not supported ({MODEL_VERSION})")
        parties_data = data.get("parties")
        if not isinstance(parties_data, dict):
            raise ValueError("model needs a 'parties' object")
        parties = {
            PartyType(party): _party_from_dict(params) for party, params in parties_data.items()
        }
        return cls(
            parties=parties,
            frequencies=TermFrequencies.from_dict(data.get("frequencies", {})),
            version=version,
        )


# The comparisons with a term-frequency adjustment, in the order of its columns.
TF_COMPARISONS: tuple[str, ...] = tuple(c.name for c in COMPARISONS if c.term_frequency)
_TF_INDEX = np.arange(len(TF_COMPARISONS))[np.newaxis, :]
# Per term-frequency comparison and party code: whether a rare value may raise
# the weight (:data:`RAISED_KINDS`).
_RAISING_PARTIES: npt.NDArray[np.bool_] = np.asarray(
    [[name in RAISED_KINDS.get(party, ()) for party in PARTIES] for name in TF_COMPARISONS],
    dtype=np.bool_,
)


@dataclass(frozen=True, slots=True)
class ScoringTables:
    """A party's per-comparison tables, worked out once instead of per scored batch.

    The hub and an index score a handful of pairs per call; recomputing the
    logarithms of every level's m/u and the term-frequency u's on each call
    cost as much as the scoring itself. The arrays are read-only.
    """

    weights: tuple[FloatArray, ...]
    # The same weights as Python floats, for explanations built one pair at a time.
    weight_values: tuple[tuple[float, ...], ...]
    # Per term-frequency comparison: its column of the levels, and per level
    # the u its term frequencies are measured against and whether a rare
    # value may raise it (levels past a comparison's own are padding).
    tf_columns: npt.NDArray[np.int64]
    tf_u_levels: FloatArray
    raised_levels: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, params: PartyParameters) -> ScoringTables:
        weights = tuple(params.weight_table())
        tf_u = params.tf_u_table()
        columns = np.asarray([_column(name) for name in TF_COMPARISONS], dtype=np.int64)
        width = max(len(COMPARISONS[c].levels) for c in columns.tolist())
        u_levels = np.ones((len(columns), width), dtype=np.float64)
        raised = np.zeros((len(columns), width), dtype=np.bool_)
        for t, (name, c) in enumerate(zip(TF_COMPARISONS, columns.tolist(), strict=True)):
            u_levels[t, : len(tf_u[c])] = tf_u[c]
            raised[t, list(RAISED_LEVELS.get(name, ()))] = True
        for array in (*weights, columns, u_levels, raised):
            array.flags.writeable = False
        return cls(
            weights=weights,
            weight_values=tuple(tuple(table.tolist()) for table in weights),
            tf_columns=columns,
            tf_u_levels=u_levels,
            raised_levels=raised,
        )


_TF_CHUNK = 1 << 16


def _tf_adjustments(
    vectors: ComparisonVectors, rows: npt.NDArray[np.int64], tables: ScoringTables
) -> FloatArray:
    """:meth:`Model.tf_adjustments` of ``rows``, all term-frequency comparisons at once."""
    share = np.stack([vectors.tf[name][rows] for name in TF_COMPARISONS], axis=1)
    share = share.astype(np.float64)
    levels = vectors.levels[rows][:, tables.tf_columns]
    u = tables.tf_u_levels[_TF_INDEX, levels]
    # A value rarer than the level's average raises the weight (by at most
    # MAX_TF_RAISE bits) where the kind and level allow it.
    raised = tables.raised_levels[_TF_INDEX, levels] & _RAISING_PARTIES[:, vectors.party[rows]].T
    ceiling = np.where(raised, MAX_TF_RAISE, 0.0)
    applies = share > 0
    out = np.zeros(share.shape, dtype=np.float64)
    out[applies] = np.minimum(ceiling[applies], np.log2(u[applies] / share[applies]))
    return out


# Tables by the identity of their parameters (kept alive here, so an id is
# never reused while its entry stands); models are few, the bound is loose.
_SCORING_TABLES: dict[int, tuple[PartyParameters, ScoringTables]] = {}
_MAX_SCORING_TABLES = 64


def scoring_tables(params: PartyParameters) -> ScoringTables:
    """The scoring tables of ``params``, computed on first use."""
    cached = _SCORING_TABLES.get(id(params))
    if cached is not None and cached[0] is params:
        return cached[1]
    tables = ScoringTables.of(params)
    if len(_SCORING_TABLES) >= _MAX_SCORING_TABLES:
        _SCORING_TABLES.clear()
    _SCORING_TABLES[id(params)] = (params, tables)
    return tables


def _column(name: str) -> int:
    for c, comparison in enumerate(COMPARISONS):
        if comparison.name == name:
            return c
    raise KeyError(name)


def _comparison_to_dict(c: ComparisonParameters) -> dict[str, object]:
    out: dict[str, object] = {
        "name": c.name,
        "levels": list(c.levels),
        "m": list(c.m),
        "u": list(c.u),
    }
    if c.tf_u is not None:
        out["tf_u"] = list(c.tf_u)
    return out


def _party_from_dict(data: object) -> PartyParameters:
    if not isinstance(data, dict):
        raise ValueError("party parameters are a JSON object")
    comparisons = tuple(
        ComparisonParameters(
            name=str(c["name"]),
            levels=tuple(str(x) for x in c["levels"]),
            m=tuple(float(x) for x in c["m"]),
            u=tuple(float(x) for x in c["u"]),
            tf_u=tuple(float(x) for x in c["tf_u"]) if "tf_u" in c else None,
        )
        for c in data["comparisons"]
    )
    return PartyParameters(prior=float(data["prior"]), comparisons=comparisons)


def prior_parameters() -> PartyParameters:
    """Parameters before any data is seen."""
    return PartyParameters(
        prior=PRIOR_MATCH_SHARE,
        comparisons=tuple(
            ComparisonParameters(
                name=c.name,
                levels=c.levels,
                m=_normalise(PRIOR_M[c.name]),
                u=_normalise(PRIOR_U[c.name]),
            )
            for c in COMPARISONS
        ),
    )


def default_model() -> Model:
    """The model shipped with the library (``matching/data/model.json``)."""
    text = resources.files("matching").joinpath("data/model.json").read_text(encoding="utf-8")
    return Model.from_json(text)


# --- estimation -------------------------------------------------------------


def estimate_u(
    random_pairs: ComparisonVectors, base: Model, agreement: AgreementShares | None = None
) -> Model:
    """Set u from comparisons of random record pairs (nearly all non-matches).

    Equality levels whose share among all pairs is known from value counts
    (``agreement``, see :func:`matching.compare.agreement_shares`) take that
    share instead of the sampled one; the sample still says how often the
    comparison is not missing, and splits the rest among the other levels.
    """
    parties = dict(base.parties)
    for code, party in enumerate(PARTIES):
        rows = np.flatnonzero(random_pairs.party == code)
        if len(rows) == 0:
            continue
        exact = (agreement or {}).get(code, {})
        parties[party] = _party_u(random_pairs.levels[rows], parties[party], exact)
    return replace(base, parties=parties)


def _party_u(
    random_levels: npt.NDArray[np.int8],
    params: PartyParameters,
    exact: Mapping[str, Mapping[int, float]],
) -> PartyParameters:
    comparisons = []
    for c, p in enumerate(params.comparisons):
        counts: FloatArray = np.bincount(random_levels[:, c], minlength=len(p.levels)).astype(
            np.float64
        )
        # Half a pseudo-pair per level keeps a never-seen agreement level
        # (two random records with the same USCC) finite.
        counts[1:] += U_PSEUDO_COUNT
        comparisons.append(replace(p, u=_u_with_exact(counts, exact.get(p.name, {}))))
    return replace(params, comparisons=tuple(comparisons))


def _u_with_exact(counts: FloatArray, exact: Mapping[int, float]) -> tuple[float, ...]:
    """u per level: ``exact`` shares of all pairs made conditional on not missing."""
    if not exact:
        return _normalise(counts)
    present = float(counts[1:].sum()) / float(counts.sum())
    fixed = {level: min(share / present, 0.5) for level, share in exact.items()}
    rest = counts.copy()
    rest[0] = 0.0
    for level in fixed:
        rest[level] = 0.0
    u = rest / rest.sum() * (1.0 - sum(fixed.values()))
    for level, value in fixed.items():
        u[level] = value
    u[0] = 1.0
    return _normalise(u)


def _m_update(
    levels: npt.NDArray[np.int8],
    weights: FloatArray,
    prior_m: Sequence[float],
    strength: float,
    fixed: frozenset[int] = frozenset(),
) -> tuple[float, ...]:
    sums: FloatArray = np.bincount(levels, weights=weights, minlength=len(prior_m)).astype(
        np.float64
    )
    sums[1:] += strength * np.asarray(prior_m[1:], dtype=np.float64)
    if not fixed:
        return _normalise(sums)
    free = [level for level in range(1, len(sums)) if level not in fixed]
    held = sum(prior_m[level] for level in fixed)
    out = np.zeros(len(sums))
    out[free] = sums[free] / sums[free].sum() * (1.0 - held)
    for level in fixed:
        out[level] = prior_m[level]
    return _normalise(out)


@dataclass(frozen=True, slots=True)
class _Patterns:
    """Distinct level vectors with how many pairs show each."""

    levels: npt.NDArray[np.int8]
    counts: FloatArray


def _patterns(levels: npt.NDArray[np.int8]) -> _Patterns:
    # Each comparison takes the bits its levels need; when they all fit in one
    # 64-bit word (they do for the shipped comparisons) a 1-D unique is fast.
    widths = [max(1, int(levels[:, c].max(initial=0)).bit_length()) for c in range(levels.shape[1])]
    if sum(widths) > 63:
        packed = np.zeros((len(levels), -(-levels.shape[1] // 16)), dtype=np.int64)
        for c in range(levels.shape[1]):
            packed[:, c // 16] |= levels[:, c].astype(np.int64) << (4 * (c % 16))
        _, first, counts = np.unique(packed, axis=0, return_index=True, return_counts=True)
        return _Patterns(levels=levels[first], counts=counts.astype(np.float64))
    key = np.zeros(len(levels), dtype=np.int64)
    shift = 0
    for c, width in enumerate(widths):
        key |= levels[:, c].astype(np.int64) << shift
        shift += width
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    return _Patterns(levels=levels[first], counts=counts.astype(np.float64))


@dataclass(frozen=True, slots=True)
class _Session:
    """Candidate pairs agreeing on one strong attribute, and what that biases.

    Among pairs selected by agreeing on ``on`` the non-matches still look like
    random pairs on every other attribute, so u from random pairs stays right
    for those; the comparisons in ``blind`` (the selecting one, and any derived
    from the same source) learn nothing here.
    """

    on: str
    min_level: int
    blind: frozenset[str]


SESSIONS = (
    _Session("uscc", 2, frozenset({"uscc"})),
    # Birth date and gender are derived from the resident id.
    _Session("national_id", 2, frozenset({"national_id", "birth_date", "gender"})),
    _Session("name", 6, frozenset({"name"})),
    _Session("phones", PHONE_LEVELS.index("shared_landline"), frozenset({"phones"})),
    _Session("emails", EMAIL_LEVELS.index("shared"), frozenset({"emails"})),
    _Session("contact", CONTACT_LEVELS.index("same"), frozenset({"contact"})),
    _Session("address", 4, frozenset({"address"})),
    _Session("identifiers", 3, frozenset({"identifiers"})),
    _Session("birth_date", 3, frozenset({"birth_date", "national_id"})),
    _Session("surname", 4, frozenset({"surname"})),
)


def _log_odds(
    patterns: _Patterns, m: Sequence[FloatArray], u: Sequence[FloatArray], active: Sequence[bool]
) -> FloatArray:
    out = np.zeros(len(patterns.counts))
    for c, (m_c, u_c) in enumerate(zip(m, u, strict=True)):
        if not active[c]:
            continue
        level = patterns.levels[:, c]
        contribution = np.log2(m_c[level] / u_c[level])
        contribution[level == 0] = 0.0
        out += contribution
    return out


def _posterior(log2_odds: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp2(-np.clip(log2_odds, -500, 500)))
    return result


def _em_session(
    patterns: _Patterns,
    params: PartyParameters,
    active: Sequence[bool],
    iterations: int,
    tolerance: float,
) -> tuple[list[FloatArray], float]:
    """EM with u fixed: m of the active comparisons and the expected number of matches."""
    prior_m = [c.m for c in params.comparisons]
    fixed = [FIXED_M_LEVELS.get(c.name, frozenset()) for c in params.comparisons]
    u = [np.asarray(c.u, dtype=np.float64) for c in params.comparisons]
    m = [np.asarray(c.m, dtype=np.float64) for c in params.comparisons]
    share = 0.5
    weights = patterns.counts * share
    for _ in range(iterations):
        log_odds = math.log2(share / (1.0 - share)) + _log_odds(patterns, m, u, active)
        weights = _posterior(log_odds) * patterns.counts
        new_share = float(np.clip(weights.sum() / patterns.counts.sum(), 1e-6, 1 - 1e-6))
        new_m = [
            np.asarray(
                _m_update(patterns.levels[:, c], weights, prior_m[c], PRIOR_STRENGTH, fixed[c])
            )
            if active[c]
            else m[c]
            for c in range(len(m))
        ]
        m_change = max(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True))
        change = max(abs(new_share - share), m_change)
        share, m = new_share, new_m
        if change < tolerance:
            break
    return m, float(weights.sum())


def _estimate_m(
    levels: npt.NDArray[np.int8], params: PartyParameters, iterations: int, tolerance: float
) -> PartyParameters:
    """m per comparison, averaged over the sessions that are not blind to it."""
    names = [c.name for c in params.comparisons]
    totals = [np.zeros(len(c.levels)) for c in params.comparisons]
    mass = np.zeros(len(names))
    for session in SESSIONS:
        column = names.index(session.on)
        rows = levels[:, column] >= session.min_level
        if rows.sum() < 2:
            continue
        active = [name not in session.blind for name in names]
        m, matches = _em_session(_patterns(levels[rows]), params, active, iterations, tolerance)
        for c in range(len(names)):
            if active[c]:
                totals[c] += matches * m[c]
                mass[c] += matches
    comparisons = tuple(
        replace(p, m=_normalise(totals[c] / mass[c])) if mass[c] > 0 else p
        for c, p in enumerate(params.comparisons)
    )
    return replace(params, comparisons=comparisons)


def _estimate_prior(
    levels: npt.NDArray[np.int8], params: PartyParameters, population: int, iterations: int
) -> float:
    """The share of matches among *all* record pairs of the population.

    Pairs left out by blocking are taken as non-matches, so the expected
    number of matches is the posterior mass of the candidates.
    """
    all_pairs = max(population * (population - 1) / 2, 1.0)
    patterns = _patterns(levels)
    m = [np.asarray(c.m, dtype=np.float64) for c in params.comparisons]
    u = [np.asarray(c.u, dtype=np.float64) for c in params.comparisons]
    evidence = _log_odds(patterns, m, u, [True] * len(m))
    share = min(len(levels) / all_pairs / 2, 0.5)
    for _ in range(iterations):
        expected = float(
            (_posterior(math.log2(share / (1 - share)) + evidence) * patterns.counts).sum()
        )
        share = float(np.clip(expected / all_pairs, 1e-12, 0.5))
    return share


def estimate_model(
    candidates: ComparisonVectors,
    random_pairs: ComparisonVectors,
    *,
    populations: Mapping[PartyType, int],
    frequencies: TermFrequencies | None = None,
    iterations: int = 25,
    tolerance: float = 1e-4,
    start: Model | None = None,
    agreement: AgreementShares | None = None,
) -> Model:
    """u from ``random_pairs``, m by EM sessions over ``candidates``, then the prior.

    Each session takes the candidates agreeing on one strong attribute (same
    USCC, same name, a shared phone …) and estimates m for the other
    comparisons, as Splink does per blocking rule. ``populations`` (records per
    party type) turns the expected number of matches into the prior share of
    matches among all pairs. ``start`` (default: the built-in priors) supplies
    the starting m and the parameters of a party type with no pairs at all.
    """
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    base = start or Model(parties={p: prior_parameters() for p in PARTIES})
    parties = dict(base.parties)
    for code, party in enumerate(PARTIES):
        random_levels = random_pairs.levels[random_pairs.party == code]
        if len(random_levels) == 0:
            continue
        exact = (agreement or {}).get(code, {})
        raw = _party_u(random_levels, base.parties[party], exact)
        rows = np.flatnonzero(candidates.party == code)
        if len(rows) == 0:
            parties[party] = raw
            continue
        levels = candidates.levels[rows]
        seen = _seen_levels(levels, random_levels)
        population = populations.get(party, 0)
        params = _fit_party(
            levels,
            raw,
            seen=seen,
            population=population,
            iterations=iterations,
            tolerance=tolerance,
        )
        for _ in range(DUPLICATE_ROUNDS if exact else 0):
            # The value counts behind ``exact`` include the duplicates
            # themselves (a person's mobile on three of their records): take
            # out the matches the model expects among the candidates, so that
            # u is the agreement rate of *non-matches*.
            unique = _without_duplicates(levels, params, exact, population)
            corrected = _party_u(random_levels, base.parties[party], unique)
            corrected = replace(
                corrected,
                comparisons=tuple(
                    replace(c, tf_u=r.u if r.u != c.u else None)
                    for c, r in zip(corrected.comparisons, raw.comparisons, strict=True)
                ),
            )
            params = _fit_party(
                levels,
                corrected,
                seen=seen,
                population=population,
                iterations=iterations,
                tolerance=tolerance,
            )
        parties[party] = params
    return Model(
        parties=parties,
        frequencies=frequencies if frequencies is not None else base.frequencies,
    )


def _fit_party(
    levels: npt.NDArray[np.int8],
    params: PartyParameters,
    *,
    seen: Sequence[set[int]],
    population: int,
    iterations: int,
    tolerance: float,
) -> PartyParameters:
    """m by EM sessions, unseen and neutral levels neutralised, then the prior."""
    params = _estimate_m(levels, params, iterations, tolerance)
    params = _neutralise_unseen(params, seen)
    prior = _estimate_prior(levels, params, population, iterations)
    return replace(params, prior=prior)


def _without_duplicates(
    levels: npt.NDArray[np.int8],
    params: PartyParameters,
    exact: Mapping[str, Mapping[int, float]],
    population: int,
) -> dict[str, dict[int, float]]:
    """``exact`` shares less the matches expected at each level among the candidates.

    Some of every share is kept (:data:`DUPLICATE_FLOOR`): a shared mobile or
    e-mail box between two people is rare, never impossible.
    """
    all_pairs = max(population * (population - 1) / 2, 1.0)
    patterns = _patterns(levels)
    m = [np.asarray(c.m, dtype=np.float64) for c in params.comparisons]
    u = [np.asarray(c.u, dtype=np.float64) for c in params.comparisons]
    evidence = _log_odds(patterns, m, u, [True] * len(m))
    matches = _posterior(params.prior_weight + evidence) * patterns.counts
    names = [c.name for c in params.comparisons]
    out: dict[str, dict[int, float]] = {}
    for name, shares in exact.items():
        column = patterns.levels[:, names.index(name)]
        out[name] = {}
        for level, share in shares.items():
            expected = float(matches[column == level].sum()) / all_pairs
            out[name][level] = max(share - expected, share * DUPLICATE_FLOOR)
    return out


def _seen_levels(*level_sets: npt.NDArray[np.int8]) -> list[set[int]]:
    """Per comparison, the levels that occur in any of ``level_sets``."""
    columns = len(COMPARISONS)
    return [
        {int(x) for levels in level_sets for x in np.unique(levels[:, c])} for c in range(columns)
    ]


def _neutralise_unseen(params: PartyParameters, seen: Sequence[set[int]]) -> PartyParameters:
    """A level seen in neither random pairs nor candidates weighs nothing (as do neutral ones).

    Otherwise its weight would be the ratio of two pseudo-counts (a prior m
    over half a pair in a sample of random pairs): a number the data never
    supported, which would decide the first pair that shows it.
    """
    comparisons = []
    for c, p in enumerate(params.comparisons):
        neutral = NEUTRAL_LEVELS.get(p.name, frozenset())
        unseen = [
            level for level in range(1, len(p.levels)) if level not in seen[c] or level in neutral
        ]
        if not unseen:
            comparisons.append(p)
            continue
        u = np.asarray(p.u, dtype=np.float64)
        held = sum(p.m[level] for level in unseen)
        free = [level for level in range(1, len(u)) if level not in unseen]
        if free:
            u[free] = u[free] / u[free].sum() * (1.0 - held)
        for level in unseen:
            u[level] = p.m[level]
        comparisons.append(replace(p, u=_normalise(u)))
    return replace(params, comparisons=tuple(comparisons))


def sample_pairs(
    party: npt.NDArray[np.int8], size: int, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Random pairs of records of the same party type, for estimating u.

    Small populations give all their pairs; large ones ``size`` pairs drawn
    uniformly (with replacement) per party type.
    """
    if size < 1:
        raise ValueError(f"sample size must be at least 1, got {size}")
    rng = np.random.default_rng(seed)
    lefts: list[npt.NDArray[np.int64]] = []
    rights: list[npt.NDArray[np.int64]] = []
    for code in range(len(PARTIES)):
        members = np.flatnonzero(party == code).astype(np.int64)
        n = len(members)
        if n < 2:
            continue
        if n * (n - 1) // 2 <= size:
            i, j = np.triu_indices(n, k=1)
        else:
            i = rng.integers(0, n, size=size)
            j = rng.integers(0, n - 1, size=size)
            j = j + (j >= i)  # uniform over the other records
        lefts.append(members[i])
        rights.append(members[j])
    if not lefts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(lefts), np.concatenate(rights)
