"""Fast pickling for the frozen value types that cross process boundaries."""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

__all__ = ["pickled_by_fields"]

C = TypeVar("C", bound=type)


def pickled_by_fields(cls: C) -> C:
    """Pickle a dataclass's instances as a constructor call with the field values.

    Records cross process boundaries by the hundred thousand (``hub match``
    and ``hub load`` standardize in worker processes); a frozen slots
    dataclass's own ``__setstate__`` sets one field at a time and makes
    unpickling several times slower than this.
    """
    names = tuple(f.name for f in fields(cls))
    values = attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))

    def reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, values(self)

    setattr(cls, "__reduce__", reduce)  # noqa: B010  # a method assigned after the class
    return cls
