"""``hub match``: the whole matching pipeline on files, without a database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub.files import BadLine, count_lines, read_lines
from matching import RecordError, StandardRecord, parse_record
from matching.pipeline import MatchConfig, MatchResult, match_records
from matching.standardize import standardize_record


@dataclass(slots=True)
class OfflineReport:
    records: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    result: MatchResult | None = None


def _standardized(
    files: Sequence[Path], report: OfflineReport, progress: Progress
) -> list[StandardRecord]:
    task = progress.add_task("standardize", total=sum(count_lines(p) for p in files))
    records: list[StandardRecord] = []
    seen: set[tuple[str, str]] = set()
    for path in files:
        for line in read_lines(path):
            progress.advance(task)
            if isinstance(line, BadLine):
                report.rejected += 1
                report.problems.append(f"{path}:{line.number}: {line.message}")
                continue
            try:
                record = parse_record(line.value, position=line.number)
            except RecordError as error:
                report.rejected += 1
                report.problems.append(f"{path}:{line.number}: {error}")
                continue
            if (record.source, record.source_key) in seen:
                report.rejected += 1
                report.problems.append(
                    f"{path}:{line.number}: ({record.source}, {record.source_key}) appears twice"
                )
                continue
            seen.add((record.source, record.source_key))
            records.append(standardize_record(record))
    return records


def match_files(
    files: Sequence[Path],
    out: Path,
    review: Path | None,
    *,
    console: Console | None = None,
    config: MatchConfig | None = None,
) -> OfflineReport:
    """Match the records of ``files``.

    Writes one line per record to ``out`` and one per uncertain pair to ``review``.
    """
    report = OfflineReport()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
    ) as progress:
        records = _standardized(files, report, progress)
        report.records = len(records)
        stages = progress.add_task("match", total=1)

        def on_stage(stage: str, step: int, steps: int) -> None:
            progress.update(stages, description=f"match: {stage}", total=steps, completed=step)

        result = match_records(records, config, progress=on_stage)
        progress.update(stages, completed=progress.tasks[stages].total)
    report.result = result
    with out.open("w", encoding="utf-8") as handle:
        for assignment in result.assignments:
            handle.write(json.dumps(assignment.to_dict(), ensure_ascii=False) + "\n")
    if review is not None:
        with review.open("w", encoding="utf-8") as handle:
            for pair in result.reviews:
                handle.write(json.dumps(pair.to_dict(), ensure_ascii=False) + "\n")
    return report
