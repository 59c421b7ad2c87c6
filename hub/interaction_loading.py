"""``hub load-interactions``: stream a department's interactions into the hub.

Each batch is one transaction; interactions are idempotent by key, so a
re-run after a crash stores only what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.files import BadLine, Line, count_lines, read_lines
from hub.progress import progress_bar
from hub.services.interactions import record_interactions
from hub.services.sources import check_source_code
from hub.uow import in_transaction


@dataclass(slots=True)
class InteractionLoadReport:
    created: int = 0
    unchanged: int = 0
    unattached: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)


async def load_interaction_files(
    sessions: async_sessionmaker[AsyncSession],
    files: Sequence[Path],
    *,
    source: str,
    batch_size: int = 2000,
    console: Console | None = None,
) -> InteractionLoadReport:
    """Load ``files`` of interactions recorded by ``source``."""
    check_source_code(source)
    report = InteractionLoadReport()
    with progress_bar(console) as progress:
        task = progress.add_task(f"interactions of {source}", total=sum(map(count_lines, files)))
        for path in files:
            lines = read_lines(path)
            while batch := list(islice(lines, batch_size)):
                await _load_batch(sessions, path, source, batch, report)
                progress.advance(task, len(batch))
    return report


async def _load_batch(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    source: str,
    batch: list[Line | BadLine],
    report: InteractionLoadReport,
) -> None:
    good = [item for item in batch if isinstance(item, Line)]
    for bad in (item for item in batch if isinstance(item, BadLine)):
        report.rejected += 1
        report.problems.append(f"{path}:{bad.number}: {bad.message}")
    raw: list[Any] = [line.value for line in good]
    result = await in_transaction(
        sessions,
        lambda session: record_interactions(session, source, raw, max_items=max(len(raw), 1)),
    )
    report.created += result.created
    report.unchanged += result.unchanged
    report.unattached += result.unattached
    report.rejected += len(result.rejections)
    for rejection in result.rejections:
        what = f"field '{rejection.field}': " if rejection.field else ""
        report.problems.append(f"{path}:{good[rejection.index].number}: {what}{rejection.message}")
