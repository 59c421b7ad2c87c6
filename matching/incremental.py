"""Matching one submitted record against the records already known.

:class:`MatchIndex` keeps standardized records in memory with their cluster
ids and an inverted index of blocking keys; :meth:`MatchIndex.candidates` is the
call the hub makes per submitted record. A database-backed hub does the same
without the index: store :func:`blocking_keys` per record, fetch the records
sharing a key (skipping keys held by more than the block cap), and score them
with :func:`score_candidates`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from matching.block import DEFAULT_MAX_BLOCK_SIZE, DEFAULT_RULES, BlockingRule, blocking_keys
from matching.compare import (
    COMMON_COUNT,
    NO_COUNTS,
    RARE_HOLDERS,
    Columns,
    ComparisonVectors,
    FrequencySource,
    compare_pairs,
    record_terms,
)
from matching.decide import (
    DECISIONS,
    DISTINCT_CODE,
    REVIEW_CODE,
    Decision,
    Rule,
    ScoredPair,
    Thresholds,
    contradictions,
    decide_pairs_ruled,
    explain_many,
    rule_code,
)
from matching.model import Model
from matching.record import PartyType
from matching.types import StandardRecord

__all__ = [
    "CandidateCluster",
    "MatchIndex",
    "blocking_keys",
    "score_candidates",
]

# Below this many records an index is too small to say which values are
# common; the model's frequencies (from its training corpus) are used instead.
MIN_RECORDS_FOR_OWN_FREQUENCIES = 10_000


def score_candidates(
    model: Model,
    record: StandardRecord,
    candidates: Sequence[StandardRecord],
    thresholds: Thresholds | None = None,
    frequencies: FrequencySource | None = None,
    *,
    customers: Sequence[str] | None = None,
) -> list[ScoredPair]:
    """Score, decide and explain ``record`` against each candidate, in candidate order.

    Term frequencies come from ``frequencies`` (default: the model's).
    ``customers``, when given, names the cluster each candidate belongs to:
    a question that another candidate of its cluster settles is then no
    question (:meth:`_CandidateScores.contradicted_within`).
    """
    if not candidates:
        return []
    scores = _CandidateScores.of(model, record, candidates, thresholds, frequencies)
    if customers is not None:
        scores = scores.contradicted_within(customers)
    return scores.pairs(range(len(candidates)))


@dataclass(frozen=True, slots=True)
class _CandidateScores:
    """A record's weights and decisions against its candidates, explained on demand.

    Explaining is the dearest part of scoring and a caller keeps few of the
    pairs (an index returns the best member of a few clusters): only the
    pairs asked for are explained. A pair's explanation depends on that pair
    alone, so it is the same whichever others are explained with it.
    """

    model: Model
    record: StandardRecord
    candidates: Sequence[StandardRecord]
    weights: list[float]
    codes: list[int]
    vectors: ComparisonVectors
    rules: npt.NDArray[np.int8]

    @classmethod
    def of(
        cls,
        model: Model,
        record: StandardRecord,
        candidates: Sequence[StandardRecord],
        thresholds: Thresholds | None = None,
        frequencies: FrequencySource | None = None,
    ) -> _CandidateScores:
        cols = Columns.from_records([record, *candidates], frequencies or model.frequencies)
        right = np.arange(1, len(candidates) + 1, dtype=np.int64)
        vectors = compare_pairs(cols, np.zeros(len(candidates), dtype=np.int64), right)
        weights = model.match_weights(vectors)
        decided = decide_pairs_ruled(weights, vectors, thresholds or Thresholds())
        return cls(
            model=model,
            record=record,
            candidates=candidates,
            weights=weights.tolist(),
            codes=decided.codes.tolist(),
            vectors=vectors,
            rules=decided.rules,
        )

    def contradicted_within(self, customers: Sequence[str]) -> _CandidateScores:
        """These scores, with :data:`Rule.CONTRADICTED` applied among the candidates' customers.

        ``customers[k]`` is the cluster of candidate ``k``. A review pair without
        evidence of its own is distinct when another candidate of its cluster
        disagrees with the record on what a customer has only one of, as
        batch matching decides between groups of linked records.
        """
        told = contradictions(self.vectors)
        disagreeing = Counter(
            customer
            for customer, disagrees in zip(customers, told.disagree.tolist(), strict=True)
            if disagrees
        )
        codes, rules = list(self.codes), self.rules.copy()
        for row, customer in enumerate(customers):
            others = disagreeing[customer] - int(told.disagree[row])
            if codes[row] == REVIEW_CODE and not told.own[row] and others > 0:
                codes[row], rules[row] = DISTINCT_CODE, rule_code(Rule.CONTRADICTED)
        return replace(self, codes=codes, rules=rules)

    def pairs(self, positions: Iterable[int]) -> list[ScoredPair]:
        """The scored pairs of the candidates at ``positions``, explained, in that order."""
        rows = np.fromiter(positions, dtype=np.int64)
        # One explanation pass for all of them: its tables are per call, not per pair.
        explanations = explain_many(self.model, self.vectors, rows, self.rules)
        return [
            ScoredPair(
                left=self.record.key,
                right=self.candidates[row].key,
                weight=self.weights[row],
                decision=DECISIONS[self.codes[row]],
                explanation=explanation,
            )
            for row, explanation in zip(rows.tolist(), explanations, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class CandidateCluster:
    """An existing cluster the record may belong to, judged by its best-scoring member."""

    cluster_id: str
    weight: float
    decision: Decision
    best: ScoredPair
    members_scored: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "cluster_id": self.cluster_id,
            "score": round(self.weight, 3),
            "decision": self.decision.value,
            "members_scored": self.members_scored,
            "best": self.best.to_dict(),
        }


class MatchIndex:
    """Standardized records with their cluster ids, searchable by blocking key."""

    def __init__(
        self,
        model: Model,
        *,
        thresholds: Thresholds | None = None,
        rules: Sequence[BlockingRule] = DEFAULT_RULES,
        max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    ) -> None:
        if max_block_size < 2:
            raise ValueError(f"max_block_size must be at least 2, got {max_block_size}")
        self.model = model
        self.thresholds = thresholds or Thresholds()
        self.rules = tuple(rules)
        self.max_block_size = max_block_size
        self._records: list[StandardRecord | None] = []
        self._clusters: list[str] = []
        self._free: list[int] = []
        self._slots: dict[tuple[str, str], int] = {}
        # Keys are stored by hash: a collision only adds a candidate to score.
        self._postings: dict[int, list[int]] = {}
        # Keyed by the party's text: a PartyType (a str enum) finds the same entry
        # without the cost of its ``.value``, which lookups per pair would pay.
        self._terms: dict[tuple[str, str], Counter[str]] = {}
        self._totals: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: object) -> bool:
        return key in self._slots

    def cluster_of(self, key: tuple[str, str]) -> str:
        """The cluster id of an indexed record."""
        return self._clusters[self._slots[key]]

    def add(self, record: StandardRecord, cluster_id: str) -> None:
        """Index a record under ``cluster_id``; its key must be new."""
        if record.key in self._slots:
            raise ValueError(f"record {record.key} is already indexed; use update()")
        if self._free:
            slot = self._free.pop()
            self._records[slot], self._clusters[slot] = record, cluster_id
        else:
            slot = len(self._records)
            self._records.append(record)
            self._clusters.append(cluster_id)
        self._slots[record.key] = slot
        for key in blocking_keys(record, self.rules):
            self._postings.setdefault(hash(key), []).append(slot)
        self._count_terms(record, 1)

    def remove(self, key: tuple[str, str]) -> StandardRecord:
        """Drop a record from the index and return it."""
        slot = self._slots.pop(key)
        record = self._records[slot]
        if record is None:
            raise KeyError(key)
        for block_key in blocking_keys(record, self.rules):
            hashed = hash(block_key)
            postings = self._postings[hashed]
            postings.remove(slot)
            if not postings:
                del self._postings[hashed]
        self._count_terms(record, -1)
        self._records[slot] = None
        self._free.append(slot)
        return record

    def update(self, record: StandardRecord, cluster_id: str) -> None:
        """Replace an indexed record (same key) and its cluster id."""
        self.remove(record.key)
        self.add(record, cluster_id)

    def fraction(self, party: PartyType, kind: str, value: str) -> float:
        """Share of indexed ``party`` records whose ``kind`` value is ``value``."""
        total = self._totals.get(party, 0)
        if total < MIN_RECORDS_FOR_OWN_FREQUENCIES:
            return self.model.frequencies.fraction(party, kind, value)
        # The submitted record is not indexed: every holder is an "other" one.
        count = self._terms.get((party, kind), NO_COUNTS).get(value, 0)
        return count / total if count >= COMMON_COUNT - 1 else 0.0

    def rare_share(self, party: PartyType, kind: str, value: str) -> float:
        """:meth:`fraction`, with a rare value's own small share instead of 0.0.

        A value the candidate alone holds in the index has no holder besides
        the pair: it counts :data:`~matching.compare.RARE_HOLDERS`, as in a batch.
        """
        total = self._totals.get(party, 0)
        if total < MIN_RECORDS_FOR_OWN_FREQUENCIES:
            return self.model.frequencies.rare_share(party, kind, value)
        count = self._terms.get((party, kind), NO_COUNTS).get(value, 0)
        if count >= COMMON_COUNT - 1:
            return count / total
        return RARE_HOLDERS / total

    def holders(self, party: PartyType, kind: str, value: str) -> int:
        """How many records hold ``value``: the indexed ones and the submitted record."""
        if self._totals.get(party, 0) < MIN_RECORDS_FOR_OWN_FREQUENCIES:
            return self.model.frequencies.holders(party, kind, value)
        return self._terms.get((party, kind), NO_COUNTS).get(value, 0) + 1

    def candidates(self, record: StandardRecord, limit: int = 5) -> list[CandidateCluster]:
        """The ``limit`` best clusters for ``record``, strongest first, with explanations."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        slots = self._candidate_slots(record)
        members = [self._member(slot) for slot in slots]
        if not members:
            return []
        scores = _CandidateScores.of(self.model, record, members, self.thresholds, self)
        weights = scores.weights
        # Per cluster, the position of its best member: the higher weight, then
        # the smaller key.
        best: dict[str, int] = {}
        counts: Counter[str] = Counter()
        for position, slot in enumerate(slots):
            cluster = self._clusters[slot]
            counts[cluster] += 1
            current = best.get(cluster)
            if current is None or (weights[position], members[current].key) > (
                weights[current],
                members[position].key,
            ):
                best[cluster] = position
        ranked = sorted(best.items(), key=lambda item: (-weights[item[1]], item[0]))[:limit]
        scores = scores.contradicted_within([self._clusters[slot] for slot in slots])
        explained = scores.pairs(position for _, position in ranked)
        return [
            CandidateCluster(cluster, pair.weight, pair.decision, pair, counts[cluster])
            for (cluster, _), pair in zip(ranked, explained, strict=True)
        ]

    def _member(self, slot: int) -> StandardRecord:
        record = self._records[slot]
        if record is None:  # postings never name a free slot
            raise LookupError(f"slot {slot} holds no record")
        return record

    def _candidate_slots(self, record: StandardRecord) -> list[int]:
        own = self._slots.get(record.key)
        found: dict[int, None] = {}
        for key in blocking_keys(record, self.rules):
            postings = self._postings.get(hash(key))
            # A key shared by too many records (a switchboard, 王伟) is
            # skipped, as in batch blocking.
            if postings is None or len(postings) > self.max_block_size:
                continue
            for slot in postings:
                if slot != own:
                    found[slot] = None
        return sorted(found)

    def _count_terms(self, record: StandardRecord, step: int) -> None:
        party = record.party_type.value
        self._totals[party] += step
        for kind, value in record_terms(record):
            counter = self._terms.setdefault((party, kind), Counter())
            counter[value] += step
            if counter[value] <= 0:
                del counter[value]
