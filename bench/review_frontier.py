"""How far any review policy could go with the matcher's comparison features.

    python -m bench.review_frontier --size 100k --seed 11 [--model shipped] [--cache DIR]

Runs the batch matcher as :mod:`bench.miss_analysis` does, then bounds what a
review policy could reach from the auto-link clusters (an "oracle by group"):

- every two auto-link clusters with a compared pair between them are
  represented by their highest-weight compared pair, as a policy proposing
  one pair per two clusters would;
- the representatives are grouped by what a policy can see of them: party,
  explanation pattern (as :func:`bench.miss_analysis.pattern` prints it) and
  weight band (``2 * floor(weight / 2)``);
- each group gains the record pairs of the cluster pairs its true
  representatives stand for and costs the records its representatives touch;
  the groups are taken best gain per cost first (an oracle that may use the
  truth to choose whole groups, never single pairs), and after each one the
  recall once a steward accepts every true proposal and the share of records
  in review are computed exactly, as :func:`bench.evaluate.review_scores` does.

Since no policy of these features can tell two pairs of one group apart, the
recall it reaches at a review share is at most the bound's at that share.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.miss_analysis import (
    add_corpus_options,
    corpus_run,
    merged_labels,
    party_label,
    pattern,
    record_pairs,
)
from matching.model import Model
from matching.pipeline import MatchConfig, MatchTrace, trace_match
from matching.types import StandardRecord

IntArray = npt.NDArray[np.int64]

SHARES = (0.05, 0.08, 0.10, 0.12)
TARGET_RECALL = 0.98


@dataclass(frozen=True, slots=True)
class ReviewGroup:
    """Cluster-pair representatives a policy cannot tell apart."""

    key: str
    rows: IntArray  # rows of ``trace.vectors``
    gain: int  # record pairs of the cluster pairs its true representatives stand for
    cost: int  # distinct records its representatives touch

    @property
    def ratio(self) -> float:
        return self.gain / self.cost


@dataclass(frozen=True, slots=True)
class Step:
    """The union of the first ``groups`` groups, as a steward would review it."""

    groups: int
    found: int  # true pairs within one merged cluster
    touched: int  # records in at least one proposal
    recall: float
    share: float


@dataclass(frozen=True, slots=True)
class Frontier:
    """The current policy against the bound, step by step."""

    records: int
    true_pairs: int
    policy_recall: float
    policy_share: float
    groups: tuple[ReviewGroup, ...]  # best gain per cost first
    steps: tuple[Step, ...]  # ``steps[k]`` after the first ``k`` groups
    labels: IntArray  # each record's cluster once every group is merged

    def at_share(self, share: float) -> Step:
        """The last step whose review share is at most ``share``."""
        within = [s for s in self.steps if s.share <= share]
        return within[-1]  # step 0 proposes nothing

    def share_for(self, recall: float) -> Step | None:
        """The first step reaching ``recall``, or None."""
        return next((s for s in self.steps if s.recall >= recall), None)


def review_groups(trace: MatchTrace, entity: IntArray) -> list[ReviewGroup]:
    """Representatives of every two compared clusters, grouped, best gain per cost first."""
    vectors, labels = trace.vectors, trace.labels
    a, b = labels[vectors.left], labels[vectors.right]
    between = np.flatnonzero(a != b)
    if not len(between):
        return []
    # The highest-weight row of each cluster pair: first of its key in weight order.
    order = between[np.argsort(-trace.weights[between], kind="stable")]
    lo, hi = np.minimum(a[order], b[order]), np.maximum(a[order], b[order])
    span = int(labels.max()) + 1
    _, first = np.unique(lo * span + hi, return_index=True)
    reps = np.sort(order[first])

    band = 2 * np.floor(trace.weights[reps] / 2).astype(np.int64)
    features = np.column_stack(
        [vectors.party[reps].astype(np.int64), vectors.levels[reps].astype(np.int64), band]
    )
    _, index, inverse = np.unique(features, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)

    sizes = np.bincount(labels, minlength=span).astype(np.int64)
    left, right = vectors.left[reps], vectors.right[reps]
    true = entity[left] == entity[right]
    weight = np.where(true, sizes[labels[left]] * sizes[labels[right]], 0)
    by_group = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[by_group], np.arange(len(index) + 1))
    groups = []
    for g, row in enumerate(reps[index].tolist()):
        members = by_group[bounds[g] : bounds[g + 1]]
        lower = 2 * math.floor(float(trace.weights[row]) / 2)
        groups.append(
            ReviewGroup(
                key=f"{party_label(trace, row)}{pattern(vectors, row)}"
                f" w[{lower:+d},{lower + 2:+d})",
                rows=reps[members],
                gain=int(weight[members].sum()),
                cost=len(np.union1d(left[members], right[members])),
            )
        )
    groups.sort(key=lambda g: (-g.ratio, -g.gain, g.key))
    return groups


def frontier(trace: MatchTrace, entity: IntArray) -> Frontier:
    """The current policy's recall and share, and the bound's after each group."""
    labels, vectors = trace.labels, trace.vectors
    n = len(labels)
    _, entity_sizes = np.unique(entity, return_counts=True)
    true_pairs = record_pairs(entity_sizes)

    def recall(found: int) -> float:
        return found / true_pairs if true_pairs else 1.0

    policy = merged_labels(trace, entity)
    policy_found = record_pairs(
        np.unique(np.stack([policy, entity]), axis=1, return_counts=True)[1]
    )
    rows = trace.review_rows
    policy_touched = len(np.union1d(vectors.left[rows], vectors.right[rows]))

    span = int(labels.max()) + 1 if n else 0
    parent = np.arange(span, dtype=np.int64)
    counts: list[Counter[int]] = [Counter() for _ in range(span)]
    cells, cell_sizes = np.unique(np.stack([labels, entity]), axis=1, return_counts=True)
    for label, e, size in zip(
        cells[0].tolist(), cells[1].tolist(), cell_sizes.tolist(), strict=True
    ):
        counts[label][e] = size
    found = record_pairs(cell_sizes)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    label_of, entity_of = labels.tolist(), entity.tolist()
    touched = np.zeros(n, dtype=bool)
    count = 0
    steps = [Step(0, found, 0, recall(found), 0.0)]
    groups = review_groups(trace, entity)
    for k, group in enumerate(groups, start=1):
        left, right = vectors.left[group.rows], vectors.right[group.rows]
        proposed = np.union1d(left, right)
        count += int(np.count_nonzero(~touched[proposed]))
        touched[proposed] = True
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if entity_of[i] != entity_of[j]:
                continue
            ra, rb = find(label_of[i]), find(label_of[j])
            if ra == rb:
                continue
            # Merge the smaller count into the larger: each entity's records
            # on one side pair with its records on the other.
            if len(counts[ra]) > len(counts[rb]):
                ra, rb = rb, ra
            small, large = counts[ra], counts[rb]
            found += sum(c * large[e] for e, c in small.items() if e in large)
            large.update(small)
            counts[ra] = Counter()
            parent[ra] = rb
        steps.append(Step(k, found, count, recall(found), count / n))

    roots = np.fromiter((find(x) for x in range(span)), dtype=np.int64, count=span)
    return Frontier(
        records=n,
        true_pairs=true_pairs,
        policy_recall=recall(policy_found),
        policy_share=policy_touched / n if n else 0.0,
        groups=tuple(groups),
        steps=tuple(steps),
        labels=roots[labels],
    )


def entities(trace: MatchTrace, truth: Mapping[tuple[str, str], str]) -> IntArray:
    """Each traced record's true entity as a number."""
    ids: dict[str, int] = {}
    return np.fromiter(
        (ids.setdefault(truth[r.key], len(ids)) for r in trace.records),
        dtype=np.int64,
        count=len(trace.records),
    )


