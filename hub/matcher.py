"""The hub's use of ``matching/``: blocking keys and pair verdicts for one record.

The database holds the index (``match_key``); this module turns a record and
the candidates found there into verdicts with explanations. The model is the
one trained and shipped with the library, loaded once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from matching.block import DEFAULT_MAX_BLOCK_SIZE, blocking_keys
from matching.decide import Thresholds
from matching.incremental import score_candidates
from matching.model import Model, default_model
from matching.types import StandardRecord


@dataclass(frozen=True, slots=True)
class PairVerdict:
    """What the model says of a record against one candidate."""

    score: float
    decision: str  # auto | review | distinct
    cannot_link: bool
    explanation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Matcher:
    """A model with its thresholds and blocking cap."""

    model: Model
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_key_size: int = DEFAULT_MAX_BLOCK_SIZE

    def keys(self, record: StandardRecord) -> list[str]:
        """The record's blocking keys (what the index stores)."""
        return blocking_keys(record)

    def score(self, record: StandardRecord, others: Sequence[StandardRecord]) -> list[PairVerdict]:
        """One verdict per record of ``others``, in order."""
        return [
            PairVerdict(
                score=pair.weight,
                decision=pair.decision.value,
                cannot_link=bool(pair.explanation.constraints),
                explanation=pair.explanation.to_dict(),
            )
            for pair in score_candidates(self.model, record, others, self.thresholds)
        ]


@cache
def default_matcher() -> Matcher:
    """The matcher built on the library's shipped model."""
    return Matcher(model=default_model())
