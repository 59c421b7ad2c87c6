"""Time ``hub load --bulk`` (a first load into an empty hub) on a generated corpus.

    python -m bench.hub_load_bench --entities 100000 [--splink] [--server URL]

Generates (or reuses, under ``bench/data/``) a corpus of ``--entities``
customers, creates a scratch database ``hub_bulk_bench_…`` (``--prefix``, or
exactly ``--database`` / ``BENCH_DATABASE``) on the server, migrates it, then
runs ``hub load --bulk`` in its own process (wall time and peak RSS measured
as in :mod:`bench.match_bench`). Afterwards it reads
the golden records back (they are queryable at the end of the load) and scores
the stored clusters against the truth. ``--splink`` also runs the Splink
baseline on the same file for the time ratio. The scratch database is dropped
unless ``--keep``; ``--no-record`` leaves docs/PERFORMANCE.md as it is.

Wall time on a shared machine says little by itself, so the load's CPU time is
reported too: the hub's processes (its worker processes and their fork server
included), the PostgreSQL backends serving the scratch database (and their
parallel workers), and how busy the whole machine was meanwhile. Peak RSS is
the hub process's own (the workers, forked by the fork server, are not its
children).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import asyncpg
import psutil

from bench.corpus import GENERATOR_VERSION, write_corpus
from bench.evaluate import load_truth, pairwise_scores
from bench.match_bench import DATA, OUT, ROOT, Run, measure
from bench.report import Figure, record

_SECONDS = re.compile(r"seconds: (.*)")


def corpus_for(entities: int, seed: int) -> Path:
    """A corpus of ``entities`` customers, generated unless cached."""
    path = DATA / f"corpus-e{entities}-s{seed}"
    manifest = path / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if (meta.get("generator_version"), meta.get("seed"), meta.get("entities")) == (
            GENERATOR_VERSION,
            seed,
            entities,
        ):
            return path
    print(f"generating {entities:,} entities → {path}", flush=True)
    write_corpus(path, entities, seed)
    return path


async def _admin(server: str, statement: str) -> None:
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _stored(url: str) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Each stored record's golden id, and row counts."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT s.code, r.source_key, x.golden_id FROM cross_reference x "
            "JOIN source_record r ON r.id = x.source_record_id "
            "JOIN source_system s ON s.id = r.source_id"
        )
        counts = {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}")
            for table in (
                "source_record",
                "golden_record",
                "cross_reference",
                "match_review",
                "change_event",
            )
        }
        # What a client does first: the golden records, by page.
        page = await connection.fetch(
            "SELECT id, name, region FROM golden_record WHERE status = 'active' "
            "ORDER BY id LIMIT 1000"
        )
        counts["first_page"] = len(page)
    finally:
        await connection.close()
    return {(r["code"], r["source_key"]): r["golden_id"] for r in rows}, counts


_BUSY = ("user", "nice", "system", "irq", "softirq", "steal")


@dataclass(frozen=True, slots=True)
class Cpu:
    """CPU seconds a measured command cost, by who spent them, and the machine's load."""

    hub: float
    postgres: float
    machine_busy: float  # share of all cores, everyone's work included

    def describe(self) -> str:
        return (
            f"CPU: hub {self.hub:.1f} s, PostgreSQL {self.postgres:.1f} s; "
            f"machine {100 * self.machine_busy:.0f}% busy"
        )


