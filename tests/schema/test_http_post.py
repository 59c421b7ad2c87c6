"""A plain POST of one JSON operation is answered without Strawberry's view, exactly
as the view answers it; every other request still goes to the view."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from schema.http import GraphQLApp
from tests.conftest import Api

PROFILE = "query One($id: ID!) { customer(id: $id) { id name } }"


def _graphql_app(app: Starlette) -> GraphQLApp:
    for route in app.routes:
        if isinstance(route, Route) and isinstance(route.app, GraphQLApp):
            return route.app
    raise AssertionError("no GraphQL route")


async def _answers(
    client: httpx.AsyncClient, app: Starlette, *, short: bool, **request: Any
) -> tuple[int, str | None, bytes]:
    graphql = _graphql_app(app)
    graphql._short_posts = short
    try:
        response = await client.post("/graphql", **request)
    finally:
        graphql._short_posts = True
    return response.status_code, response.headers.get("content-type"), response.content


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"json": {"query": PROFILE, "variables": {"id": "C1"}}}, id="not found"),
        pytest.param({"json": {"query": "{ customer(id: 1) { nope } }"}}, id="invalid"),
        pytest.param(
            {"json": {"query": PROFILE, "variables": {"id": "C1"}, "operationName": "Other"}},
            id="unknown operation",
        ),
        pytest.param({"json": {"query": "{ __typename }", "variables": None}}, id="null members"),
        pytest.param({"json": {"query": "{ __typename }", "variables": [1]}}, id="bad variables"),
        pytest.param({"json": [{"query": "{ __typename }"}]}, id="batch"),
        pytest.param({"json": {"query": ""}}, id="empty query"),
        pytest.param({"content": b"{not json", "headers": {"content-type": "application/json"}}),
        pytest.param(
            {"content": b'{"query": "{ __typename }"}', "headers": {"content-type": "text/plain"}},
            id="not declared json",
        ),
        pytest.param(
            {
                "content": b'{"query": "{ __typename }"}',
                "headers": {"content-type": "application/json; charset=utf-8"},
            },
            id="json with charset",
        ),
    ],
)
async def test_a_post_is_answered_as_strawberrys_view_answers_it(
    client: httpx.AsyncClient, app: Starlette, api: Api, request_: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {await api.key('admin')}", **request_.get("headers", {})}
    asked = {**request_, "headers": headers}
    short = await _answers(client, app, short=True, **asked)
    viewed = await _answers(client, app, short=False, **asked)
    assert short == viewed


async def test_a_plain_json_operation_does_not_go_through_the_view(
    client: httpx.AsyncClient, app: Starlette, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_view(*_: object, **__: object) -> None:
        raise AssertionError("the view was asked")

    monkeypatch.setattr(_graphql_app(app), "run", no_view)
    body = await api("{ __typename }")
    assert body == {"data": {"__typename": "Query"}}


async def test_a_batch_still_goes_through_the_view(
    client: httpx.AsyncClient, app: Starlette, api: Api
) -> None:
    response = await client.post(
        "/graphql",
        json=[{"query": "{ __typename }"}],
        headers={"Authorization": f"Bearer {await api.key('admin')}"},
    )
    assert response.status_code == 400
    assert response.text == "Batching is not enabled"
