"""``hub match``: the whole matching pipeline on files, without a database."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from rich.console import Console
from rich.progress import Progress

from hub.collector import collector_paused
from hub.errors import Invalid
from hub.files import BadLine, count_lines, read_lines
from hub.progress import progress_bar
from matching import RecordError, StandardRecord, parse_record
from matching.block import DEFAULT_RULES, BlockingRule, KeyHashes
from matching.pipeline import MatchConfig, MatchResult, match_records
from matching.standardize import standardize_record


@dataclass(slots=True)
class OfflineReport:
    records: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    result: MatchResult | None = None


# Below this many lines one process is quicker than starting workers.
PARALLEL_FROM = 20_000
CHUNK = 4_000
ChunkResult = tuple[list[StandardRecord], KeyHashes, list[tuple[int, str]]]


def standardize_chunk(
    lines: list[tuple[int, Any]], rules: Sequence[BlockingRule] = DEFAULT_RULES
) -> ChunkResult:
    """Parse and standardize one chunk of (line number, raw object), hashing blocking keys.

    Problems come back by line number; key hashes are aligned with the records.
    """
    records: list[StandardRecord] = []
    problems: list[tuple[int, str]] = []
    with collector_paused():
        for number, value in lines:
            try:
                records.append(standardize_record(parse_record(value, position=number)))
            except RecordError as error:
                problems.append((number, str(error)))
        return records, KeyHashes.compute(records, rules), problems


def _chunks(path: Path, report: OfflineReport) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for line in read_lines(path):
        if isinstance(line, BadLine):
            report.rejected += 1
            report.problems.append(f"{path}:{line.number}: {line.message}")
            continue
        chunk.append((line.number, line.value))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(slots=True)
class Standardized:
    """Standardized records in file order, with their blocking-key hashes."""

    records: list[StandardRecord]
    key_hashes: KeyHashes


def standardize_files(
    files: Sequence[Path],
    report: OfflineReport,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
) -> Standardized:
    """Parse and standardize every record of ``files`` (in worker processes when large).

    Rejected lines and repeated (source, source_key) go to ``report``.
    """
    workers = workers or os.cpu_count() or 1
    progress = progress or Progress(disable=True)
    sizes = {path: count_lines(path) for path in files}
    task = progress.add_task("standardize", total=sum(sizes.values()))
    records: list[StandardRecord] = []
    hashes: list[KeyHashes] = []
    seen: set[tuple[str, str]] = set()
    for path in files:
        parallel = workers > 1 and sizes[path] >= PARALLEL_FROM
        chunks = _chunks(path, report)
        results: Iterator[ChunkResult]
        if parallel:
            # Workers parse and standardize; the pure library needs no shared state.
            pool = ProcessPoolExecutor(max_workers=workers)
            results = pool.map(partial(standardize_chunk, rules=rules), chunks)
        else:
            pool = None
            results = map(partial(standardize_chunk, rules=rules), chunks)
        try:
            for chunk_records, chunk_hashes, problems in results:
                for number, message in problems:
                    report.rejected += 1
                    report.problems.append(f"{path}:{number}: {message}")
                kept: list[int] = []
                for position, record in enumerate(chunk_records):
                    if record.key in seen:
                        report.rejected += 1
                        report.problems.append(f"{path}: {record.key} appears twice")
                        continue
                    seen.add(record.key)
                    records.append(record)
                    kept.append(position)
                hashes.append(
                    chunk_hashes
                    if len(kept) == len(chunk_records)
                    else chunk_hashes.take(np.asarray(kept, dtype=np.int64))
                )
                progress.advance(task, len(chunk_records) + len(problems))
        finally:
            if pool is not None:
                pool.shutdown()
    return Standardized(records, KeyHashes.concat(hashes))


def _check_paths(files: Sequence[Path], out: Path, review: Path | None) -> None:
    """Fail before any work on a missing input file or output directory."""
    for path in files:
        if not path.is_file():
            raise Invalid(f"{path}: no such file", field="file")
    outputs: list[tuple[Path | None, str]] = [(out, "out"), (review, "review")]
    for target, option in outputs:
        if target is not None and not target.parent.is_dir():
            raise Invalid(f"{target}: the directory {target.parent} does not exist", field=option)


def match_files(
    files: Sequence[Path],
    out: Path,
    review: Path | None,
    *,
    console: Console | None = None,
    config: MatchConfig | None = None,
    workers: int | None = None,
) -> OfflineReport:
    """Match the records of ``files``.

    Writes one line per record to ``out`` and one per uncertain pair to ``review``.
    """
    _check_paths(files, out, review)
    report = OfflineReport()
    config = config or MatchConfig()
    with progress_bar(console) as progress, collector_paused():
        standardized = standardize_files(
            files, report, progress, workers=workers, rules=config.rules
        )
        report.records = len(standardized.records)
        stages = progress.add_task("match", total=1)

        def on_stage(stage: str, step: int, steps: int) -> None:
            progress.update(stages, description=f"match: {stage}", total=steps, completed=step)

        result = match_records(
            standardized.records,
            config,
            progress=on_stage,
            key_hashes=standardized.key_hashes,
        )
        progress.update(stages, completed=progress.tasks[stages].total)
    report.result = result
    # orjson writes UTF-8 as json.dumps(ensure_ascii=False) would, several times faster.
    with out.open("wb") as handle:
        for assignment in result.assignments:
            handle.write(orjson.dumps(assignment.to_dict(), option=orjson.OPT_APPEND_NEWLINE))
    if review is not None:
        with review.open("wb") as handle:
            for pair in result.reviews:
                handle.write(orjson.dumps(pair.to_dict(), option=orjson.OPT_APPEND_NEWLINE))
    return report
