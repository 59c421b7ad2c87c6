"""Request protection: oversized bodies and slow requests get clear errors."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.limits import BodySizeLimit, RequestTimeout
from tests.conftest import Api


async def echo_length(request: Request) -> JSONResponse:
    return JSONResponse({"length": len(await request.body())})


async def slow(_: Request) -> JSONResponse:
    await asyncio.sleep(5)
    return JSONResponse({"done": True})


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_body_over_the_limit_is_refused_with_413() -> None:
    app = Starlette(routes=[Route("/", echo_length, methods=["POST"])])
    app.add_middleware(BodySizeLimit, max_bytes=100)
    async with client_for(app) as client:
        small = await client.post("/", content=b"x" * 100)
        big = await client.post("/", content=b"x" * 101)
    assert small.json() == {"length": 100}
    assert big.status_code == 413
    assert big.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_streamed_body_over_the_limit_is_refused_too() -> None:
    app = Starlette(routes=[Route("/", echo_length, methods=["POST"])])
    app.add_middleware(BodySizeLimit, max_bytes=100)

    async def chunks() -> object:
        for _ in range(5):
            yield b"x" * 50

    async with client_for(app) as client:
        response = await client.post("/", content=chunks())  # type: ignore[arg-type]
    assert response.status_code == 413


async def test_a_request_over_its_time_limit_is_cancelled_with_504() -> None:
    app = Starlette(routes=[Route("/", slow)])
    app.add_middleware(RequestTimeout, seconds=0.05)
    async with client_for(app) as client:
        response = await client.get("/")
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


async def test_the_hub_refuses_a_graphql_body_over_its_limit(api: Api) -> None:
    huge_name = "名" * 3_000_000
    response = await api.client.post(
        "/graphql",
        json={"query": "{ __typename }", "variables": {"pad": huge_name}},
        headers={"Authorization": f"Bearer {await api.key('admin')}"},
    )
    assert response.status_code == 413
