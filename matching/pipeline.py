"""Batch matching: block → compare → estimate (if needed) → score → decide → cluster.

Records are put in canonical (source, source_key) order first, so the same
input in any order gives the same model, the same decisions and the same
cluster ids.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from matching.block import (
    DEFAULT_MAX_BLOCK_SIZE,
    DEFAULT_RULES,
    BlockingRule,
    KeyHashes,
    candidate_pairs,
)
from matching.cluster import cluster_id, cluster_links, exclusive_attributes
from matching.compare import PARTIES, Columns, ComparisonVectors, agreement_shares, compare_pairs
from matching.decide import (
    AUTO_CODE,
    DECISIONS,
    DISTINCT_CODE,
    REVIEW_CODE,
    Decision,
    Rule,
    ScoredPair,
    Thresholds,
    decide_pairs_ruled,
    explain_many,
    rule_code,
)
from matching.model import Model, estimate_model, sample_pairs
from matching.record import PartyType
from matching.types import StandardRecord

__all__ = [
    "Assignment",
    "MatchConfig",
    "MatchResult",
    "MatchStats",
    "MatchTrace",
    "Progress",
    "fit_model",
    "match_records",
    "trace_match",
]


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Settings of a batch run, validated at construction."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    rules: tuple[BlockingRule, ...] = DEFAULT_RULES
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE
    em_iterations: int = 25
    em_tolerance: float = 1e-4
    u_sample_size: int = 200_000
    seed: int = 20_240_601
    # Below this many records a batch is too small to say which values are
    # common; a given model's frequencies are used instead.
    tf_min_records: int = 10_000
    # Below this many records, blocking (with keys hashed beforehand) runs in
    # a thread while the columns are laid out; from it on they take turns:
    # their arrays at once took a million-record run from 3.7 to 4.0 GB.
    overlap_blocking_below: int = 500_000

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError("at least one blocking rule is needed")
        names = [rule.name for rule in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"blocking rule names must be unique, got {names}")
        if self.max_block_size < 2:
            raise ValueError(f"max_block_size must be at least 2, got {self.max_block_size}")
        if self.em_iterations < 1:
            raise ValueError(f"em_iterations must be at least 1, got {self.em_iterations}")
        if not (math.isfinite(self.em_tolerance) and self.em_tolerance > 0):
            raise ValueError(f"em_tolerance must be a positive number, got {self.em_tolerance}")
        if self.u_sample_size < 1_000:
            raise ValueError(f"u_sample_size must be at least 1000, got {self.u_sample_size}")
        if self.tf_min_records < 0:
            raise ValueError(f"tf_min_records must not be negative, got {self.tf_min_records}")
        if self.overlap_blocking_below < 0:
            raise ValueError(
                f"overlap_blocking_below must not be negative, got {self.overlap_blocking_below}"
            )


class Progress(Protocol):
    """Told when a stage starts: its name, its position and the number of stages."""

    def __call__(self, stage: str, step: int, steps: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one record ended up."""

    source: str
    source_key: str
    cluster_id: str
    decision: Decision

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form (the output-file line)."""
        return {
            "source": self.source,
            "source_key": self.source_key,
            "cluster_id": self.cluster_id,
            "decision": self.decision.value,
        }


@dataclass(frozen=True, slots=True)
class MatchStats:
    """Counts and stage timings of a run."""

    records: int
    candidate_pairs: int
    capped_keys: int
    auto_links: int
    refused_links: int
    review_pairs: int
    clusters: int
    seconds: dict[str, float]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Per-record assignments (input order), review pairs (strongest first), the model."""

    assignments: tuple[Assignment, ...]
    reviews: tuple[ScoredPair, ...]
    model: Model
    stats: MatchStats


@dataclass(frozen=True, slots=True, eq=False)
class MatchTrace:
    """What a batch run decided on the way, for analysis; records in canonical order.

    ``codes`` are the final decision codes per compared pair (a link refused
    by a constraint is a review), ``rules`` the rule that set each (a
    :data:`~matching.decide.RULES` code, 0 for none); ``labels`` the
    auto-link cluster of each record; ``review_rows`` the rows of
    ``vectors`` proposed for review; ``order`` the input position of each
    canonical row.
    """

    records: tuple[StandardRecord, ...]
    order: npt.NDArray[np.int64]
    thresholds: Thresholds
    columns: Columns
    vectors: ComparisonVectors
    weights: npt.NDArray[np.float64]
    codes: npt.NDArray[np.int8]
    rules: npt.NDArray[np.int8]
    labels: npt.NDArray[np.int64]
    review_rows: npt.NDArray[np.int64]


