"""GraphQL latency and throughput under concurrent load, from a loopback client.

Runs against a hub that is already serving (``--url``, a key in ``--key``), or
prepares one itself: a scratch database on the local PostgreSQL, a generated
corpus bulk-loaded with ``hub load``, synthetic interactions, a
``hub serve --workers N`` subprocess and an admin key (the queries ask for
credit, which readers may not see). The scratch database is vacuumed and
analyzed after loading (as autovacuum would do in service; the local server
may run with it off), and the hub is served as in production
(``HUB_ENVIRONMENT=production``: no access log, keys trusted for
``HUB_API_KEY_CACHE_SECONDS``). ``--reuse`` serves the scratch database of an
earlier run as it is, so that a large corpus is loaded once.

Each scenario runs for a bounded time with a fixed number of concurrent
clients and prints p50/p95/p99 latency and requests per second. Closed-loop
clients (the default) send their next request as soon as an answer comes: the
machine is saturated and latency is what that many clients queue for.
``--rate R`` makes it open-loop instead (as wrk2 does): requests are due at R
per second, spread over the clients, and each latency counts from when its
request was due, so a hub that falls behind is charged for the wait (no
coordinated omission). That is the measure of "p95 at N requests/s". The load
generator shares the machine with the hub and PostgreSQL, so it is kept
light: plain HTTP/1.1 keep-alive connections on asyncio (uvloop when
installed), one per client. Each scenario also reports the CPU time per
request of the hub's processes, of PostgreSQL's backends serving it and of
the load generator itself, and how busy the whole machine was (other work
included).

    python -m bench.api_bench --entities 20000 --seconds 15 --concurrency 16
    python -m bench.api_bench --entities 20000 --reuse --workers 2
    python -m bench.api_bench --url http://127.0.0.1:8000 --key hub_... --seconds 20
    python -m bench.api_bench --entities 20000 --reuse --only profile --rate 800 --concurrency 32

``--no-record`` prints the figures without writing docs/PERFORMANCE.md; a run
with ``--only`` records the rows of its scenarios (their command says ``--only``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench.report import Figure, record

try:  # a third of the load generator's CPU went into parsing pages of 50 with json
    from orjson import loads as parse_json
except ImportError:
    from json import loads as parse_json

PROFILE = """
query Profile($id: ID!) {
  customer(id: $id) {
    id name nameEn region industry partyType
    identifiers { type value masked }
    phones { value masked }
    addresses { city district region }
    metrics { revenue12m transactionCount lastTransactionAt }
    classification { dimension value }
    credit { rating effectiveLimit utilization }
    interactions(first: 10) { edges { node { type occurredAt amount summary } } }
  }
}
"""
PAGE = """
query Page($after: String) {
  customers(first: 50, after: $after) {
    edges { cursor node {
      id name region
      sourceRecords { source sourceKey }
      metrics { revenue12m }
      classification { dimension value }
      credit { rating effectiveLimit }
      interactions(first: 10) { edges { node { type occurredAt amount } } }
    } }
  }
}
"""
SEARCH = """
query Search($text: String!) {
  search(text: $text, first: 10) { edges { node { score customer { id name } } } }
}
"""
LOOPBACK = ("127.", "localhost", "[::1]")
# The served scratch database (another name keeps a second store, e.g. of 1M records).
DATABASE = os.environ.get("BENCH_DATABASE", "hub_api_bench")


def database_prefix() -> str:
    """How a figure's command names a scratch database other than the default."""
    return "" if DATABASE == "hub_api_bench" else f"BENCH_DATABASE={DATABASE} "


APPLICATION_NAME = "customer-hub"


