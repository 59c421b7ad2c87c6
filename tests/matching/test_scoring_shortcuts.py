"""The shortcuts that make one submission cheap to score change no score, decision or word.

An index explains only the pairs it returns, lays a submission's few records
out with lists, reads its tables once per model and looks its own counts up
by party type; each is checked here against the long way round.
"""

from __future__ import annotations

import numpy as np
import pytest

import matching.compare as compare
import matching.incremental as incremental
import matching.model as model_module
from matching.compare import PARTIES, Columns, SetColumn, compare_pairs
from matching.decide import Thresholds, decide_pairs_ruled, explain_many
from matching.incremental import CandidateCluster, MatchIndex, score_candidates
from matching.model import default_model, scoring_tables
from matching.types import StandardRecord
from tests.matching.synthetic import generate


def _corpus() -> tuple[list[StandardRecord], dict[tuple[str, str], str]]:
    corpus = generate(organizations=60, persons=60, seed=3)
    return list(corpus.records), {key: f"c{entity}" for key, entity in corpus.truth.items()}


def _indexed(records: list[StandardRecord], truth: dict[tuple[str, str], str]) -> MatchIndex:
    index = MatchIndex(default_model())
    for record in records:
        index.add(record, truth[record.key])
    return index


def _clusters_the_long_way(index: MatchIndex, record: StandardRecord) -> list[CandidateCluster]:
    """Every candidate scored and explained, the best member per cluster kept."""
    slots = index._candidate_slots(record)
    members = [index._member(slot) for slot in slots]
    scored = score_candidates(
        index.model,
        record,
        members,
        index.thresholds,
        frequencies=index,
        customers=[index.cluster_of(member.key) for member in members],
    )
    best: dict[str, CandidateCluster] = {}
    counts: dict[str, int] = {}
    for slot, pair in zip(slots, scored, strict=True):
        cluster = index.cluster_of(index._member(slot).key)
        counts[cluster] = counts.get(cluster, 0) + 1
        current = best.get(cluster)
        if current is None or (pair.weight, current.best.right) > (current.weight, pair.right):
            best[cluster] = CandidateCluster(cluster, pair.weight, pair.decision, pair, 0)
    ranked = sorted(best.values(), key=lambda c: (-c.weight, c.cluster_id))[:5]
    return [
        CandidateCluster(c.cluster_id, c.weight, c.decision, c.best, counts[c.cluster_id])
        for c in ranked
    ]


@pytest.mark.parametrize("own_frequencies_from", [10_000, 50])
def test_an_index_returns_the_clusters_of_scoring_every_candidate(
    monkeypatch: pytest.MonkeyPatch, own_frequencies_from: int
) -> None:
    monkeypatch.setattr(incremental, "MIN_RECORDS_FOR_OWN_FREQUENCIES", own_frequencies_from)
    records, truth = _corpus()
    held, kept = records[::7], [r for i, r in enumerate(records) if i % 7]
    index = _indexed(kept, truth)
    found = 0
    for record in held:
        clusters = index.candidates(record)
        assert clusters == _clusters_the_long_way(index, record)
        found += len(clusters)
    assert found > len(held)


def test_explaining_some_pairs_explains_them_as_explaining_all_does() -> None:
    records, _ = _corpus()
    model = default_model()
    cols = Columns.from_records(records)
    left = np.arange(0, len(records) - 1, dtype=np.int64)
    vectors = compare_pairs(cols, left, left + 1)
    decided = decide_pairs_ruled(model.match_weights(vectors), vectors, Thresholds())
    every = explain_many(model, vectors, np.arange(len(vectors), dtype=np.int64), decided.rules)
    some = np.asarray([len(vectors) - 1, 3, 0, 3], dtype=np.int64)
    assert explain_many(model, vectors, some, decided.rules) == [every[k] for k in some.tolist()]


def test_a_submissions_sets_are_laid_out_as_a_batchs_are(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [[4, 9], [], [1], [9, 2, 7], [], [0]]
    tf = np.linspace(0.1, 0.6, 7, dtype=np.float32)
    small = SetColumn.build(items, tf)
    monkeypatch.setattr(compare, "SMALL_BATCH", 0)
    large = SetColumn.build(items, tf)
    for name in ("offsets", "codes", "tf", "probe"):
        assert getattr(small, name).dtype == getattr(large, name).dtype
        assert getattr(small, name).tolist() == getattr(large, name).tolist()
    assert SetColumn.build([[], []]).probe.tolist() == []


def test_pairs_score_alike_in_small_and_large_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    records, _ = _corpus()
    model = default_model()
    batch = records[:40]
    left = np.zeros(len(batch) - 1, dtype=np.int64)
    right = np.arange(1, len(batch), dtype=np.int64)
    small = compare_pairs(Columns.from_records(batch, model.frequencies), left, right)
    monkeypatch.setattr(compare, "SMALL_BATCH", 0)
    large = compare_pairs(Columns.from_records(batch, model.frequencies), left, right)
    assert small.levels.tolist() == large.levels.tolist()
    assert model.match_weights(small).tolist() == model.match_weights(large).tolist()


def test_term_frequency_adjustments_do_not_depend_on_the_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records, _ = _corpus()
    model = default_model()
    cols = Columns.from_records(records)
    left = np.arange(0, len(records) - 1, dtype=np.int64)
    vectors = compare_pairs(cols, left, left + 1)
    whole = model.match_weights(vectors)
    monkeypatch.setattr(model_module, "_TF_CHUNK", 3)
    assert model.match_weights(vectors).tolist() == whole.tolist()


def test_scoring_tables_are_the_parameters_weights_worked_out_once() -> None:
    for party in PARTIES:
        params = default_model().parties[party]
        tables = scoring_tables(params)
        assert scoring_tables(params) is tables
        for table, worked_out in zip(tables.weights, params.weight_table(), strict=True):
            assert table.tolist() == worked_out.tolist()
            assert not table.flags.writeable


def test_an_index_counts_values_by_party_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incremental, "MIN_RECORDS_FOR_OWN_FREQUENCIES", 1)
    records, truth = _corpus()
    index = _indexed(records, truth)
    record = records[0]
    party = record.party_type
    held_by = sum(1 for r in records if r.party_type is party and r.name.core == record.name.core)
    assert index.holders(party, "name", record.name.core) == held_by + 1
    assert index.holders(party, "name", "no such name") == 1
    assert index.fraction(party, "no such kind", "x") == 0.0