class _CpuPoller:
    """Polls some processes' CPU times in a thread; ``seconds`` is their sum."""

    interval = 0.5

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _poll(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            self._poll()

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


class BackendMeter(_CpuPoller):
    """Polls the CPU time of the PostgreSQL backends serving one database.

    A backend's parallel workers (an index build sorts in two or three
    processes) are counted too: their titles name the backend's process id
    ("parallel worker for PID 123"), not the database. They live only while
    their statement runs, so the poll is frequent.
    """

    interval = 0.2

    def __init__(self, database: str) -> None:
        super().__init__()
        self.database = database
        self.backends: set[int] = set()
        # What each process seen is: a backend of the database (0), a parallel
        # worker of the backend with that pid, or another process (-1). Its
        # command line is read once: the poll runs on the machine it measures.
        self.kinds: dict[int, int] = {}

    def _poll(self) -> None:
        workers: list[tuple[psutil.Process, int]] = []
        for process in psutil.process_iter():
            try:
                kind = self._kind(process)
                if kind == 0:
                    self._count(process)
                elif kind > 0:
                    workers.append((process, kind))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        for process, leader_pid in workers:
            if leader_pid in self.backends:
                try:
                    self._count(process)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue

    def _kind(self, process: psutil.Process) -> int:
        kind = self.kinds.get(process.pid)
        if kind is not None:
            return kind
        line = " ".join(process.cmdline())
        if line.startswith("postgres: ") and f" {self.database} " in line:
            kind = 0
            self.backends.add(process.pid)
        elif (leader := _PARALLEL_WORKER.search(line)) is not None:
            kind = int(leader[1])
        elif line.startswith("/usr/lib/postgresql/"):
            return -1  # forked by the server, its title not set yet: looked at again
        else:
            kind = -1
        self.kinds[process.pid] = kind
        return kind

    def _count(self, process: psutil.Process) -> None:
        times = process.cpu_times()
        self.seen[process.pid] = times.user + times.system


_PARALLEL_WORKER = re.compile(r"^postgres: .*parallel worker for PID (\d+)")


class ForkServerMeter(_CpuPoller):
    """Polls the CPU time of the fork servers below this process, their children included.

    The load's worker processes are forked by a multiprocessing fork server
    that the hub process never waits for: their time reaches no
    ``RUSAGE_CHILDREN`` of ours. The server waits for each worker it forked,
    so its children's times are theirs. The workers carry the server's
    command line: they are counted through it, not again on their own.
    """

    # Once the workers are done their server only waits: seconds apart is enough.
    interval = 1.0

    def _poll(self) -> None:
        for process in psutil.Process().children(recursive=True):
            try:
                if _is_fork_server(process) and not _is_fork_server(process.parent()):
                    times = process.cpu_times()
                    self.seen[process.pid] = (
                        times.user + times.system + times.children_user + times.children_system
                    )
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue


def _is_fork_server(process: psutil.Process | None) -> bool:
    """Whether ``process`` runs a multiprocessing fork server's code (a forked worker does too)."""
    return process is not None and "multiprocessing.forkserver" in " ".join(process.cmdline())


def measured(command: list[str], log: Path, database: str) -> tuple[Run, Cpu]:
    """:func:`bench.match_bench.measure` of ``command``, with the CPU it cost."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = psutil.cpu_times()
    with BackendMeter(database) as backends, ForkServerMeter() as servers:
        run = measure(command, log)
    after, machine_after = resource.getrusage(resource.RUSAGE_CHILDREN), psutil.cpu_times()
    busy = sum(getattr(machine_after, n) - getattr(machine, n) for n in _BUSY)
    return run, Cpu(
        hub=(after.ru_utime + after.ru_stime)
        - (children.ru_utime + children.ru_stime)
        + servers.seconds,
        postgres=backends.seconds,
        machine_busy=busy / max(run.wall_s * (os.cpu_count() or 1), 1e-9),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="A database on the server where the scratch database is created.",
    )
    parser.add_argument("--splink", action="store_true", help="Also time the Splink baseline.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument(
        "--prefix",
        default="hub_bulk_bench_",
        help="Name prefix of the scratch database (a random suffix follows).",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE"),
        help="The scratch database's exact name (default: the prefix and a random suffix;"
        " BENCH_DATABASE sets it too). It must not exist yet.",
    )
    parser.add_argument(
        "--no-record",
        dest="record",
        action="store_false",
        help="Print the figures only; leave docs/PERFORMANCE.md as it is.",
    )
    args = parser.parse_args(argv)

    dataset = corpus_for(args.entities, args.seed)
    records = dataset / "records.jsonl"
    work = OUT / f"hub-load-{dataset.name}"
    work.mkdir(parents=True, exist_ok=True)
    name = args.database or f"{args.prefix}{uuid.uuid4().hex[:10]}"
    base, _, _ = args.server.rpartition("/")
    url = f"{base}/{name}"
    hub = str(Path(sys.executable).with_name("hub"))
    # The hub commands below (children of this process) load into the scratch database.
    os.environ["HUB_DATABASE_URL"] = url

    asyncio.run(_admin(args.server, f'CREATE DATABASE "{name}"'))
    try:
        subprocess.run([hub, "migrate"], cwd=ROOT, capture_output=True, check=True)
        run, cpu = measured([hub, "load", "--bulk", str(records)], work / "load.log", name)
        log = (work / "load.log").read_text(encoding="utf-8")
        if run.returncode != 0:
            raise SystemExit(f"hub load failed (exit {run.returncode}); see {work / 'load.log'}")
        stored, counts = asyncio.run(_stored(url))
    finally:
        if not args.keep:
            asyncio.run(_admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    truth = load_truth(dataset / "truth.csv")
    scores = pairwise_scores(stored, truth)
    stages = _SECONDS.search(log)
    result = {
        "dataset": dataset.name,
        "entities": args.entities,
        "records": counts["source_record"],
        "goldens": counts["golden_record"],
        "reviews": counts["match_review"],
        "wall_s": round(run.wall_s, 2),
        "records_per_s": round(counts["source_record"] / run.wall_s, 1),
        "peak_mb": round(run.peak_mb, 1),
        "hub_cpu_s": round(cpu.hub, 1),
        "postgres_cpu_s": round(cpu.postgres, 1),
        "machine_busy": round(cpu.machine_busy, 2),
        "stages": stages.group(1) if stages else None,
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
        "database": url if args.keep else None,
    }
    if args.splink:
        splink = measure(
            [
                sys.executable,
                "-m",
                "bench.splink_baseline",
                str(records),
                "--out",
                str(work / "splink.jsonl"),
            ],
            work / "splink.log",
        )
        result["splink_wall_s"] = round(splink.wall_s, 2)
        result["ratio_to_splink"] = round(run.wall_s / splink.wall_s, 2) if splink.wall_s else None
    (work / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    for key, value in result.items():
        print(f"{key:>16}: {value}")
    if not args.record:
        return
    record(
        [
            Figure(
                name=f"first load into an empty hub, {result['records']:,} records",
                value=f"{run.wall_s:.1f} s ({result['records_per_s']:,.0f} records/s), "
                f"{run.peak_mb:.0f} MB; P {result['precision']}, F1 {result['f1']}; "
                f"stages {result['stages']}; {cpu.describe()}",
                peer=f"Splink dedupe {result['splink_wall_s']} s" if args.splink else "",
                ratio=str(result.get("ratio_to_splink", "")),
                target="≤ 1.5 × Splink (100k entities)",
                # The seed names the corpus (the shipped model was trained on seed 7).
                command=f"python -m bench.hub_load_bench --entities {args.entities}"
                f" --seed {args.seed}" + (" --splink" if args.splink else ""),
            )
        ]
    )


if __name__ == "__main__":
    main()
