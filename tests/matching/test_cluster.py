from __future__ import annotations

import random

import numpy as np
import pytest

from matching.cluster import cluster_id, cluster_links


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def _naive(
    n: int,
    links: list[tuple[int, int, float]],
    exclusive: list[list[int]],
    cannot: set[frozenset[int]],
) -> set[frozenset[int]]:
    """Reference: explicit sets, every member pair checked before each union."""
    clusters = [{i} for i in range(n)]

    def find(x: int) -> set[int]:
        return next(c for c in clusters if x in c)

    def clash(a: set[int], b: set[int]) -> bool:
        for x in a:
            for y in b:
                if frozenset((x, y)) in cannot:
                    return True
                for codes in exclusive:
                    if codes[x] >= 0 and codes[y] >= 0 and codes[x] != codes[y]:
                        return True
        return False

    for a, b, _ in sorted(links, key=lambda t: (-t[2], min(t[0], t[1]), max(t[0], t[1]))):
        ca, cb = find(a), find(b)
        if ca is not cb and not clash(ca, cb):
            clusters.remove(cb)
            ca |= cb
    return {frozenset(c) for c in clusters}


def test_a_constraint_stops_chaining() -> None:
    # A~B and B~C are auto-links, but A and C have different USCCs.
    uscc = np.array([1, -1, 2], dtype=np.int64)
    result = cluster_links(
        3, np.array([0, 1]), np.array([1, 2]), np.array([20.0, 15.0]), exclusive=[uscc]
    )
    assert _partition(result.labels) == {frozenset({0, 1}), frozenset({2})}
    assert result.refused.tolist() == [False, True]


def test_the_stronger_link_wins_the_contested_record() -> None:
    uscc = np.array([1, -1, 2], dtype=np.int64)
    result = cluster_links(
        3, np.array([0, 1]), np.array([1, 2]), np.array([15.0, 20.0]), exclusive=[uscc]
    )
    assert _partition(result.labels) == {frozenset({0}), frozenset({1, 2})}


def test_explicit_cannot_link_pairs_are_respected() -> None:
    result = cluster_links(
        3, np.array([0, 1]), np.array([1, 2]), np.array([10.0, 10.0]), cannot_link=[(0, 2)]
    )
    assert _partition(result.labels) == {frozenset({0, 1}), frozenset({2})}


@pytest.mark.parametrize("seed", range(8))
def test_matches_a_naive_reference_on_seeded_random_inputs(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(5, 40)
    links = [
        (a, b, float(rng.randint(0, 5)))
        for a, b in (rng.sample(range(n), 2) for _ in range(rng.randint(0, 3 * n)))
    ]
    exclusive = [[rng.choice([-1, -1, -1, 0, 1, 2]) for _ in range(n)] for _ in range(2)]
    cannot = {frozenset(rng.sample(range(n), 2)) for _ in range(rng.randint(0, 4))}
    result = cluster_links(
        n,
        np.array([a for a, _, _ in links], dtype=np.int64),
        np.array([b for _, b, _ in links], dtype=np.int64),
        np.array([w for _, _, w in links]),
        exclusive=[np.array(codes, dtype=np.int64) for codes in exclusive],
        cannot_link=[tuple(pair) for pair in cannot],
    )
    assert _partition(result.labels) == _naive(n, links, exclusive, cannot)


def test_cluster_labels_follow_rank_not_position() -> None:
    # The same links over records listed in another order give the same clusters.
    rank = np.array([2, 0, 1], dtype=np.int64)
    result = cluster_links(3, np.array([0]), np.array([2]), np.array([5.0]), rank=rank)
    assert result.labels.tolist() == [1, 0, 1]


def test_cluster_ids_are_stable_and_distinct() -> None:
    assert cluster_id("finance", "F1") == cluster_id("finance", "F1")
    assert cluster_id("finance", "F1") != cluster_id("finance", "F2")
    assert cluster_id("a", "b\x1fc") != cluster_id("a\x1fb", "c")


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        cluster_links(2, np.array([0]), np.array([1, 0]), np.array([1.0]))
