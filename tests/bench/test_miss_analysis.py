"""The miss analysis counts what bench.evaluate counts, and explains each miss."""

from __future__ import annotations

import pytest

from bench.corpus import generate_corpus
from bench.evaluate import pairwise_scores, review_scores
from bench.miss_analysis import Analysis, report, run, shared_key_rules
from matching.pipeline import MatchConfig, match_records
from matching.record import parse_record
from matching.standardize import standardize_record
from matching.types import StandardRecord

Corpus = tuple[list[StandardRecord], dict[tuple[str, str], str]]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    generated = generate_corpus(600, seed=3)
    records = [standardize_record(parse_record(raw)) for raw in generated.records]
    return records, generated.truth


@pytest.fixture(scope="module")
def analysis(corpus: Corpus) -> Analysis:
    records, truth = corpus
    return run(records, truth, model=None, config=MatchConfig(), examples=1)


def test_figures_agree_with_the_evaluation(corpus: Corpus, analysis: Analysis) -> None:
    records, truth = corpus
    result = match_records(records)
    predicted = {(a.source, a.source_key): a.cluster_id for a in result.assignments}
    auto = pairwise_scores(predicted, truth)
    reviewed = review_scores(predicted, truth, [(p.left, p.right) for p in result.reviews])
    assert analysis.true_pairs == auto.true_pairs
    assert analysis.auto_pairs == auto.predicted_pairs
    assert analysis.auto_correct == auto.correct_pairs
    assert analysis.recall_with_review == pytest.approx(reviewed.recall_with_review)
    assert analysis.records_in_review / analysis.records == pytest.approx(
        reviewed.records_in_review_share
    )
    assert analysis.review_pairs == reviewed.review_pairs
    assert analysis.false_review_pairs == reviewed.review_pairs - reviewed.true_review_pairs


def test_every_missed_pair_has_one_reason(analysis: Analysis) -> None:
    assert analysis.missed_pairs > 0
    assert sum(g.pairs for g in analysis.missed.values()) == analysis.missed_pairs
    reasons = {reason for reason, _ in analysis.missed}
    assert reasons <= {
        "blocking miss",
        "scored distinct",
        "review pair not proposed (a stronger false pair stood for it)",
        "floored pair between two built clusters, not proposed",
    }
    assert sum(g.pairs for g in analysis.false_reviews.values()) == analysis.false_review_pairs


def test_report_names_the_groups_with_examples(analysis: Analysis) -> None:
    text = report(analysis, top=5)
    assert "recall+review" in text
    biggest = max(analysis.missed.items(), key=lambda kv: kv[1].pairs)
    assert biggest[0][1] in text
    assert biggest[1].examples[0] in text


def test_blocking_misses_are_grouped_by_the_capped_keys_they_share(analysis: Analysis) -> None:
    blocked = sum(
        g.pairs for (reason, _), g in analysis.missed.items() if reason == "blocking miss"
    )
    assert sum(g.pairs for g in analysis.capped.values()) == blocked


def test_shared_key_rules_name_the_rules_of_common_keys(corpus: Corpus) -> None:
    records, _ = corpus
    record = records[0]
    assert shared_key_rules(record, record) != "none"
    stranger = next(r for r in records if r.party_type is not record.party_type)
    assert shared_key_rules(record, stranger) == "none"
