"""Reading department files: JSONL or CSV with the contract's column names, streamed.

Each line or row becomes a raw object for :func:`matching.parse_record`; a line
that is not JSON becomes a :class:`BadLine` so the caller can report it by
line number and carry on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.errors import Invalid
from matching.record import LIST_FIELDS

# A CSV cell holding a list (phones, emails, identifiers) separates items with ';'.
CSV_LIST_SEPARATOR = ";"


@dataclass(frozen=True, slots=True)
class Line:
    """One record-to-be, with where it came from."""

    number: int
    value: Any


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be read as a record at all."""

    number: int
    message: str


def file_format(path: Path) -> str:
    """``jsonl`` or ``csv`` from the file's extension."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    raise Invalid(f"{path}: unknown file type '{suffix}'; use .jsonl or .csv", field="file")


def read_lines(path: Path) -> Iterator[Line | BadLine]:
    """Stream the records of a JSONL or CSV file (line numbers from 1)."""
    if not path.is_file():
        raise Invalid(f"{path}: no such file", field="file")
    if file_format(path) == "jsonl":
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path)


def _read_jsonl(path: Path) -> Iterator[Line | BadLine]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                yield Line(number, json.loads(text))
            except json.JSONDecodeError as exc:
                yield BadLine(number, f"not valid JSON: {exc.msg} at column {exc.colno}")


def _read_csv(path: Path) -> Iterator[Line | BadLine]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            number = reader.line_num
            if None in row:
                yield BadLine(number, "has more cells than the header has columns")
                continue
            record: dict[str, Any] = {}
            for column, cell in row.items():
                if cell is None or cell == "":
                    continue
                if column in LIST_FIELDS:
                    record[column] = [
                        p.strip() for p in cell.split(CSV_LIST_SEPARATOR) if p.strip()
                    ]
                else:
                    record[column] = cell
            yield Line(number, record)


def count_lines(path: Path) -> int:
    """How many lines a file has (for a progress bar's total)."""
    with path.open("rb") as handle:
        return sum(1 for _ in handle)
