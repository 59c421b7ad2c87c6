"""``hub serve --workers``: the parent prepares the database once, every worker answers."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.db.engine import session_factory
from hub.services.keys import create_api_key
from hub.settings import Settings
from hub.uow import in_transaction
from schema.http import GraphQLApp

SUBMIT = """mutation($r: [JSON!]!) { submitRecords(source: "sales", records: $r) { created } }"""
READ = '{ customerBySourceKey(source: "sales", key: "W1") { name sourceRecords { sourceKey } } }'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(encoding="utf-8")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"hub serve was not ready in time:\n{log.read_text(encoding='utf-8')}")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while the table was read
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _sockets_on(port: int, state: str) -> set[str]:
    """Inodes of the sockets on local ``port`` in ``state`` (/proc/net/tcp: 0A listening,
    01 established)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def _connections_per_worker(
    url: str, port: int, key: str, workers: list[int], clients: int
) -> list[int]:
    """Keep ``clients`` keep-alive connections busy until the workers hold even shares.

    A client told ``Connection: close`` reconnects on its next request, as
    HTTP/1.1 clients do. Gives up after a hundred rounds; returns the number
    of connections each worker holds, fewest first.
    """
    headers = {"Authorization": f"Bearer {key}"}
    pool = [httpx.Client(base_url=url, headers=headers, timeout=30) for _ in range(clients)]
    try:
        held: list[int] = []
        for _ in range(100):
            for client in pool:
                assert client.post("/graphql", json={"query": "{ __typename }"}).status_code == 200
            owners = _owners(_sockets_on(port, "01"), workers)
            held = sorted(len(owners.get(pid, set())) for pid in workers)
            if sum(held) == clients and held[-1] - held[0] <= 1:
                break
        return held
    finally:
        for client in pool:
            client.close()


def _owners(inodes: set[str], pids: list[int]) -> dict[int, set[str]]:
    """Which of ``pids`` hold which of those sockets open."""
    held: dict[int, set[str]] = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except FileNotFoundError:
                continue  # closed since the directory was listed: held by no one now
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held.setdefault(pid, set()).add(target[8:-1])
    return held


def _serve_and_read(
    database_url: str, key: str, log: Path
) -> tuple[list[int], dict[int, set[str]], list[int]]:
    """Start ``hub serve --workers 2``, write through it and read back; its workers'
    pids, the listening sockets each holds and how many of nine keep-alive
    connections each ends up holding."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "HUB_DATABASE_URL": database_url,
        "HUB_ENVIRONMENT": "production",
        "HUB_LOG_LEVEL": "WARNING",
    }
    hub = str(Path(sys.executable).with_name("hub"))
    with log.open("wb") as output:
        process = subprocess.Popen(
            [hub, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(url, process, log)
        # /readyz answers once one worker listens; the other may still be starting.
        deadline = time.monotonic() + 60
        while True:
            workers = _children(process.pid)
            listeners = _owners(_sockets_on(port, "0A"), workers)
            if len(listeners) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            record = {"source_key": "W1", "party_type": "person", "name": "王伟"}
            submitted = client.post(
                "/graphql", json={"query": SUBMIT, "variables": {"r": [record]}}
            )
            assert submitted.json() == {"data": {"submitRecords": {"created": 1}}}
            # Several requests, so that both workers have answered some.
            for _ in range(8):
                read = client.post("/graphql", json={"query": READ}).json()
                assert read == {
                    "data": {
                        "customerBySourceKey": {
                            "name": "王伟",
                            "sourceRecords": [{"sourceKey": "W1"}],
                        }
                    }
                }
        shares = _connections_per_worker(url, port, key, list(listeners), clients=9)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text(encoding="utf-8")
    return workers, listeners, shares


async def test_workers_share_one_database_and_read_what_a_mutation_committed(
    committed_engine: AsyncEngine, tmp_path: Path
) -> None:
    issued = await in_transaction(
        session_factory(committed_engine),
        lambda session: create_api_key(session, name="workers", role="admin"),
    )
    database_url = committed_engine.url.render_as_string(hide_password=False)
    workers, listeners, shares = await asyncio.to_thread(
        _serve_and_read, database_url, issued.key, tmp_path / "serve.log"
    )
    # Two serving processes (multiprocessing may add its resource tracker).
    assert len(workers) >= 2
    # Each listens on a socket of its own (SO_REUSEPORT), so the kernel spreads
    # connections over both instead of the first awake taking them all.
    assert len(listeners) == 2
    assert all(len(sockets) == 1 for sockets in listeners.values())
    assert len(set.union(*listeners.values())) == 2
    # The kernel places connections at random; a worker over its share sheds
    # one (Connection: close) until the two hold even shares.
    assert shares == [4, 5]


def test_responses_hold_integers_past_64_bits_and_plain_chinese(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    view = GraphQLApp(settings, sessions)
    answer = {"data": {"attributes": {"account": 2**70, "name": "星河"}}}
    encoded = view.encode_json(answer)
    assert json.loads(encoded) == answer
    assert "星河" in view.encode_json({"data": {"name": "星河"}})
