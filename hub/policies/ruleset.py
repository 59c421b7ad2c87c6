"""Reading a versioned rules file: typed entries whose errors name where they are.

Both policy files (classification, credit) are TOML read with ``tomllib``.
Fractional numbers are parsed straight into :class:`~decimal.Decimal`, so a
share of ``0.80`` or a factor of ``1.2`` is exact, as money must be.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from hub.errors import Invalid
from matching.standardize.text import normalize_text

E = TypeVar("E", bound=StrEnum)

_SEPARATORS = re.compile(r"[\s\-]+")


@lru_cache(maxsize=65_536)
def normalise_code(text: str) -> str:
    """The form a department's code is looked up under (``State-Owned`` → ``state_owned``).

    Width, script (國有 → 国有), case and separators are folded, so mapping
    tables need one entry per meaning, not one per spelling.
    """
    return _SEPARATORS.sub("_", normalize_text(text)).strip("_")


def load_toml(text: str, what: str) -> dict[str, Any]:
    """The TOML document of a rules file, fractions as exact decimals."""
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise Invalid(f"{what} rules are not valid TOML: {exc}", field=what) from exc


@dataclass(frozen=True, slots=True)
class Entry:
    """A table of a rules file, with the dotted path that names it in errors."""

    what: str
    path: str
    data: Mapping[str, Any]

    def fail(self, key: str, problem: str) -> Invalid:
        """An :class:`Invalid` naming ``key`` inside this table."""
        return invalid(self.what, self.where(key), problem)

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def allow(self, *keys: str) -> None:
        """Refuse keys this table does not know: a misspelt key must not pass silently."""
        for key in self.data:
            if key not in keys:
                raise self.fail(key, f"is not known here; expected one of {', '.join(keys)}")

    def has(self, key: str) -> bool:
        return key in self.data

    def table(self, key: str) -> Entry:
        value = self.data.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return Entry(self.what, self.where(key), value)

    def tables(self, key: str) -> list[Entry]:
        """An array of tables (``[[key]]`` or ``key = [{...}, ...]``)."""
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of tables")
        entries = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{index}]", "must be a table")
            entries.append(Entry(self.what, f"{self.where(key)}[{index}]", item))
        return entries

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty text")
        return value

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        # bool is an int in Python, but `true` is never a count of days.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, "must be a whole number")
        return value

    def decimal(self, key: str) -> Decimal:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(key, "must be a number")
        return Decimal(value)

    def choice(self, key: str, enum: type[E]) -> E:
        return self.parse_choice(key, self.data.get(key), enum)

    def choices(self, key: str, enum: type[E]) -> tuple[E, ...]:
        value = self.data.get(key)
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        return tuple(self.parse_choice(f"{key}[{i}]", v, enum) for i, v in enumerate(value))

    def parse_choice(self, key: str, value: object, enum: type[E]) -> E:
        allowed = ", ".join(member.value for member in enum)
        if not isinstance(value, str):
            raise self.fail(key, f"is {value!r}; it must be one of {allowed}")
        try:
            return enum(value)
        except ValueError:
            raise self.fail(key, f"is {value!r}; it must be one of {allowed}") from None

    def codes(self, key: str, enum: type[E]) -> dict[str, E]:
        """A mapping table from department codes to one of ours, keys normalised.

        Two spellings that normalise alike must agree, or the file is ambiguous.
        """
        table = self.table(key)
        mapped: dict[str, E] = {}
        spelled: dict[str, str] = {}
        for raw, value in table.data.items():
            code = normalise_code(raw)
            if not code:
                raise table.fail(repr(raw), "is not a code")
            target = table.parse_choice(raw, value, enum)
            if code in mapped and mapped[code] is not target:
                raise table.fail(
                    raw,
                    f"maps to {target} but {spelled[code]!r} maps the same code to {mapped[code]}",
                )
            mapped[code] = target
            spelled[code] = raw
        return mapped


def invalid(what: str, where: str, problem: str) -> Invalid:
    """An :class:`Invalid` for a rule that breaks a check, naming its entry."""
    return Invalid(f"{what} rules: {where} {problem}", field=where)


def root(data: Mapping[str, Any], what: str) -> Entry:
    """The whole document as an :class:`Entry`."""
    return Entry(what, "", data)


def version_of(document: Entry) -> str:
    """The file's ``version``: results record it, so a change is traceable."""
    return document.text("version")