def stored_records(database_url: str) -> int:
    """Source records in the served database (what the figure is "with N stored")."""
    count = subprocess.run(
        ["psql", database_url, "-Atc", "SELECT count(*) FROM source_record"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(count.stdout.strip())


# PostgreSQL's own default; the figures are taken with it unless they say otherwise.
DEFAULT_SHARED_BUFFERS = "128MB"


def server_sizing(database_url: str) -> str:
    """What a figure says of the database server's memory when it is not the default.

    ``docs/SCALING.md`` recommends a quarter of the memory for ``shared_buffers``;
    a figure taken that way names it, so rows of both kinds can stand side by side.
    """
    shown = subprocess.run(
        ["psql", database_url, "-Atc", "SHOW shared_buffers"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return sizing_named(shown)


def sizing_named(shared_buffers: str) -> str:
    """The words :func:`server_sizing` adds to a figure for ``shared_buffers``."""
    if shared_buffers == DEFAULT_SHARED_BUFFERS:
        return ""
    return f", PostgreSQL shared_buffers {shared_buffers}"


def _scale(args: argparse.Namespace) -> str:
    if args.url:
        return "a running hub"
    admin_url = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    return f"{stored_records(f'{admin_url}/{DATABASE}'):,} records stored"


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str
    request: Callable[[random.Random], dict[str, Any]]


@dataclass
class Usage:
    """CPU seconds spent during a scenario, by who spent them."""

    server: float | None = None
    database: float | None = None
    client: float = 0.0
    machine_busy: float = 0.0  # share of all cores, other work included
    # CPU seconds of each hub process (the parent and its workers): a worker that
    # got more of the keep-alive connections is busier while the other idles.
    processes: list[float] = field(default_factory=list)

    def per_request(self, requests: int) -> str:
        if not requests:
            return ""
        parts = []
        if self.server is not None:
            parts.append(f"hub {1000 * self.server / requests:.2f}")
        if self.database is not None:
            parts.append(f"PostgreSQL {1000 * self.database / requests:.2f}")
        parts.append(f"load generator {1000 * self.client / requests:.2f}")
        known = self.client + (self.server or 0.0) + (self.database or 0.0)
        share = f", load generator {100 * self.client / known:.0f}% of it" if known else ""
        return (
            f"CPU ms/request: {', '.join(parts)}{share}; "
            f"machine {100 * self.machine_busy:.0f}% busy"
        )

    def spread(self) -> str:
        """How the hub's CPU time fell on its processes (busiest first)."""
        spent = sorted((t for t in self.processes if t > 0), reverse=True)
        total = sum(spent)
        if len(spent) < 2 or not total:  # a spread needs two processes
            return ""
        return "hub processes' share of its CPU: " + " / ".join(
            f"{100 * t / total:.0f}%" for t in spent
        )


@dataclass
class Outcome:
    latencies: list[float]
    errors: int
    seconds: float
    usage: Usage = field(default_factory=Usage)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def figure(self, scenario: Scenario, args: argparse.Namespace) -> Figure:
        """This outcome as a row of docs/PERFORMANCE.md."""
        workers = f", {args.workers} workers" if not args.url else ""
        offered = f" at {args.rate:g} req/s offered" if args.rate else ""
        return Figure(
            name=f"GraphQL {scenario.name}, {_scale(args)}, {args.concurrency} clients"
            f"{offered}{workers}",
            value=f"p95 {self.percentile(0.95):.1f} ms, {self.rate:.0f} req/s, "
            f"{self.errors} errors; {self.usage.per_request(len(self.latencies))}",
            target=scenario.target,
            command=f"{database_prefix()}python -m bench.api_bench --entities {args.entities} "
            f"--seconds {args.seconds:g} --concurrency {args.concurrency} --workers {args.workers}"
            + (f" --rate {args.rate:g}" if args.rate else "")
            + (f" --only {' '.join(args.only)}" if args.only else ""),
        )

    def row(self) -> str:
        mean = 1000 * sum(self.latencies) / len(self.latencies) if self.latencies else 0.0
        return (
            f"{len(self.latencies):>8} {self.errors:>6} {self.rate:>9.1f} {mean:>8.1f} "
            f"{self.percentile(0.50):>8.1f} {self.percentile(0.95):>8.1f} "
            f"{self.percentile(0.99):>8.1f}"
        )


class Connection:
    """One HTTP/1.1 keep-alive connection: a request is written, its response read whole.

    A general client (httpx) spends more CPU per request than the hub's cheapest
    queries; on a 2-core machine shared with the hub that would be measured as
    the hub's slowness.
    """

    def __init__(self, url: str, key: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.head = (
            f"POST /graphql HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            payload = await self._chunked()
        else:
            raise RuntimeError(f"a response without a length: {head!r}")
        if headers.get("connection") == "close":
            await self.close()
        return status, payload

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        chunks = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return b"".join(chunks)
            chunks.append(chunk[:-2])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()
            self.writer = None


async def graphql(connection: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL answer; anything but 200 is an error."""
    status, payload = await connection.post(json.dumps(body).encode())
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {payload[:500]!r}")
    answer: dict[str, Any] = parse_json(payload)
    return answer


@dataclass
class Meters:
    """Where to read CPU time: the hub's processes and its database backends."""

    server_pid: int | None = None
    database_url: str | None = None

    def server_seconds(self) -> float | None:
        found = self.process_seconds()
        return sum(found.values()) if found is not None else None

    def process_seconds(self) -> dict[int, float] | None:
        """CPU seconds of the hub's process and each of its children, by pid."""
        if self.server_pid is None:
            return None
        try:
            root = psutil.Process(self.server_pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return None
        return {p.pid: _cpu(p) for p in processes}

    async def backend_pids(self) -> list[int]:
        if self.database_url is None:
            return []
        import asyncpg

        connection = await asyncpg.connect(self.database_url)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = $1",
                APPLICATION_NAME,
            )
        finally:
            await connection.close()
        return [row["pid"] for row in rows]


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


def _backends_cpu(pids: set[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            found[pid] = _cpu(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    return found


async def run_scenario(
    url: str,
    key: str,
    scenario: Scenario,
    *,
    seconds: float,
    concurrency: int,
    max_requests: int,
    meters: Meters,
    rate: float | None = None,
) -> Outcome:
    """Send the scenario's requests from ``concurrency`` clients until time or count runs out.

    With ``rate``, client ``c`` of ``n`` sends its requests when they are due,
    at ``(c + k n) / rate`` seconds, and a latency counts from that moment.
    """
    latencies: list[float] = []
    errors = 0
    connections = [Connection(url, key) for _ in range(concurrency)]

    async def client_loop(connection: Connection, seed: int, deadline: float) -> None:
        nonlocal errors
        rng = random.Random(seed)
        due = time.perf_counter() + (abs(seed) % concurrency) / rate if rate else 0.0
        while time.perf_counter() < deadline and len(latencies) + errors < max_requests:
            body = json.dumps(scenario.request(rng)).encode()
            if rate:
                if due > time.perf_counter():
                    await asyncio.sleep(due - time.perf_counter())
                started = due
                due += concurrency / rate
            else:
                started = time.perf_counter()
            status, payload = await connection.post(body)
            elapsed = time.perf_counter() - started
            if status != 200 or "errors" in parse_json(payload):
                errors += 1
            else:
                latencies.append(elapsed)

    # One warm-up second (connections opened, caches filled), not counted.
    warm = time.perf_counter() + 1
    await asyncio.gather(*(client_loop(c, -s, warm) for s, c in enumerate(connections)))
    latencies.clear()
    errors = 0

    backends = set(await meters.backend_pids())
    server_before, backends_before = meters.process_seconds(), _backends_cpu(backends)
    machine_before, client_before = psutil.cpu_times(), time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(client_loop(c, s, deadline) for s, c in enumerate(connections)))
    elapsed = time.perf_counter() - started
    client = time.process_time() - client_before
    machine = psutil.cpu_times()
    server_after = meters.process_seconds()
    backends |= set(await meters.backend_pids())
    backends_after = _backends_cpu(backends)
    for connection in connections:
        await connection.close()

    busy = sum(
        getattr(machine, name) - getattr(machine_before, name)
        for name in ("user", "nice", "system", "irq", "softirq", "steal")
    )
    processes = (
        [t - server_before.get(pid, 0.0) for pid, t in server_after.items()]
        if server_after is not None and server_before is not None
        else []
    )
    usage = Usage(
        server=sum(processes) if server_after is not None and server_before is not None else None,
        processes=processes,
        database=sum(t - backends_before.get(pid, 0.0) for pid, t in backends_after.items())
        if meters.database_url
        else None,
        client=client,
        machine_busy=busy / (elapsed * (os.cpu_count() or 1)),
    )
    return Outcome(latencies, errors, elapsed, usage)


def scenarios(customer_ids: list[str], names: list[str], cursors: list[str]) -> list[Scenario]:
    return [
        Scenario(
            "profile (+10 interactions, classification, credit)",
            "p95 ≤ 15 ms, ≥ 800 req/s",
            lambda rng: {"query": PROFILE, "variables": {"id": rng.choice(customer_ids)}},
        ),
        Scenario(
            "customers page of 50 (same fields)",
            "p95 ≤ 60 ms",
            # Pages from anywhere in the listing, not the first one again and again.
            lambda rng: {"query": PAGE, "variables": {"after": rng.choice(cursors)}},
        ),
        Scenario(
            "search",
            "p95 ≤ 30 ms",
            lambda rng: {"query": SEARCH, "variables": {"text": rng.choice(names)}},
        ),
    ]


async def sample_targets(url: str, key: str, count: int) -> tuple[list[str], list[str], list[str]]:
    """Customer ids, search texts and page cursors to draw requests from."""
    ids: list[str] = []
    names: list[str] = []
    cursors: list[str | None] = [None]
    after = None
    query = (
        "query($after: String) { customers(first: 1000, after: $after) "
        "{ pageInfo { endCursor hasNextPage } edges { cursor node { id name } } } }"
    )
    connection = Connection(url, key)
    try:
        while len(ids) < count:
            answer = await graphql(connection, {"query": query, "variables": {"after": after}})
            page = answer["data"]["customers"]
            for edge in page["edges"]:
                ids.append(edge["node"]["id"])
                name = edge["node"]["name"]
                names.append(name[: max(2, len(name) // 2)])
                cursors.append(edge["cursor"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    finally:
        await connection.close()
    # A page after the last 50 would be short.
    return ids, names, [c for c in cursors[: max(1, len(cursors) - 50)] if c is not None]


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if not host.startswith(LOOPBACK):
        raise SystemExit(f"refusing to load {host}: this generator only targets loopback addresses")


def _psql(url: str, *commands: str) -> None:
    arguments = ["psql", url, "-q", "-v", "ON_ERROR_STOP=1"]
    for command in commands:
        arguments += ["-c", command]
    subprocess.run(arguments, check=True)


def _database_holds_customers(admin_url: str) -> bool:
    found = subprocess.run(
        [
            "psql",
            f"{admin_url}/postgres",
            "-Atc",
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    if found.stdout.strip() != "1":
        return False
    counted = subprocess.run(
        ["psql", f"{admin_url}/{DATABASE}", "-Atc", "SELECT count(*) FROM golden_record"],
        check=False,
        capture_output=True,
        text=True,
    )
    return counted.returncode == 0 and int(counted.stdout.strip() or 0) > 0


def load_database(entities: int, workdir: Path, admin_url: str, env: dict[str, str]) -> None:
    """A fresh scratch database with a bulk-loaded corpus and its interactions."""
    from bench.corpus import write_corpus
    from bench.interactions import write_interactions

    _psql(
        f"{admin_url}/postgres",
        f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
        f"CREATE DATABASE {DATABASE}",
    )
    hub = str(Path(sys.executable).with_name("hub"))
    corpus_dir = workdir / f"corpus-{entities}"
    if not (corpus_dir / "records.jsonl").exists():
        write_corpus(corpus_dir, entities, seed=7)
    records = corpus_dir / "records.jsonl"
    started = time.perf_counter()
    subprocess.run([hub, "load", str(records)], env=env, check=True)
    print(f"loaded {records} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for source, path in write_interactions(records, workdir / f"interactions-{entities}").items():
        subprocess.run(
            [hub, "load-interactions", str(path), "--source", source], env=env, check=True
        )
    # Visibility map and planner statistics for everything just loaded, as
    # autovacuum would leave them: without them the interaction counts of a page
    # are planned as sequential scans and every read sets hint bits.
    _psql(f"{admin_url}/{DATABASE}", "VACUUM ANALYZE")


def prepare_hub(
    args: argparse.Namespace, workdir: Path
) -> tuple[str, str, subprocess.Popen[bytes], Meters]:
    """A served hub on the scratch database; returns (url, key, process, meters)."""
    admin_url = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    database_url = f"{admin_url}/{DATABASE}"
    env = os.environ | {
        "HUB_DATABASE_URL": database_url,
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_ENVIRONMENT": "production",
    }
    if args.reuse and _database_holds_customers(admin_url):
        print(f"reusing the scratch database {DATABASE} as it is", file=sys.stderr)
    else:
        load_database(args.entities, workdir, admin_url, env)
    hub = str(Path(sys.executable).with_name("hub"))
    key = (
        subprocess.run(
            [hub, "keys", "create", "--name", f"bench-{time.time_ns()}", "--role", "admin"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = str(_free_port())
    server = subprocess.Popen(
        [hub, "serve", "--port", port, "--workers", str(args.workers)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _ready(url):
        if server.poll() is not None:
            raise SystemExit(f"hub serve exited ({server.returncode})")
        time.sleep(0.5)
    return url, key, server, Meters(server.pid, database_url)


def _free_port() -> int:
    """A loopback port nobody listens on: another benchmark may be serving on any fixed one."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ready(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            pass
    except OSError:
        return False
    return True


async def main_async(args: argparse.Namespace) -> None:
    server = None
    if args.url:
        url, key = args.url, args.key
        meters = Meters(args.server_pid, args.database_url)
    else:
        url, key, server, meters = prepare_hub(args, Path(args.workdir))
    check_loopback(url)
    try:
        ids, names, cursors = await sample_targets(url, key, 5000)
        print(
            f"\n{len(ids)} customers sampled; {args.concurrency} clients"
            + (f", {args.rate:g} requests/s due" if args.rate else "")
            + f", {args.seconds:g} s each\n"
        )
        columns = ("requests", "errors", "req/s", "mean ms", "p50 ms", "p95 ms", "p99 ms")
        widths = (8, 6, 9, 8, 8, 8, 8)
        header = " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
        print(f"{'scenario':<52} {header}")
        figures: list[Figure] = []
        for scenario in scenarios(ids, names, cursors):
            if args.only and not any(word in scenario.name for word in args.only):
                continue
            outcome = await run_scenario(
                url,
                key,
                scenario,
                seconds=args.seconds,
                concurrency=args.concurrency,
                max_requests=args.max_requests,
                meters=meters,
                rate=args.rate,
            )
            print(f"{scenario.name:<52} {outcome.row()}")
            print(f"{'':<52} {outcome.usage.per_request(len(outcome.latencies))}")
            if spread := outcome.usage.spread():
                print(f"{'':<52} {spread}")
            figures.append(outcome.figure(scenario, args))
        if not args.url and not args.no_record:
            record(figures)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (it comes with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running hub (loopback only)")
    parser.add_argument("--key", help="an API key for --url (admin: the queries ask for credit)")
    parser.add_argument("--server-pid", type=int, help="with --url: the hub's process, for CPU")
    parser.add_argument("--database-url", help="with --url: the hub's database, for CPU")
    parser.add_argument(
        "--entities", type=int, default=20_000, help="corpus size when preparing a hub"
    )
    parser.add_argument("--reuse", action="store_true", help="serve the earlier scratch database")
    parser.add_argument("--workers", type=int, default=2, help="hub serve --workers")
    parser.add_argument("--workdir", default="bench/data", help="where generated files go")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per scenario")
    parser.add_argument(
        "--rate",
        type=float,
        help="open loop: requests due per second, spread over the clients"
        " (latency counts from when a request was due)",
    )
    parser.add_argument(
        "--only", nargs="*", help="run the scenarios whose names hold one of these words"
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="print the figures without writing them into docs/PERFORMANCE.md",
    )
    args = parser.parse_args()
    if args.url and not args.key:
        parser.error("--url needs --key")
    _run(main_async(args))


if __name__ == "__main__":
    main()
