"""Why true pairs are missed, and what review capacity is spent on.

    python -m bench.miss_analysis --size 10k --seed 11 [--model shipped] [--examples 2]

Runs the batch matcher as ``hub match`` does (the model estimated from the
batch; ``--model shipped`` scores with ``matching/data/model.json`` as the
first load does) on a cached corpus of ``bench/data/``, then:

- merges the auto-link clusters along the true review pairs, as
  :func:`bench.evaluate.review_scores` does (a steward accepts them all);
- takes every pair of merged clusters that holds records of one entity (a
  missed true pair), weighted by its record pairs, and says why it was
  missed: no candidate pair between the two clusters at all (a blocking
  miss, with what the records would share if compared, and the blocking
  rules of the keys they do share, each held by too many records), or candidate pairs
  whose best one was decided ``distinct`` (below the review threshold, or
  by a rule, which is named), or whose best review pair was not proposed
  because a stronger false one stood for the same two clusters, or because
  it was floored into review by its name alone between two multi-record
  clusters;
- groups the false review proposals by explanation pattern (and the rule
  that put them into review, if one did), each with the number of true
  proposals of that pattern: what a group costs against what it finds.

An explanation pattern lists each comparison's level (``name=homophone``),
leaving out comparisons with a missing value.
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.evaluate import load_truth
from bench.match_bench import corpus_dir, parse_size
from matching.block import DEFAULT_RULES, BlockingRule, blocking_keys
from matching.compare import COMPARISONS, PARTIES, ComparisonVectors, compare_pairs
from matching.decide import DISTINCT_CODE, REVIEW_CODE, RULES
from matching.model import Model, default_model
from matching.pipeline import MatchConfig, MatchTrace, trace_match
from matching.record import parse_record
from matching.standardize import standardize_record
from matching.types import StandardRecord

IntArray = npt.NDArray[np.int64]


@dataclass(slots=True)
class Group:
    """Missed true pairs (or false review pairs) sharing one reason and pattern."""

    pairs: int = 0
    cases: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Analysis:
    """The figures and the groups of one run."""

    records: int
    true_pairs: int
    auto_correct: int
    auto_pairs: int
    missed_pairs: int
    review_pairs: int
    false_review_pairs: int
    records_in_review: int
    missed: dict[tuple[str, str], Group]
    false_reviews: dict[str, Group]
    true_reviews: dict[str, Group] = field(default_factory=dict)
    # Blocking misses by the rules of the keys their first records share
    # (capped keys, since no pair came of them): what a sub-key could save.
    capped: dict[str, Group] = field(default_factory=dict)

    @property
    def recall_with_review(self) -> float:
        return 1 - self.missed_pairs / self.true_pairs if self.true_pairs else 1.0


def pattern(vectors: ComparisonVectors, row: int) -> str:
    """Non-missing comparison levels of pair ``row``, e.g. ``name=exact phones=shared_mobile``."""
    levels = vectors.levels[row]
    return " ".join(
        f"{c.name}={c.levels[int(level)]}"
        for c, level in zip(COMPARISONS, levels, strict=True)
        if int(level) != 0
    )


def _describe(record: StandardRecord) -> str:
    phones = ",".join(p.e164 for p in record.phones)
    place = record.address.city or record.name.region or ""
    return f"{record.source}/{record.source_key} {record.name.core!r} {place} {phones}".rstrip()


def merged_labels(trace: MatchTrace, entity: IntArray) -> IntArray:
    """Auto-link clusters merged along every true review pair."""
    labels = trace.labels
    parent = np.arange(int(labels.max()) + 1 if len(labels) else 0, dtype=np.int64)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    rows = trace.review_rows
    left, right = trace.vectors.left[rows], trace.vectors.right[rows]
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if entity[a] == entity[b]:
            ra, rb = find(int(labels[a])), find(int(labels[b]))
            if ra != rb:
                parent[ra] = rb
    roots = np.fromiter((find(int(x)) for x in range(len(parent))), dtype=np.int64)
    merged: IntArray = roots[labels]
    return merged


def record_pairs(n: IntArray) -> int:
    """Record pairs within groups of sizes ``n``."""
    return int((n * (n - 1) // 2).sum())


def shared_key_rules(
    a: StandardRecord, b: StandardRecord, rules: Sequence[BlockingRule] = DEFAULT_RULES
) -> str:
    """The rule names of the blocking keys ``a`` and ``b`` share, sorted, or ``none``."""
    shared = set(blocking_keys(a, rules)) & set(blocking_keys(b, rules))
    names = sorted({key.split(":", 2)[1] for key in shared})
    return ",".join(names) if names else "none"


def analyse(
    trace: MatchTrace,
    entity: IntArray,
    examples: int = 2,
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
) -> Analysis:
    """Group the missed true pairs by reason and the false review pairs by pattern."""
    records, vectors = trace.records, trace.vectors
    n = len(records)
    merged = merged_labels(trace, entity)
    _, entity_sizes = np.unique(entity, return_counts=True)
    true_pairs = record_pairs(entity_sizes)
    cells = np.unique(np.stack([trace.labels, entity]), axis=1, return_counts=True)[1]
    _, cluster_sizes = np.unique(trace.labels, return_counts=True)
    merged_cells = np.unique(np.stack([merged, entity]), axis=1, return_counts=True)[1]
    found = record_pairs(merged_cells)

    # Each entity's records by merged cluster: every two parts are a missed cluster pair.
    parts: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i in range(n):
        parts[int(entity[i])][int(merged[i])].append(i)
    order = np.argsort(-trace.weights, kind="stable")
    proposed = {int(r) for r in trace.review_rows.tolist()}
    best_true: dict[tuple[int, int], int] = {}
    for row in order.tolist():
        i, j = int(vectors.left[row]), int(vectors.right[row])
        a, b = int(merged[i]), int(merged[j])
        if a != b and entity[i] == entity[j]:
            best_true.setdefault((min(a, b), max(a, b)), row)

    missed: dict[tuple[str, str], Group] = defaultdict(Group)
    capped: dict[str, Group] = defaultdict(Group)
    unblocked: list[tuple[int, int, int]] = []  # (first left, first right, weight in pairs)
    for by_cluster in parts.values():
        if len(by_cluster) < 2:
            continue
        clusters = sorted(by_cluster)
        for x, ca in enumerate(clusters):
            for cb in clusters[x + 1 :]:
                weight = len(by_cluster[ca]) * len(by_cluster[cb])
                row = best_true.get((ca, cb))
                if row is None:
                    unblocked.append((by_cluster[ca][0], by_cluster[cb][0], weight))
                    continue
                code = int(trace.codes[row])
                rule = RULES[int(trace.rules[row])]
                if code == DISTINCT_CODE:
                    reason = "scored distinct" if rule is None else f"distinct by rule {rule}"
                elif code == REVIEW_CODE and row not in proposed:
                    reason = (
                        "floored pair between two built clusters, not proposed"
                        if trace.weights[row] < _lower(trace, row)
                        else "review pair not proposed (a stronger false pair stood for it)"
                    )
                else:
                    # An auto link joins its clusters and a proposed true
                    # review pair merges them: neither can be missed.
                    raise RuntimeError(f"pair {row} decided {code} yet its clusters stay apart")
                _add(
                    missed[reason, party_label(trace, row) + pattern(vectors, row)],
                    weight,
                    examples,
                    f"{trace.weights[row]:+.1f}: {_describe(records[int(vectors.left[row])])}"
                    f" ~ {_describe(records[int(vectors.right[row])])}",
                )
    if unblocked:
        left = np.asarray([u[0] for u in unblocked], dtype=np.int64)
        right = np.asarray([u[1] for u in unblocked], dtype=np.int64)
        compared = compare_pairs(trace.columns, left, right)
        for k, (i, j, weight) in enumerate(unblocked):
            party = PARTIES[int(compared.party[k])].value
            example = f"{_describe(records[i])} ~ {_describe(records[j])}"
            _add(
                missed["blocking miss", f"[{party}] " + pattern(compared, k)],
                weight,
                examples,
                example,
            )
            shared = shared_key_rules(records[i], records[j], rules)
            _add(capped[f"[{party}] {shared}"], weight, examples, example)

    false_reviews: dict[str, Group] = defaultdict(Group)
    true_reviews: dict[str, Group] = defaultdict(Group)
    touched: set[int] = set()
    false_count = 0
    for row in trace.review_rows.tolist():
        i, j = int(vectors.left[row]), int(vectors.right[row])
        touched.update((i, j))
        rule = RULES[int(trace.rules[row])]
        key = (
            party_label(trace, row)
            + ("" if rule is None else f"(rule {rule}) ")
            + pattern(vectors, row)
        )
        example = f"{trace.weights[row]:+.1f}: {_describe(records[i])} ~ {_describe(records[j])}"
        if entity[i] != entity[j]:
            false_count += 1
            _add(false_reviews[key], 1, examples, example)
        else:
            _add(true_reviews[key], 1, examples, example)
    return Analysis(
        records=n,
        true_pairs=true_pairs,
        auto_correct=record_pairs(cells),
        auto_pairs=record_pairs(cluster_sizes),
        missed_pairs=true_pairs - found,
        review_pairs=len(trace.review_rows),
        false_review_pairs=false_count,
        records_in_review=len(touched),
        missed=dict(missed),
        false_reviews=dict(false_reviews),
        true_reviews=dict(true_reviews),
        capped=dict(capped),
    )


def _lower(trace: MatchTrace, row: int) -> float:
    """The review threshold of pair ``row``'s party."""
    return trace.thresholds.bounds(PARTIES[int(trace.vectors.party[row])])[0]


