"""Clusters from auto-links: connected components that respect hard constraints.

Plain connected components chain ``A~B`` and ``B~C`` into one cluster even
when A and C have different valid USCCs. Here links are processed strongest
first (ties broken by the records' canonical rank) and a union is refused when
the two clusters would then hold a cannot-link pair: two different known values
of an exclusive attribute (USCC, resident id, branch), or an explicit
cannot-link pair (a steward's "distinct"). Each cluster keeps the one known
value per exclusive attribute, so the check is constant time per link.
The result depends only on the links and the ranks, never on input order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.compare import Columns

__all__ = ["Clustering", "cluster_id", "cluster_links", "exclusive_attributes"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Clustering:
    """``labels[i]`` is record ``i``'s cluster, numbered by smallest member rank.

    ``refused[k]`` tells whether link ``k`` was refused because it would have
    joined a cannot-link pair.
    """

    labels: IntArray
    refused: npt.NDArray[np.bool_]

    @property
    def count(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0


def exclusive_attributes(cols: Columns) -> list[IntArray]:
    """Per-record codes of the attributes one entity holds one value of (-1 unknown)."""
    return [cols.uscc, cols.national_id, cols.branch]


class _ConstrainedUnion:
    def __init__(self, n: int, exclusive: Sequence[IntArray]) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        # Known value per exclusive attribute, valid at roots.
        self.values = [[int(v) for v in codes] for codes in exclusive]
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def forbid(self, a: int, b: int) -> None:
        self.cannot.setdefault(a, set()).add(b)
        self.cannot.setdefault(b, set()).add(a)

    def conflict(self, ra: int, rb: int) -> bool:
        for values in self.values:
            va, vb = values[ra], values[rb]
            if va >= 0 and vb >= 0 and va != vb:
                return True
        small, other = (
            (ra, rb) if len(self.cannot.get(ra, ())) <= len(self.cannot.get(rb, ())) else (rb, ra)
        )
        return any(self.find(x) == other for x in self.cannot.get(small, ()))

    def union(self, a: int, b: int) -> bool:
        """Join the clusters of ``a`` and ``b``; False when that would break a constraint."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.conflict(ra, rb):
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        for values in self.values:
            if values[ra] < 0:
                values[ra] = values[rb]
        moved = self.cannot.pop(rb, None)
        if moved:
            self.cannot.setdefault(ra, set()).update(moved)
        return True


def cluster_links(
    n: int,
    left: IntArray,
    right: IntArray,
    weights: npt.NDArray[np.float64],
    *,
    exclusive: Sequence[IntArray] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
    rank: IntArray | None = None,
) -> Clustering:
    """Constrained connected components of ``n`` records over the given links.

    ``rank`` orders records canonically (default: their position); it breaks
    ties between equal weights and numbers the clusters.
    """
    if not (len(left) == len(right) == len(weights)):
        raise ValueError("left, right and weights must have the same length")
    for codes in exclusive:
        if len(codes) != n:
            raise ValueError("each exclusive attribute needs one code per record")
    ranks = np.arange(n, dtype=np.int64) if rank is None else np.asarray(rank, dtype=np.int64)
    if len(ranks) != n:
        raise ValueError("rank needs one value per record")
    union = _ConstrainedUnion(n, exclusive)
    for a, b in cannot_link:
        union.forbid(a, b)
    lo = np.minimum(ranks[left], ranks[right])
    hi = np.maximum(ranks[left], ranks[right])
    order = np.lexsort((hi, lo, -np.asarray(weights, dtype=np.float64)))
    refused = np.zeros(len(left), dtype=np.bool_)
    for k, a, b in zip(order.tolist(), left[order].tolist(), right[order].tolist(), strict=True):
        if not union.union(a, b):
            refused[k] = True
    return Clustering(labels=_labels(union, ranks), refused=refused)


def _labels(union: _ConstrainedUnion, ranks: IntArray) -> IntArray:
    roots = np.fromiter(
        (union.find(i) for i in range(len(ranks))), dtype=np.int64, count=len(ranks)
    )
    # Each cluster is numbered by its smallest-ranked member, so numbering
    # follows canonical order and not the union-find's choice of roots.
    first_rank = np.full(len(ranks), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_rank, roots, ranks)
    member_first = first_rank[roots]
    _, labels = np.unique(member_first, return_inverse=True)
    return labels.astype(np.int64)


def cluster_id(source: str, source_key: str) -> str:
    """A stable cluster id derived from the cluster's smallest (source, source_key)."""
    # JSON keeps the two parts apart whatever characters they hold.
    member = json.dumps([source, source_key], ensure_ascii=False)
    digest = hashlib.blake2b(member.encode(), digest_size=8).hexdigest()
    return f"c{digest}"
