"""``hub load``: stream department files into the hub in batches.

Each batch is one transaction through the normal submission path, so a load
killed half-way leaves whole batches only; re-running it finds the stored
records unchanged and loads only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.files import BadLine, Line, count_lines, read_lines
from hub.services.records import submit_records
from hub.services.sources import check_source_code
from hub.uow import in_transaction

LOAD_ACTOR = "hub load"


@dataclass(slots=True)
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)


def _batches(lines: Iterator[Line | BadLine], size: int) -> Iterator[list[Line | BadLine]]:
    while batch := list(islice(lines, size)):
        yield batch


async def load_files(
    sessions: async_sessionmaker[AsyncSession],
    files: Sequence[Path],
    *,
    source: str,
    batch_size: int = 500,
    console: Console | None = None,
) -> LoadReport:
    """Load ``files`` as records of ``source``; problems are reported by file and line."""
    check_source_code(source)
    report = LoadReport()
    total = sum(count_lines(path) for path in files)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=console is None,
    ) as progress:
        task = progress.add_task(f"loading {source}", total=total)
        for path in files:
            for batch in _batches(read_lines(path), batch_size):
                await _load_batch(sessions, path, source, batch, report)
                progress.advance(task, len(batch))
    return report


async def _load_batch(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    source: str,
    batch: list[Line | BadLine],
    report: LoadReport,
) -> None:
    lines = [item for item in batch if isinstance(item, Line)]
    for bad in (item for item in batch if isinstance(item, BadLine)):
        report.rejected += 1
        report.problems.append(f"{path}:{bad.number}: {bad.message}")
    raw: list[Any] = [line.value for line in lines]
    result = await in_transaction(
        sessions,
        lambda session: submit_records(
            session, source, raw, actor=LOAD_ACTOR, max_records=len(raw) or 1
        ),
    )
    report.created += result.created
    report.updated += result.updated
    report.unchanged += result.unchanged
    report.rejected += result.rejected
    for rejection in result.rejections:
        where = f"{path}:{lines[rejection.index].number}"
        what = f"field '{rejection.field}': " if rejection.field else ""
        report.problems.append(f"{where}: {what}{rejection.message}")
