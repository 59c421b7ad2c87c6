"""``maker_of`` builds the very object the dataclass's own constructor builds."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, field, fields
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hub.domain import InteractionView, maker_of

VALUES = (
    7,
    "crm",
    "I-7",
    "K-7",
    "ORDER",
    datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
    "web",
    Decimal("12.50"),
    "EUR",
    date(2026, 12, 24),
    None,
    "first order",
    {"campaign": "winter"},
)


def test_the_object_made_is_the_one_the_constructor_makes() -> None:
    made = maker_of(InteractionView)(VALUES)
    assert made == InteractionView(*VALUES)
    assert repr(made) == repr(InteractionView(*VALUES))
    # The values themselves, not copies.
    assert all(
        getattr(made, item.name) is value
        for item, value in zip(fields(InteractionView), VALUES, strict=True)
    )


def test_the_object_made_stays_frozen() -> None:
    made = maker_of(InteractionView)(VALUES)
    with pytest.raises(FrozenInstanceError):
        made.type = "CALL"  # type: ignore[misc]


def test_a_wrong_number_of_values_is_refused() -> None:
    make = maker_of(InteractionView)
    with pytest.raises(ValueError, match="values to unpack"):
        make(VALUES[:-1])
    with pytest.raises(ValueError, match="values to unpack"):
        make((*VALUES, "one too many"))


@dataclass(frozen=True)
class WithoutSlots:
    name: str


@dataclass(frozen=True, slots=True)
class WithDefault:
    name: str
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Checked:
    name: str

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a name is required")


@pytest.mark.parametrize("kind", [WithoutSlots, WithDefault, Checked])
def test_classes_whose_constructor_does_more_than_set_fields_are_refused(kind: type) -> None:
    with pytest.raises(TypeError):
        maker_of(kind)
