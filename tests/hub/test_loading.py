"""``hub load``: resumable loads, killed half-way for real and re-run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as create_engine

import hub
from hub.bulk import bulk_match_config
from hub.db.engine import async_url
from hub.db.models import SourceRecord, SourceSystem
from hub.loading import load_files
from matching import parse_record, standardize_record
from matching.model import default_model
from matching.pipeline import match_records
from tests.hub.test_bulk import department_records, write_jsonl

# The checkout the tests import from (the subprocesses import the same code).
ROOT = Path(hub.__file__).parents[1]
HUB = [sys.executable, "-c", "from hub.cli import main; main()"]

COUNTED = {
    "source_record": "SELECT count(*) FROM source_record",
    "source_record_version": "SELECT count(*) FROM source_record_version",
    "cross_reference": "SELECT count(*) FROM cross_reference",
    "golden_record": "SELECT count(*) FROM golden_record WHERE status = 'active'",
    "golden_with_members": "SELECT count(DISTINCT golden_id) FROM cross_reference",
    "golden_record_version": "SELECT count(*) FROM golden_record_version",
    "match_key": "SELECT count(*) FROM match_key",
    "match_review": "SELECT count(*) FROM match_review",
    "change_event": "SELECT count(*) FROM change_event",
}

ScratchDatabase = Callable[[], Awaitable[str]]


@pytest.fixture
async def scratch_database(database_url: str) -> AsyncIterator[ScratchDatabase]:
    """Makes empty databases on the test server (dropped afterwards) for `hub load` runs."""
    server = make_url(database_url)
    admin = create_engine(async_url(server.set(database="postgres").render_as_string(False)))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    made: list[str] = []

    async def make() -> str:
        name = f"bulk_test_{uuid.uuid4().hex[:12]}"
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        async with admin.connect() as connection:
            for name in made:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


class Loads:
    """`hub load` subprocesses of one test; any still running at its end are killed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, url: str, *args: str) -> subprocess.Popen[bytes]:
        number = len(self.running)
        with (
            (self.directory / f"load-{number}.out").open("wb") as out,
            (self.directory / f"load-{number}.err").open("wb") as err,
        ):
            process = subprocess.Popen(
                [*HUB, "load", *args],
                cwd=ROOT,
                env=os.environ | {"HUB_DATABASE_URL": url, "COLUMNS": "120"},
                stdout=out,
                stderr=err,
            )
        self.running.append(process)
        return process

    def finish(self, process: subprocess.Popen[bytes], timeout: float = 120) -> str:
        """The load's console output, once it has exited successfully."""
        process.wait(timeout=timeout)
        number = self.running.index(process)
        output = (self.directory / f"load-{number}.err").read_text(encoding="utf-8")
        assert process.returncode == 0, output
        return output

    def kill_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def loads(tmp_path: Path) -> Iterator[Loads]:
    directory = tmp_path / "loads"
    directory.mkdir()
    started = Loads(directory)
    try:
        yield started
    finally:
        started.kill_all()


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            name: (await connection.execute(text(query))).scalar_one()
            for name, query in COUNTED.items()
        }


async def poll(
    engine: AsyncEngine,
    query: str,
    until: Callable[[int], bool],
    process: subprocess.Popen[bytes],
) -> int:
    """Run ``query`` every few milliseconds until its number satisfies ``until``."""
    deadline = time.monotonic() + 60
    async with engine.connect() as connection:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the load exited ({process.returncode}) before the poll")
            exists = (
                await connection.execute(text("SELECT to_regclass('source_record') IS NOT NULL"))
            ).scalar_one()
            value = (await connection.execute(text(query))).scalar_one() if exists else 0
            await connection.commit()
            if until(value):
                return int(value)
            await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting on {query}")


def transaction_ends(path: Path, *, batch_size: int) -> set[int]:
    """How many records an incremental load of ``path`` has stored after each of
    its transactions: one per department of each batch, in department order."""
    sources = [json.loads(line)["source"] for line in path.read_text(encoding="utf-8").splitlines()]
    ends, stored = {0}, 0
    for start in range(0, len(sources), batch_size):
        for _, count in sorted(Counter(sources[start : start + batch_size]).items()):
            stored += count
            ends.add(stored)
    return ends


