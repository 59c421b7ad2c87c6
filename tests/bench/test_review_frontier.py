"""The review frontier counts what bench.evaluate counts, step by step."""

from __future__ import annotations

import numpy as np
import pytest

from bench.corpus import generate_corpus
from bench.evaluate import RecordKey, review_scores
from bench.review_frontier import Frontier, entities, frontier, report
from matching.pipeline import MatchConfig, MatchTrace, trace_match
from matching.record import parse_record
from matching.standardize import standardize_record

Case = tuple[MatchTrace, np.ndarray, dict[RecordKey, str]]


@pytest.fixture(scope="module")
def case() -> Case:
    generated = generate_corpus(600, seed=3)
    records = [standardize_record(parse_record(raw)) for raw in generated.records]
    _, trace = trace_match(records, MatchConfig())
    return trace, entities(trace, generated.truth), generated.truth


@pytest.fixture(scope="module")
def bound(case: Case) -> Frontier:
    trace, entity, _ = case
    return frontier(trace, entity)


def _reviewed(case: Case, rows: np.ndarray) -> tuple[float, float]:
    """Recall and share by bench.evaluate once the pairs at ``rows`` are reviewed."""
    trace, _, truth = case
    keys = [r.key for r in trace.records]
    predicted = {key: int(label) for key, label in zip(keys, trace.labels, strict=True)}
    pairs = [
        (keys[i], keys[j])
        for i, j in zip(trace.vectors.left[rows], trace.vectors.right[rows], strict=True)
    ]
    scores = review_scores(predicted, truth, pairs)
    return scores.recall_with_review, scores.records_in_review_share


def test_current_policy_agrees_with_the_evaluation(case: Case, bound: Frontier) -> None:
    recall, share = _reviewed(case, case[0].review_rows)
    assert bound.policy_recall == pytest.approx(recall)
    assert bound.policy_share == pytest.approx(share)


def test_every_group_reaches_the_current_policy(bound: Frontier) -> None:
    assert bound.policy_recall < 1.0  # otherwise the comparison says nothing
    assert bound.steps[-1].recall >= bound.policy_recall


def test_shares_and_recall_never_fall_as_groups_are_added(bound: Frontier) -> None:
    assert len(bound.steps) == len(bound.groups) + 1 > 2
    shares = [s.share for s in bound.steps]
    recalls = [s.recall for s in bound.steps]
    assert shares == sorted(shares)
    assert recalls == sorted(recalls)
    ratios = [g.ratio for g in bound.groups]
    assert ratios == sorted(ratios, reverse=True)


def test_incremental_count_equals_a_direct_recount(case: Case, bound: Frontier) -> None:
    _, entity, _ = case
    cells = np.unique(np.stack([bound.labels, entity]), axis=1, return_counts=True)[1]
    assert bound.steps[-1].found == int((cells * (cells - 1) // 2).sum())


@pytest.mark.parametrize("fraction", [0.1, 0.5, 1.0])
def test_steps_agree_with_the_evaluation(case: Case, bound: Frontier, fraction: float) -> None:
    k = round(len(bound.groups) * fraction)
    rows = np.concatenate([g.rows for g in bound.groups[:k]])
    recall, share = _reviewed(case, rows)
    assert bound.steps[k].recall == pytest.approx(recall)
    assert bound.steps[k].share == pytest.approx(share)


def test_report_reads_the_bound_at_each_share(bound: Frontier) -> None:
    text = report(bound, shares=(0.05,), target=2.0)
    step = bound.at_share(0.05)
    assert step.share <= 0.05
    assert f"{step.recall:.4f}" in text
    assert "not reached" in text
    assert f"{bound.policy_recall:.4f}" in text
