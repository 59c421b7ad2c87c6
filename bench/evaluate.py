"""Pairwise precision, recall and F1 of predicted clusters against the truth.

Pairs are counted from cluster sizes (``n·(n−1)/2`` per cell of the contingency
table of predicted cluster × true entity), never enumerated, so a million records
cost one pass. Review pairs are scored as a data steward would settle them: every
true pair proposed for review is accepted and merges the two predicted clusters.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PairwiseScores",
    "RecordKey",
    "ReviewScores",
    "load_clusters",
    "load_review_pairs",
    "load_truth",
    "pairwise_scores",
    "review_scores",
]

RecordKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class PairwiseScores:
    """Counts of pairs and the derived precision, recall and F1."""

    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        """Share of predicted pairs that are true (1.0 when nothing is predicted)."""
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs that are predicted (1.0 when there are none)."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class ReviewScores:
    """What auto-links plus accepted review proposals reach."""

    review_pairs: int
    true_review_pairs: int
    recall_with_review: float
    records_in_review_share: float


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(
    predicted: Mapping[RecordKey, Hashable], truth: Mapping[RecordKey, Hashable]
) -> PairwiseScores:
    """Score ``predicted`` (record → cluster) against ``truth`` (record → entity).

    A record of the truth missing from ``predicted`` counts as a singleton;
    predicted records unknown to the truth are an error (the files do not match).
    """
    unknown = predicted.keys() - truth.keys()
    if unknown:
        example = next(iter(unknown))
        raise ValueError(f"{len(unknown)} predicted records are not in the truth, e.g. {example}")
    cluster_sizes: Counter[Hashable] = Counter()
    entity_sizes: Counter[Hashable] = Counter()
    cells: Counter[tuple[Hashable, Hashable]] = Counter()
    for key, entity in truth.items():
        # A missing record gets a cluster of its own, keyed so it meets nobody.
        cluster = predicted.get(key, ("__missing__", key))
        cluster_sizes[cluster] += 1
        entity_sizes[entity] += 1
        cells[cluster, entity] += 1
    return PairwiseScores(
        records=len(truth),
        true_pairs=sum(_pairs(n) for n in entity_sizes.values()),
        predicted_pairs=sum(_pairs(n) for n in cluster_sizes.values()),
        correct_pairs=sum(_pairs(n) for n in cells.values()),
    )


def review_scores(
    predicted: Mapping[RecordKey, Hashable],
    truth: Mapping[RecordKey, Hashable],
    review_pairs: Iterable[tuple[RecordKey, RecordKey]],
) -> ReviewScores:
    """Recall once a steward accepts every true review pair, and the review load."""
    parent: dict[Hashable, Hashable] = {}

    def find(x: Hashable) -> Hashable:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression keeps later finds flat
            parent[x], x = root, parent.get(x, x)
        return root

    def cluster_of(key: RecordKey) -> Hashable:
        return predicted.get(key, ("__missing__", key))

    touched: set[RecordKey] = set()
    total = accepted = 0
    for left, right in review_pairs:
        total += 1
        touched.update((left, right))
        if truth.get(left) is not None and truth.get(left) == truth.get(right):
            accepted += 1
            a, b = find(cluster_of(left)), find(cluster_of(right))
            if a != b:
                parent[a] = b
    merged = {key: find(cluster_of(key)) for key in truth}
    scores = pairwise_scores(merged, truth)
    return ReviewScores(
        review_pairs=total,
        true_review_pairs=accepted,
        recall_with_review=scores.recall,
        records_in_review_share=len(touched) / len(truth) if truth else 0.0,
    )


def load_truth(path: Path) -> dict[RecordKey, str]:
    """Read ``truth.csv`` (source, source_key, entity_id)."""
    with path.open(encoding="utf-8", newline="") as f:
        return {(row["source"], row["source_key"]): row["entity_id"] for row in csv.DictReader(f)}


def load_clusters(path: Path) -> dict[RecordKey, str]:
    """Read a match output: one JSON line per record with ``cluster_id``."""
    out: dict[RecordKey, str] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                out[str(row["source"]), str(row["source_key"])] = str(row["cluster_id"])
    return out


def load_review_pairs(path: Path) -> list[tuple[RecordKey, RecordKey]]:
    """Read review proposals: ``{"left": {source, source_key}, "right": {...}}`` lines."""
    pairs: list[tuple[RecordKey, RecordKey]] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                left, right = row["left"], row["right"]
                pairs.append(
                    (
                        (str(left["source"]), str(left["source_key"])),
                        (str(right["source"]), str(right["source_key"])),
                    )
                )
    return pairs