def run(
    records: Sequence[StandardRecord],
    truth: Mapping[tuple[str, str], str],
    model: Model | None,
    config: MatchConfig,
) -> Frontier:
    """Match ``records`` and bound review policies against ``truth``."""
    _, trace = trace_match(records, config, model=model)
    return frontier(trace, entities(trace, truth))


def report(f: Frontier, shares: Sequence[float] = SHARES, target: float = TARGET_RECALL) -> str:
    """The frontier as a small table."""

    def row(label: str, share: float, recall: float, groups: str = "") -> str:
        return f"{label:36} {share:7.1%} {recall:7.4f} {groups:>7}"

    def step_row(label: str, step: Step) -> str:
        return row(label, step.share, step.recall, f"{step.groups:,}")

    lines = [
        f"{f.records:,} records, {f.true_pairs:,} true pairs, {len(f.groups):,} groups",
        f"{'':36} {'share':>7} {'recall':>7} {'groups':>7}",
        step_row("auto-links only", f.steps[0]),
        row("current policy", f.policy_share, f.policy_recall),
        step_row("bound at the current policy's share", f.at_share(f.policy_share)),
    ]
    lines += [step_row(f"bound at share <= {s:.0%}", f.at_share(s)) for s in shares]
    lines.append(step_row("bound, every group", f.steps[-1]))
    reached = f.share_for(target)
    label = f"bound reaching recall {target}"
    lines.append(f"{label:36} {'not reached':>15}" if reached is None else step_row(label, reached))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """CLI: bound review policies on one cached corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_options(parser)
    args = parser.parse_args(argv)
    chosen = corpus_run(args)
    print(report(run(chosen.records, chosen.truth, chosen.model, chosen.config)))


if __name__ == "__main__":
    main()
