"""Sibling fields resolve concurrently; they share one request session safely."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.app import create_app
from hub.db.engine import session_factory
from hub.services.keys import create_api_key
from hub.settings import Settings
from hub.uow import in_transaction

MANY_ROOTS = """{
  customers(first: 5) {
    totalCount edges { node { id sourceRecords { source } history { version } } }
  }
  composition(by: REGION) { key customers }
  changes(first: 5) { totalCount }
  search(text: "星河") { totalCount }
  survivorshipRules { version }
}"""


async def test_several_root_fields_in_one_operation_share_the_session_safely(
    committed_engine: AsyncEngine, settings: Settings
) -> None:
    url = committed_engine.url.render_as_string(hide_password=False)
    issued = await in_transaction(
        session_factory(committed_engine),
        lambda session: create_api_key(session, name="roots", role="admin"),
    )
    # The app's own engine and sessions: each request provisions its connection.
    app = create_app(settings, url, migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        for _ in range(3):
            body = (
                await client.post(
                    "/graphql",
                    json={"query": MANY_ROOTS},
                    headers={"Authorization": f"Bearer {issued.key}"},
                )
            ).json()
            assert "errors" not in body, body["errors"]
    await app.state.engine.dispose()
