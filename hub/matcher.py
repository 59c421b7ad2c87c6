"""The hub's use of ``matching/``: blocking keys and pair verdicts for one record.

The database holds the index (``match_key``); this module turns a record and
the candidates found there into verdicts with explanations. The model is the
one trained and shipped with the library, loaded once per process; term
frequencies are the model's, or those of the stored population once it is
large enough to say which values are common (``hub/services/frequencies.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np

from matching.block import DEFAULT_MAX_BLOCK_SIZE, blocking_keys
from matching.compare import Columns, FrequencySource, compare_pairs
from matching.decide import (
    DECISIONS,
    REVIEW_CODE,
    Thresholds,
    contradictions,
    decide_pairs_ruled,
    explain_many,
)
from matching.model import Model, default_model
from matching.types import StandardRecord


@dataclass(frozen=True, slots=True)
class PairVerdict:
    """What the model says of a record against one candidate.

    The explanation is worked out for pairs the model sends to review (the
    ones a steward reads); an auto or distinct pair carries none. Whether
    the two disagree on what a customer has only one of, and whether they
    share evidence of their own, is what judging a record against all the
    members of a golden record reads (see ``matching.decide.Contradictions``).
    """

    score: float
    decision: str  # auto | review | distinct
    cannot_link: bool
    explanation: dict[str, Any] | None
    disagrees: bool
    shares_own: bool


@dataclass(frozen=True, slots=True)
class Matcher:
    """A model with its thresholds, blocking cap and term frequencies.

    ``frequencies`` left out, the model's own (its training corpus) are used.
    """

    model: Model
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_key_size: int = DEFAULT_MAX_BLOCK_SIZE
    frequencies: FrequencySource | None = field(default=None, compare=False)

    @property
    def term_frequencies(self) -> FrequencySource:
        """The frequencies pairs are scored with."""
        return self.model.frequencies if self.frequencies is None else self.frequencies

    def with_frequencies(self, frequencies: FrequencySource | None) -> Matcher:
        """This matcher scoring with ``frequencies`` (None: the model's)."""
        return replace(self, frequencies=frequencies)

    def keys(self, record: StandardRecord) -> list[str]:
        """The record's blocking keys (what the index stores)."""
        return blocking_keys(record)

    def score(self, record: StandardRecord, others: Sequence[StandardRecord]) -> list[PairVerdict]:
        """One verdict per record of ``others``, in order."""
        return self.score_pairs([record, *others], [(0, k) for k in range(1, len(others) + 1)])

    def score_pairs(
        self, records: Sequence[StandardRecord], pairs: Sequence[tuple[int, int]]
    ) -> list[PairVerdict]:
        """One verdict per pair of positions in ``records``, compared in one pass."""
        if not pairs:
            return []
        columns = Columns.from_records(records, self.term_frequencies)
        left = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        right = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
        vectors = compare_pairs(columns, left, right)
        weights = self.model.match_weights(vectors)
        decided = decide_pairs_ruled(weights, vectors, self.thresholds)
        codes = decided.codes
        in_review = np.flatnonzero(codes == REVIEW_CODE)
        explained = dict(
            zip(
                in_review.tolist(),
                (e.to_dict() for e in explain_many(self.model, vectors, in_review, decided.rules)),
                strict=True,
            )
        )
        told = contradictions(vectors)
        return [
            PairVerdict(
                score=weight,
                decision=DECISIONS[code].value,
                cannot_link=bool(constraints),
                explanation=explained.get(row),
                disagrees=disagrees,
                shares_own=own,
            )
            for row, (weight, code, constraints, disagrees, own) in enumerate(
                zip(
                    weights.tolist(),
                    codes.tolist(),
                    vectors.constraints.tolist(),
                    told.disagree.tolist(),
                    told.own.tolist(),
                    strict=True,
                )
            )
        ]


@cache
def default_matcher() -> Matcher:
    """The matcher built on the library's shipped model."""
    return Matcher(model=default_model())
