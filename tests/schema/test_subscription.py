"""Change events over a real websocket (graphql-transport-ws) from a running server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from hub.app import create_app
from hub.db.engine import session_factory
from hub.services.keys import create_api_key
from hub.settings import Settings
from hub.uow import in_transaction


@pytest.fixture
async def live_server(
    committed_engine: AsyncEngine, settings: Settings
) -> AsyncIterator[tuple[str, str]]:
    """A hub served by uvicorn on a free loopback port; yields (base URL, admin key)."""
    url = committed_engine.url.render_as_string(hide_password=False)
    sessions = session_factory(committed_engine)
    issued = await in_transaction(
        sessions, lambda session: create_api_key(session, name="live admin", role="admin")
    )
    app = create_app(settings, url, migrate=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        # uvicorn only exposes a flag for "started"; poll it briefly.
        while not server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}", issued.key
    server.should_exit = True
    await task


async def receive(socket: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
    return message


async def test_a_subscriber_receives_the_change_a_submission_commits(
    live_server: tuple[str, str],
) -> None:
    address, key = live_server
    async with connect(
        f"ws://{address}/graphql?token={key}", subprotocols=["graphql-transport-ws"]
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init"}))
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "subscription { changes { kind customerIds cursor } }"},
                }
            )
        )
        await asyncio.sleep(0.3)  # the subscription starts at the current end of the sequence
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            response = await client.post(
                "/graphql",
                headers={"Authorization": f"Bearer {key}"},
                json={
                    "query": 'mutation { submitRecords(source: "web", records: [{source_key: '
                    '"w-1", party_type: "person", name: "张伟"}]) { created } }'
                },
            )
        assert response.json()["data"]["submitRecords"]["created"] == 1
        message = await receive(socket)
        assert message["type"] == "next"
        change = message["payload"]["data"]["changes"]
        assert change["kind"] == "created"
        assert change["customerIds"][0].startswith("C")


async def test_a_subscriber_without_a_key_is_refused(live_server: tuple[str, str]) -> None:
    address, _ = live_server
    async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init"}))
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "subscription { changes { kind } }"},
                }
            )
        )
        message = await receive(socket)
        # Strawberry delivers an error raised at subscription start as a result with errors.
        assert message["type"] == "next"
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "data" not in message["payload"] or message["payload"]["data"] is None
