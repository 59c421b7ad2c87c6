"""Pairwise scores from cluster sizes agree with a plain pair enumeration."""

from __future__ import annotations

import itertools
import random

import pytest

from bench.evaluate import RecordKey, pairwise_scores, review_scores


def _pairs(labels: dict[RecordKey, str]) -> set[frozenset[RecordKey]]:
    return {
        frozenset((a, b))
        for a, b in itertools.combinations(sorted(labels), 2)
        if labels[a] == labels[b]
    }


def _random_labels(seed: int, n: int) -> tuple[dict[RecordKey, str], dict[RecordKey, str]]:
    r = random.Random(seed)
    keys = [("s", str(i)) for i in range(n)]
    truth = {k: f"e{r.randrange(n // 2)}" for k in keys}
    predicted = {k: f"c{r.randrange(n // 2)}" if r.random() < 0.5 else truth[k] for k in keys}
    return predicted, truth


@pytest.mark.parametrize("seed", range(20))
def test_scores_match_enumerated_pairs(seed: int) -> None:
    predicted, truth = _random_labels(seed, 40)
    got = pairwise_scores(predicted, truth)
    true_pairs, predicted_pairs = _pairs(truth), _pairs(predicted)
    assert got.true_pairs == len(true_pairs)
    assert got.predicted_pairs == len(predicted_pairs)
    assert got.correct_pairs == len(true_pairs & predicted_pairs)


def test_perfect_clustering_scores_one() -> None:
    truth = {("a", "1"): "x", ("b", "2"): "x", ("c", "3"): "y"}
    scores = pairwise_scores({k: v.upper() for k, v in truth.items()}, truth)
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)


def test_missing_records_count_as_singletons() -> None:
    truth = {("a", "1"): "x", ("b", "2"): "x"}
    scores = pairwise_scores({("a", "1"): "c"}, truth)
    assert scores.recall == 0.0
    assert scores.precision == 1.0


def test_unknown_predicted_records_are_an_error() -> None:
    with pytest.raises(ValueError, match="not in the truth"):
        pairwise_scores({("z", "9"): "c"}, {("a", "1"): "x"})


def test_accepted_review_pairs_merge_clusters() -> None:
    truth = {("s", str(i)): "x" if i < 4 else "y" for i in range(6)}
    predicted = {
        ("s", "0"): "A",
        ("s", "1"): "A",
        ("s", "2"): "B",
        ("s", "3"): "B",
        ("s", "4"): "C",
        ("s", "5"): "D",
    }
    review = [(("s", "1"), ("s", "2")), (("s", "3"), ("s", "4"))]  # one true, one false
    got = review_scores(predicted, truth, review)
    assert got.true_review_pairs == 1
    # x: all 6 pairs found once A and B merge; y's single pair is still missed.
    assert got.recall_with_review == pytest.approx(6 / 7)
    assert got.records_in_review_share == pytest.approx(4 / 6)
