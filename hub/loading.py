"""``hub load``: department files into the hub, in bulk or in batches.

Two paths, both resumable:

- **bulk** (:mod:`hub.bulk`, the default when the hub holds no source record):
  everything is read first (in worker processes when large), then matched and
  written in one transaction. A load killed half-way commits nothing;
  re-running it finds the hub still empty and loads everything.
- **incremental**: each batch is one transaction through the normal
  submission path, so a load killed half-way leaves whole batches only;
  re-running it finds the stored records unchanged and loads only what is
  missing.

Each record names its department in its ``source`` field; ``source``, when
given, fills a missing one and must agree with a present one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.bulk import hub_is_empty, load_bulk
from hub.errors import Invalid
from hub.files import BadLine, Line, count_lines, read_lines
from hub.progress import progress_bar
from hub.services.records import submit_records
from hub.services.sources import check_source_code
from hub.uow import in_transaction
from matching import RecordError, parse_record

LOAD_ACTOR = "hub load"


@dataclass(slots=True)
class LoadReport:
    """What a load did; ``goldens`` and ``reviews`` are counted by bulk loads only."""

    mode: str = "incremental"  # bulk | incremental
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    goldens: int | None = None
    reviews: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _batches(lines: Iterator[Line | BadLine], size: int) -> Iterator[list[Line | BadLine]]:
    while batch := list(islice(lines, size)):
        yield batch


async def load_files(
    sessions: async_sessionmaker[AsyncSession],
    files: Sequence[Path],
    *,
    source: str | None = None,
    bulk: bool | None = None,
    batch_size: int = 500,
    console: Console | None = None,
    workers: int | None = None,
) -> LoadReport:
    """Load ``files``; problems are reported by file and line.

    ``bulk`` None chooses the bulk path when the hub holds no source record;
    True insists on it (refused with :class:`~hub.errors.Conflict` otherwise).
    ``workers``: a bulk load's worker processes (0: none; by default one per
    core when the files are large).
    """
    if source is not None:
        check_source_code(source)
    for path in files:
        if not path.is_file():
            raise Invalid(f"{path}: no such file", field="file")
    if bulk is None:
        async with sessions() as session:
            bulk = await hub_is_empty(session)
    with progress_bar(console) as progress:
        if bulk:
            outcome = await load_bulk(
                sessions,
                files,
                source=source,
                actor=LOAD_ACTOR,
                progress=progress,
                workers=workers,
            )
            return LoadReport(
                mode="bulk",
                created=outcome.created,
                unchanged=outcome.unchanged,
                rejected=outcome.rejected,
                goldens=outcome.goldens,
                reviews=outcome.reviews,
                seconds=outcome.seconds,
                problems=outcome.problems,
            )
        report = LoadReport()
        task = progress.add_task("load in batches", total=sum(count_lines(p) for p in files))
        for path in files:
            for batch in _batches(read_lines(path), batch_size):
                await _load_batch(sessions, path, source, batch, report)
                progress.advance(task, len(batch))
    return report


def _source_of(line: Line, default: str | None) -> str | RecordError:
    """The department a line's record belongs to, or why it has none."""
    if default is not None:
        return default  # submit_records checks that a record's own source agrees
    raw = line.value
    named = raw.get("source") if isinstance(raw, dict) else None
    if isinstance(named, str):
        try:
            return check_source_code(named)
        except Invalid as error:
            return RecordError("source", error.message)
    try:
        # Without a source the contract check fails; it says how.
        return parse_record(raw, position=line.number).source
    except RecordError as error:
        return error


async def _load_batch(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    source: str | None,
    batch: list[Line | BadLine],
    report: LoadReport,
) -> None:
    """The batch's records, one transaction per department.

    One transaction per department keeps each transaction's key locks taken in
    one sorted sweep, so concurrent loads cannot deadlock on them.
    """
    by_source: dict[str, list[Line]] = defaultdict(list)
    for item in batch:
        if isinstance(item, BadLine):
            report.rejected += 1
            report.problems.append(f"{path}:{item.number}: {item.message}")
            continue
        found = _source_of(item, source)
        if isinstance(found, RecordError):
            report.rejected += 1
            what = f"field '{found.field}': " if found.field else ""
            report.problems.append(f"{path}:{item.number}: {what}{found.message}")
            continue
        by_source[found].append(item)
    if not by_source:
        return

    for code in sorted(by_source):
        lines = by_source[code]
        raw: list[Any] = [line.value for line in lines]
        result = await in_transaction(
            sessions,
            partial(
                submit_records, source=code, raw_records=raw, actor=LOAD_ACTOR, max_records=len(raw)
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