_STAGES = ("block", "compare", "estimate", "score", "cluster", "explain")


def fit_model(cols: Columns, candidates: ComparisonVectors, config: MatchConfig) -> Model:
    """Estimate a model from laid-out records and their candidate pairs."""
    left, right = sample_pairs(cols.party, config.u_sample_size, config.seed)
    random_pairs = compare_pairs(cols, left, right)
    populations = {party: int(np.count_nonzero(cols.party == c)) for c, party in enumerate(PARTIES)}
    return estimate_model(
        candidates,
        random_pairs,
        populations=populations,
        iterations=config.em_iterations,
        tolerance=config.em_tolerance,
        agreement=agreement_shares(cols),
    )


def match_records(
    records: Iterable[StandardRecord],
    config: MatchConfig | None = None,
    model: Model | None = None,
    progress: Progress | None = None,
    key_hashes: KeyHashes | None = None,
) -> MatchResult:
    """Match a batch of records; estimate the model from them unless one is given.

    ``key_hashes``, aligned with ``records``, are their
    :func:`~matching.block.blocking_key_hashes` under ``config.rules`` when the
    caller computed them already (in the processes that standardized them).
    """
    result, _ = trace_match(records, config, model, progress, key_hashes)
    return result


def trace_match(
    records: Iterable[StandardRecord],
    config: MatchConfig | None = None,
    model: Model | None = None,
    progress: Progress | None = None,
    key_hashes: KeyHashes | None = None,
) -> tuple[MatchResult, MatchTrace]:
    """:func:`match_records`, with the pairs, weights and decisions behind the result."""
    config = config or MatchConfig()
    given = list(records)
    order = _canonical_order(given)
    ordered = [given[i] for i in order]
    if key_hashes is not None and len(key_hashes) != len(given):
        raise ValueError(f"{len(key_hashes)} key hash lists for {len(given)} records")
    hashes = None if key_hashes is None else key_hashes.take(np.asarray(order, dtype=np.int64))
    n = len(ordered)
    seconds: dict[str, float] = {}
    clock = _StageClock(seconds, progress)

    clock.start("block")
    use_model_tf = model is not None and n < config.tf_min_records
    frequencies = model.frequencies if use_model_tf and model else None
    if hashes is None or n >= config.overlap_blocking_below:
        pairs = candidate_pairs(ordered, config.rules, config.max_block_size, hashes)
        cols = Columns.from_records(ordered, frequencies)
    else:
        # With the keys hashed beforehand (where the records were read),
        # blocking is NumPy sorting, which leaves the interpreter free: the
        # columns are laid out meanwhile (the "block" stage holds both).
        with ThreadPoolExecutor(max_workers=1) as pool:
            blocking = pool.submit(
                candidate_pairs, ordered, config.rules, config.max_block_size, hashes
            )
            cols = Columns.from_records(ordered, frequencies)
            pairs = blocking.result()
    clock.start("compare")
    vectors = compare_pairs(cols, pairs.left, pairs.right)
    clock.start("estimate")
    if model is None:
        model = fit_model(cols, vectors, config)
    clock.start("score")
    weights = model.match_weights(vectors)
    decided = decide_pairs_ruled(weights, vectors, config.thresholds)
    codes, rules = decided.codes, decided.rules
    clock.start("cluster")
    auto = np.flatnonzero(codes == AUTO_CODE)
    clustering = cluster_links(
        n,
        vectors.left[auto],
        vectors.right[auto],
        weights[auto],
        exclusive=exclusive_attributes(cols),
    )
    # A link refused by a constraint is a question for a steward.
    codes[auto[clustering.refused]] = REVIEW_CODE
    rules[auto[clustering.refused]] = rule_code(Rule.REFUSED_LINK)
    clock.start("explain")
    review_rows = _review_rows(codes, weights, vectors, clustering.labels, config.thresholds)
    reviews = tuple(
        ScoredPair(
            left=ordered[int(vectors.left[k])].key,
            right=ordered[int(vectors.right[k])].key,
            weight=float(weights[k]),
            decision=Decision.REVIEW,
            explanation=explanation,
        )
        for k, explanation in zip(
            review_rows, explain_many(model, vectors, review_rows, rules), strict=True
        )
    )
    assignments = _assignments(ordered, clustering.labels, vectors, review_rows)
    clock.stop()
    by_input = [assignments[0]] * n if n else []
    for position, index in enumerate(order):
        by_input[index] = assignments[position]
    trace = MatchTrace(
        records=tuple(ordered),
        order=np.asarray(order, dtype=np.int64),
        thresholds=config.thresholds,
        columns=cols,
        vectors=vectors,
        weights=weights,
        codes=codes,
        rules=rules,
        labels=clustering.labels,
        review_rows=review_rows,
    )
    result = MatchResult(
        assignments=tuple(by_input),
        reviews=reviews,
        model=model,
        stats=MatchStats(
            records=n,
            candidate_pairs=len(pairs),
            capped_keys=pairs.capped_keys,
            auto_links=len(auto) - int(clustering.refused.sum()),
            refused_links=int(clustering.refused.sum()),
            review_pairs=len(reviews),
            clusters=clustering.count,
            seconds=seconds,
        ),
    )
    return result, trace


