"""Plain domain values that services return: never ORM rows, never GraphQL types."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar, overload

from hub.errors import Invalid

T = TypeVar("T")

CUSTOMER_ID_PREFIX = "C"


def maker_of(cls: type[T]) -> Callable[[Sequence[Any]], T]:
    """A constructor of ``cls`` (a frozen dataclass with slots) from the values of all
    its fields, in their order, that sets the slots directly.

    The dataclass's own ``__init__`` matches keyword arguments and sets each field
    through ``object.__setattr__``: more than twice as slow as this, and a page
    of 50 customers builds 500 interactions and 400 classification entries. The
    object is the one ``cls(*values)`` builds: no field may have a default or
    skip ``__init__``, and the class may not have a ``__post_init__``. A wrong
    number of values raises ``ValueError``.
    """
    names = [item.name for item in fields(cls)]  # type: ignore[arg-type]
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass without __post_init__")
    if any(
        not item.init or item.default is not MISSING or item.default_factory is not MISSING
        for item in fields(cls)  # type: ignore[arg-type]
    ):
        raise TypeError(f"{cls.__name__} has a field with a default or outside __init__")
    # One statement per slot, unrolled as dataclasses write their ``__init__``: a
    # loop over the setters cost half as much again. The names are positional
    # (``v0``, ``set0`` …), never the fields' own.
    scope: dict[str, Any] = {"create": object.__new__, "cls": cls}
    scope.update({f"set{i}": getattr(cls, name).__set__ for i, name in enumerate(names)})
    values = "".join(f"v{i}, " for i in range(len(names)))
    lines = [
        "def make(values):",
        "    made = create(cls)",
        f"    ({values}) = values",
        *(f"    set{i}(made, v{i})" for i in range(len(names))),
        "    return made",
    ]
    exec("\n".join(lines), scope)  # noqa: S102
    make: Callable[[Sequence[Any]], T] = scope["make"]
    return make


def format_customer_id(golden_id: int) -> str:
    """The public id of a golden record: stable, never reused, never re-meant."""
    return f"{CUSTOMER_ID_PREFIX}{golden_id}"


def parse_customer_id(public_id: str, *, field_name: str = "id") -> int:
    """The golden record's row id behind a public id such as ``C42``."""
    digits = public_id.strip()[len(CUSTOMER_ID_PREFIX) :]
    if not public_id.strip().startswith(CUSTOMER_ID_PREFIX) or not digits.isdigit():
        raise Invalid(f"'{public_id}' is not a customer id (like C42)", field=field_name)
    value = int(digits)
    if value <= 0 or value >= 2**63:
        raise Invalid(f"'{public_id}' is not a customer id (like C42)", field=field_name)
    return value


def encode_cursor(position: int) -> str:
    """An opaque pagination cursor for a position in an ordered listing."""
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode()


def decode_cursor(cursor: str, *, field_name: str = "after") -> int:
    """The position an opaque cursor stands for."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid("is not a cursor this API issued", field=field_name) from None
    kind, _, number = text.partition(":")
    if kind != "p" or not number.lstrip("-").isdigit():
        raise Invalid("is not a cursor this API issued", field=field_name)
    return int(number)


class Cursors(Sequence[str], Generic[T]):
    """The cursors of a page's items, each encoded when it is read.

    Most queries ask for none of them, or for the last one only (``endCursor``):
    a page of fifty customers with ten interactions each would otherwise
    encode five hundred cursors that nobody reads.
    """

    __slots__ = ("_encode", "_items")

    def __init__(self, items: Sequence[T], encode: Callable[[T], str]) -> None:
        self._items = items
        self._encode = encode

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._encode(item) for item in self._items[index]]
        return self._encode(self._items[index])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Cursors | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which do not hash

    def __repr__(self) -> str:
        return f"Cursors({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of an ordered listing, with what a Relay connection needs."""

    items: Sequence[T]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


@dataclass(frozen=True, slots=True)
class SourceRecordRef:
    """Which department record a golden record is built from."""

    source: str
    source_key: str
    version: int
    retired: bool
    link_kind: str
    score: float | None


@dataclass(frozen=True, slots=True)
class Customer:
    """A golden record as clients see it: surviving values and their lineage."""

    golden_id: int
    party_type: str
    status: str
    version: int
    attributes: dict[str, Any]
    lineage: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    merged_into_id: int | None = None
    requested_id: int | None = None
    members: Sequence[int] = field(default_factory=tuple)

    @property
    def public_id(self) -> str:
        return format_customer_id(self.golden_id)


@dataclass(frozen=True, slots=True)
class CustomerVersion:
    """One entry of a golden record's history."""

    version: int
    status: str
    change: str
    valid_from: datetime
    members: Sequence[int]
    attributes: dict[str, Any]
    merged_into_id: int | None


@dataclass(frozen=True, slots=True)
class ReviewSide:
    """One record of a review pair: what the department sent and how it reads."""

    record_id: int
    source: str
    source_key: str
    golden_id: int | None
    payload: dict[str, Any]
    standardized: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Review:
    """An uncertain pair waiting for (or decided by) a steward."""

    review_id: int
    status: str
    score: float
    explanation: dict[str, Any]
    created_at: datetime
    left: ReviewSide
    right: ReviewSide
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited action."""

    entry_id: int
    actor: str
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SourceRecordView:
    """A department record as stored: current version, its flags, where it belongs."""

    source: str
    source_key: str
    version: int
    payload: dict[str, Any]
    flags: list[dict[str, Any]]
    retired: bool
    golden_id: int | None
    received_at: datetime


def encode_keyset(*parts: int) -> str:
    """An opaque cursor for a position in a listing ordered by several keys."""
    return base64.urlsafe_b64encode(("k:" + ",".join(map(str, parts))).encode()).decode()


def decode_keyset(cursor: str, size: int, *, field_name: str = "after") -> tuple[int, ...]:
    """The keys an opaque keyset cursor stands for."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid("is not a cursor this API issued", field=field_name) from None
    kind, _, body = text.partition(":")
    parts = body.split(",")
    if kind != "k" or len(parts) != size or not all(p.lstrip("-").isdigit() for p in parts):
        raise Invalid("is not a cursor this API issued", field=field_name)
    return tuple(int(p) for p in parts)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(moment: datetime) -> int:
    """Whole microseconds since 1970 for a keyset cursor (exact, unlike a float timestamp)."""
    return (moment - _EPOCH) // _MICROSECOND


def from_epoch_micros(micros: int, *, field_name: str = "after") -> datetime:
    """The moment a cursor's microseconds stand for."""
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise Invalid("is not a cursor this API issued", field=field_name) from None


@dataclass(frozen=True, slots=True)
class InteractionView:
    """One event of a customer's history."""

    interaction_id: int
    source: str
    interaction_key: str
    customer_key: str
    type: str
    occurred_at: datetime
    channel: str | None
    amount: Decimal | None
    currency: str | None
    due_date: date | None
    paid_date: date | None
    summary: str | None
    attributes: dict[str, Any]