def party_label(trace: MatchTrace, row: int) -> str:
    return f"[{PARTIES[int(trace.vectors.party[row])].value}] "


def _add(group: Group, pairs: int, examples: int, example: str) -> None:
    group.pairs += pairs
    group.cases += 1
    if len(group.examples) < examples:
        group.examples.append(example)


def load_corpus(
    path: Path, cache: Path | None = None
) -> tuple[list[StandardRecord], dict[tuple[str, str], str]]:
    """Standardized records of ``path/records.jsonl`` and the truth.

    With ``cache`` (a directory), the standardized records are kept there as
    a pickle and read back on the next run: at a million records,
    standardizing costs more than matching. Delete it when standardizing changes.
    """
    pickled = None if cache is None else cache / f"{path.name}.pickle"
    if pickled is not None and pickled.exists():
        with pickled.open("rb") as f:
            records: list[StandardRecord] = pickle.load(f)
        return records, load_truth(path / "truth.csv")
    records = []
    with (path / "records.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                records.append(standardize_record(parse_record(json.loads(line))))
    if pickled is not None:
        pickled.parent.mkdir(parents=True, exist_ok=True)
        with pickled.open("wb") as f:
            pickle.dump(records, f, protocol=pickle.HIGHEST_PROTOCOL)
    return records, load_truth(path / "truth.csv")


def run(
    records: Sequence[StandardRecord],
    truth: dict[tuple[str, str], str],
    model: Model | None,
    config: MatchConfig,
    examples: int,
) -> Analysis:
    """Match ``records`` and analyse the result against ``truth``."""
    _, trace = trace_match(records, config, model=model)
    ids: dict[str, int] = {}
    entity = np.fromiter(
        (ids.setdefault(truth[r.key], len(ids)) for r in trace.records),
        dtype=np.int64,
        count=len(trace.records),
    )
    return analyse(trace, entity, examples, config.rules)


def report(analysis: Analysis, top: int) -> str:
    """The analysis as text: figures, then the largest groups first."""
    a = analysis
    precision = a.auto_correct / a.auto_pairs if a.auto_pairs else 1.0
    recall = a.auto_correct / a.true_pairs if a.true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    lines = [
        f"{a.records:,} records, {a.true_pairs:,} true pairs; auto-links P {precision:.4f} "
        f"R {recall:.4f} F1 {f1:.4f}",
        f"recall+review {a.recall_with_review:.4f}: {a.missed_pairs:,} true pairs missed; "
        f"{a.review_pairs:,} review pairs ({a.false_review_pairs:,} false), "
        f"{a.records_in_review / max(a.records, 1):.1%} of records in review",
        "",
        "missed true pairs (pairs of merged clusters, weighted by record pairs):",
    ]
    by_reason: Counter[str] = Counter()
    for (reason, _), group in a.missed.items():
        by_reason[reason] += group.pairs
    for reason, pairs in by_reason.most_common():
        lines.append(f"  {reason}: {pairs:,} pairs")
    lines.append("")
    lines.append("blocking misses by the (capped) keys their records share:")
    for key, group in sorted(a.capped.items(), key=lambda kv: -kv[1].pairs)[:top]:
        lines.append(f"{group.pairs:5d} pairs {group.cases:4d} cases  {key}")
    lines.append("")
    ranked = sorted(a.missed.items(), key=lambda kv: -kv[1].pairs)[:top]
    for (reason, key), group in ranked:
        lines.append(f"{group.pairs:5d} pairs {group.cases:4d} cases  {reason}  {key}")
        lines.extend(f"        {e}" for e in group.examples)
    lines += ["", "false review pairs by pattern (and true ones of that pattern):"]
    for key, group in sorted(a.false_reviews.items(), key=lambda kv: -kv[1].pairs)[:top]:
        true = a.true_reviews.get(key, Group()).pairs
        lines.append(f"{group.pairs:5d} false {true:5d} true  {key}")
        lines.extend(f"        {e}" for e in group.examples)
    return "\n".join(lines)


def add_corpus_options(parser: argparse.ArgumentParser) -> None:
    """The options naming a cached corpus and the model that scores it."""
    parser.add_argument("--size", default="10k", help="records, e.g. 10k or 100k")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", choices=("batch", "shipped"), default="batch")
    parser.add_argument(
        "--cache", type=Path, help="directory to keep the standardized records in between runs"
    )


@dataclass(frozen=True, slots=True)
class CorpusRun:
    """What :func:`add_corpus_options` named: the records, their truth, model and settings."""

    records: list[StandardRecord]
    truth: dict[tuple[str, str], str]
    model: Model | None
    config: MatchConfig


def corpus_run(args: argparse.Namespace) -> CorpusRun:
    """The corpus and scoring the options of :func:`add_corpus_options` chose.

    ``--model shipped`` scores with ``matching/data/model.json`` as the first
    load does; by default the model is estimated from the batch, as ``hub match`` does.
    """
    path = corpus_dir(args.size.lower(), parse_size(args.size), args.seed)
    records, truth = load_corpus(path, args.cache)
    if args.model == "shipped":
        return CorpusRun(records, truth, default_model(), MatchConfig(tf_min_records=2**62))
    return CorpusRun(records, truth, None, MatchConfig())


def main(argv: list[str] | None = None) -> None:
    """CLI: analyse one cached corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_options(parser)
    parser.add_argument("--top", type=int, default=25, help="groups shown per list")
    parser.add_argument("--examples", type=int, default=2, help="examples per group")
    args = parser.parse_args(argv)
    chosen = corpus_run(args)
    analysis = run(chosen.records, chosen.truth, chosen.model, chosen.config, args.examples)
    print(report(analysis, args.top))


if __name__ == "__main__":
    main()
