"""The ASGI app: probes, GraphQL endpoint, errors that name what is wrong."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.settings import Settings
from tests.conftest import Api


async def test_healthz_says_the_process_is_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_says_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_readyz_fails_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = "postgresql://postgres@127.0.0.1:1/nowhere"
    application = create_app(settings, unreachable, migrate=False)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        response = await client.get("/readyz")
    await application.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_a_request_without_a_key_is_unauthenticated(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ customers { totalCount } }"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_wrong_key_is_unauthenticated(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ customers { totalCount } }"},
        headers={"Authorization": "Bearer hub_not-a-key"},
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "unknown or revoked" in error["message"]


async def test_graphql_answers_typename(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_unknown_customer_is_not_found_with_a_code(api: Api) -> None:
    body = await api('{ customer(id: "C999999") { id } }')
    error = body["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "C999999" in error["message"]


async def test_malformed_customer_id_is_invalid_and_names_the_field(api: Api) -> None:
    body = await api('{ customer(id: "x1") { id } }')
    error = body["errors"][0]
    assert error["extensions"] == {"code": "INVALID", "field": "id"}


async def test_query_deeper_than_the_limit_is_refused(
    settings: Settings, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    shallow = settings.model_copy(update={"max_query_depth": 3})
    application = create_app(shallow, database_url, migrate=False, sessions=sessions)
    transport = httpx.ASGITransport(app=application)
    query = "{ customers { edges { node { sourceRecords { source } } } } }"
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        response = await client.post("/graphql", json={"query": query})
    await application.state.engine.dispose()
    # Depth is checked before anything runs, authentication included.
    errors = response.json()["errors"]
    assert "exceeds maximum operation depth of 3" in errors[0]["message"]


async def test_an_operation_costing_more_than_the_limit_is_refused(
    settings: Settings, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    frugal = settings.model_copy(update={"max_query_cost": 500})
    application = create_app(frugal, database_url, migrate=False, sessions=sessions)
    transport = httpx.ASGITransport(app=application)
    cheap = "{ customers(first: 10) { edges { node { id name } } } }"
    costly = "{ customers(first: 200) { edges { node { id name sourceRecords { source } } } } }"
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        cheap_errors = (await client.post("/graphql", json={"query": cheap})).json()["errors"]
        costly_errors = (await client.post("/graphql", json={"query": costly})).json()["errors"]
    await application.state.engine.dispose()
    # The cheap one passes validation and meets authentication; the costly one never runs.
    assert cheap_errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert costly_errors[0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "more than the limit of 500" in costly_errors[0]["message"]


async def test_many_aliases_are_refused(client: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(40))
    response = await client.post("/graphql", json={"query": f"{{ {aliases} }}"})
    assert "aliases" in response.json()["errors"][0]["message"]


async def test_query_cost_reads_page_sizes_from_variables(
    settings: Settings, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    frugal = settings.model_copy(update={"max_query_cost": 500})
    application = create_app(frugal, database_url, migrate=False, sessions=sessions)
    transport = httpx.ASGITransport(app=application)
    query = (
        "query($n: Int!) { customers(first: $n) "
        "{ edges { node { id sourceRecords { source } } } } }"
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        small = await client.post("/graphql", json={"query": query, "variables": {"n": 10}})
        large = await client.post("/graphql", json={"query": query, "variables": {"n": 200}})
    await application.state.engine.dispose()
    assert small.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert large.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_repeated_queries_are_judged_the_same_every_time(
    settings: Settings, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # Parsed and validated documents are cached; the cost check and errors must not be.
    frugal = settings.model_copy(update={"max_query_cost": 500})
    application = create_app(frugal, database_url, migrate=False, sessions=sessions)
    transport = httpx.ASGITransport(app=application)
    costly = "query($n: Int!) { customers(first: $n) { edges { node { id name } } } }"
    invalid = "{ customers { noSuchField } }"
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        codes = []
        for variables in ({"n": 200}, {"n": 200}, {"n": 5}, {"n": 200}):
            body = (
                await client.post("/graphql", json={"query": costly, "variables": variables})
            ).json()
            codes.append(body["errors"][0]["extensions"]["code"])
        invalid_codes = [
            (await client.post("/graphql", json={"query": invalid})).json()["errors"][0][
                "extensions"
            ]["code"]
            for _ in range(2)
        ]
    await application.state.engine.dispose()
    assert codes == ["QUERY_TOO_COSTLY", "QUERY_TOO_COSTLY", "UNAUTHENTICATED", "QUERY_TOO_COSTLY"]
    assert invalid_codes == ["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED"]