class _StageClock:
    def __init__(self, seconds: dict[str, float], progress: Progress | None) -> None:
        self.seconds = seconds
        self.progress = progress
        self.stage: str | None = None
        self.started = 0.0

    def start(self, stage: str) -> None:
        self.stop()
        self.stage, self.started = stage, time.perf_counter()
        if self.progress is not None:
            self.progress(stage, _STAGES.index(stage) + 1, len(_STAGES))

    def stop(self) -> None:
        if self.stage is not None:
            self.seconds[self.stage] = time.perf_counter() - self.started
            self.stage = None


def _canonical_order(records: Sequence[StandardRecord]) -> list[int]:
    order = sorted(range(len(records)), key=lambda i: records[i].key)
    for previous, current in itertools.pairwise(order):
        if records[previous].key == records[current].key:
            source, key = records[current].key
            raise ValueError(f"record ({source}, {key}) appears more than once")
    return order


def _review_rows(
    codes: npt.NDArray[np.int8],
    weights: npt.NDArray[np.float64],
    vectors: ComparisonVectors,
    labels: npt.NDArray[np.int64],
    thresholds: Thresholds,
) -> npt.NDArray[np.int64]:
    """The strongest review pair per pair of clusters, strongest first.

    A pair below its review threshold is in review for its name alone (see
    :func:`~matching.decide.decide_pairs`): a question worth asking about a
    record that stands alone, not about two clusters the auto-links built on
    better evidence.
    """
    rows = np.flatnonzero(codes == REVIEW_CODE)
    a, b = labels[vectors.left[rows]], labels[vectors.right[rows]]
    lower = np.full(len(rows), thresholds.bounds(PartyType.ORGANIZATION)[0])
    lower[vectors.party[rows] == PARTIES.index(PartyType.PERSON)] = thresholds.bounds(
        PartyType.PERSON
    )[0]
    sizes = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
    settled = (weights[rows] < lower) & (sizes[a] > 1) & (sizes[b] > 1)
    keep = (a != b) & ~settled
    rows, a, b = rows[keep], a[keep], b[keep]
    if len(rows) == 0:
        empty: npt.NDArray[np.int64] = rows.astype(np.int64)
        return empty
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((rows, -weights[rows]))
    packed = lo[order] * (int(labels.max()) + 1) + hi[order]
    _, first = np.unique(packed, return_index=True)
    best: npt.NDArray[np.int64] = rows[order[np.sort(first)]].astype(np.int64)
    return best


def _assignments(
    records: Sequence[StandardRecord],
    labels: npt.NDArray[np.int64],
    vectors: ComparisonVectors,
    review_rows: npt.NDArray[np.int64],
) -> list[Assignment]:
    n = len(records)
    sizes = np.bincount(labels, minlength=1) if n else np.zeros(0, dtype=np.int64)
    # Records are in canonical order, so a cluster's first member is its
    # smallest (source, source_key): the id survives any input order.
    by_label = np.argsort(labels, kind="stable")
    first = by_label[np.cumsum(sizes) - sizes] if n else by_label
    ids = [cluster_id(*records[int(i)].key) for i in first]
    in_review = np.zeros(n, dtype=np.bool_)
    in_review[vectors.left[review_rows]] = True
    in_review[vectors.right[review_rows]] = True
    linked = (sizes > 1)[labels] if n else in_review
    decisions = np.where(linked, AUTO_CODE, np.where(in_review, REVIEW_CODE, DISTINCT_CODE))
    return [
        Assignment(record.source, record.source_key, ids[label], DECISIONS[code])
        for record, label, code in zip(records, labels.tolist(), decisions.tolist(), strict=True)
    ]