def assert_one_golden_per_record(found: dict[str, int]) -> None:
    assert found["cross_reference"] == found["source_record"]
    assert found["golden_with_members"] == found["golden_record"]


async def test_an_incremental_load_killed_half_way_and_rerun_equals_a_clean_run(
    tmp_path: Path, scratch_database: ScratchDatabase, loads: Loads
) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", department_records(300, seed=21))
    total = len(path.read_text(encoding="utf-8").splitlines())
    args = (str(path), "--no-bulk", "--batch-size", "50")
    clean_url, killed_url = await scratch_database(), await scratch_database()
    clean = loads.start(clean_url, *args)
    killed = loads.start(killed_url, *args)
    engine = create_engine(async_url(killed_url))
    try:
        stored = await poll(engine, COUNTED["source_record"], lambda n: n >= 100, killed)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        assert killed.returncode == -signal.SIGKILL
        after_kill = (await counts(engine))["source_record"]
        assert stored <= after_kill < total, "the load finished before it was killed"
        assert after_kill in transaction_ends(path, batch_size=50)  # whole transactions only

        report = loads.finish(loads.start(killed_url, *args))
        assert f"unchanged {after_kill}" in report
        assert f"created {total - after_kill}" in report
        resumed = await counts(engine)
    finally:
        await engine.dispose()
    loads.finish(clean)
    clean_engine = create_engine(async_url(clean_url))
    try:
        expected = await counts(clean_engine)
    finally:
        await clean_engine.dispose()

    assert resumed == expected
    assert expected["source_record"] == total
    assert_one_golden_per_record(resumed)


async def test_a_bulk_load_killed_half_way_commits_nothing_and_rerun_loads_everything(
    tmp_path: Path, scratch_database: ScratchDatabase, loads: Loads
) -> None:
    records = department_records(1000, seed=22)
    path = write_jsonl(tmp_path / "records.jsonl", records)
    url = await scratch_database()
    engine = create_engine(async_url(url))
    try:
        process = loads.start(url, str(path))
        # The bulk write holds this lock from its first COPY until it commits.
        await poll(
            engine,
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'source_record' AND l.mode = 'ShareRowExclusiveLock'",
            lambda n: n > 0,
            process,
        )
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
        assert (await counts(engine))["source_record"] == 0

        report = loads.finish(loads.start(url, str(path)))
        assert f"bulk load: created {len(records)}" in report
        found = await counts(engine)
    finally:
        await engine.dispose()

    expected = match_records(
        [standardize_record(parse_record(r)) for r in records],
        bulk_match_config(),
        model=default_model(),
    )
    assert found["source_record"] == len(records)
    assert found["golden_record"] == len({a.cluster_id for a in expected.assignments})
    assert found["change_event"] == found["golden_record"]
    assert_one_golden_per_record(found)


async def test_an_incremental_load_takes_each_record_under_its_own_department(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, tmp_path: Path
) -> None:
    records: list[Any] = department_records(20, seed=23)
    sourceless = {k: v for k, v in records[0].items() if k != "source"}
    path = write_jsonl(tmp_path / "mixed.jsonl", [*records[1:], sourceless])
    report = await load_files(sessions, [path], bulk=False, batch_size=7)

    assert report.mode == "incremental"
    assert (report.created, report.rejected) == (len(records) - 1, 1)
    assert report.problems == [f"{path}:{len(records)}: field 'source': is required"]
    rows = await session.execute(
        select(SourceSystem.code, func.count())
        .join(SourceRecord, SourceRecord.source_id == SourceSystem.id)
        .group_by(SourceSystem.code)
    )
    expected: dict[str, int] = {}
    for record in records[1:]:
        expected[record["source"]] = expected.get(record["source"], 0) + 1
    assert dict(rows.all()) == expected
    assert len(expected) > 1
