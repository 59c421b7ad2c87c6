"""The GraphQL load generator: closed-loop clients, and open-loop ones at a due rate."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from bench.api_bench import Meters, Outcome, Scenario, run_scenario, server_sizing, sizing_named

SERVICE_SECONDS = 0.02


async def _answer_slowly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A hub that takes SERVICE_SECONDS per request, one request at a time per connection."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            break
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        await asyncio.sleep(SERVICE_SECONDS)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
    writer.close()


@pytest.fixture
async def slow_hub() -> AsyncIterator[str]:
    server = await asyncio.start_server(_answer_slowly, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


PING = Scenario("ping", "", lambda rng: {"query": "{ ping }"})


async def test_a_closed_loop_client_measures_the_service_time(slow_hub: str) -> None:
    outcome = await run_scenario(
        slow_hub, "key", PING, seconds=0.5, concurrency=1, max_requests=1000, meters=Meters()
    )
    assert outcome.errors == 0
    assert SERVICE_SECONDS * 1000 <= outcome.percentile(0.95) < SERVICE_SECONDS * 1000 * 5


async def test_an_open_loop_charges_a_hub_that_falls_behind_for_the_wait(slow_hub: str) -> None:
    # Due every 5 ms, served every 20 ms: the queue grows for the whole run.
    outcome = await run_scenario(
        slow_hub,
        "key",
        PING,
        seconds=0.5,
        concurrency=1,
        max_requests=1000,
        meters=Meters(),
        rate=200,
    )
    assert outcome.percentile(0.95) > SERVICE_SECONDS * 1000 * 5
    assert outcome.rate < 200 / 2


async def test_an_open_loop_within_capacity_keeps_to_the_rate(slow_hub: str) -> None:
    outcome = await run_scenario(
        slow_hub,
        "key",
        PING,
        seconds=0.6,
        concurrency=4,
        max_requests=1000,
        meters=Meters(),
        rate=50,
    )
    assert outcome.percentile(0.50) < SERVICE_SECONDS * 1000 * 5
    assert 40 <= outcome.rate <= 60


def test_an_open_loop_row_names_its_rate_and_the_scenarios_it_ran() -> None:
    args = argparse.Namespace(
        url="http://127.0.0.1:1",
        workers=2,
        rate=800.0,
        concurrency=16,
        entities=585000,
        seconds=20.0,
        only=["profile"],
    )
    row = Outcome(latencies=[0.002, 0.004], errors=0, seconds=1.0).figure(PING, args)
    assert "16 clients at 800 req/s offered" in row.name
    assert row.command.endswith("--rate 800 --only profile")


def test_a_figure_names_the_servers_shared_buffers_only_when_not_the_default() -> None:
    assert sizing_named("128MB") == ""
    assert sizing_named("6GB") == ", PostgreSQL shared_buffers 6GB"


def test_the_sizing_is_read_from_the_server_itself(database_url: str) -> None:
    words = server_sizing(database_url)
    assert words == "" or re.fullmatch(r", PostgreSQL shared_buffers \d+[kMGT]B", words)
