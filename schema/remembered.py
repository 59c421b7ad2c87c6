"""A small bounded memo whose key is given apart from what computes the value."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Remembered(Generic[K, V]):
    """The last ``maxsize`` values computed, by key, least recently used going first.

    Unlike ``functools.lru_cache`` the key is given apart from the arguments:
    a document must not be part of a key, its hash walks the whole tree on
    every call (tens of microseconds for a page's query).
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value remembered for ``key``, or ``compute()`` remembered now."""
        try:
            value = self._values[key]
        except KeyError:
            value = compute()
            self._values[key] = value
            if len(self._values) > self.maxsize:
                self._values.popitem(last=False)
            return value
        self._values.move_to_end(key)
        return value
