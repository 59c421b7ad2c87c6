"""What the console's browser tests share: the skip, the live hub and the browser page.

Imported by the test modules only after ``skip_without_browser()`` so that a machine
without Chromium or Playwright skips these tests instead of failing to import them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.app import create_app
from hub.db.engine import session_factory
from hub.services.keys import create_api_key
from hub.settings import Settings
from hub.uow import in_transaction

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM = Path("/usr/bin/chromium")
# A closed network: nothing may try to reach Google's services or update itself.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"
# Generous for a loaded CI machine; a healthy run answers in milliseconds.
TIMEOUT_MS = 15_000


def skip_without_browser() -> None:
    """Skip the calling test module when Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            # .ci/run installs Chromium: missing there, the run must fail, not skip.
            pytest.fail("Chromium is not installed; .ci/run should have installed it")
        pytest.skip(
            "Chromium is not installed (apt-get install chromium); "
            "the console's browser tests were skipped",
            allow_module_level=True,
        )
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip(
            "Playwright for Python is not installed (pip install -e '.[dev]'); "
            "the console's browser tests were skipped",
            allow_module_level=True,
        )


@dataclass
class LiveHub:
    """A hub served by uvicorn on a committed database, and GraphQL calls to it."""

    base_url: str
    keys: dict[str, str]
    client: httpx.AsyncClient

    @property
    def console_url(self) -> str:
        return f"{self.base_url}/console/"

    async def call(
        self, query: str, variables: dict[str, Any] | None = None, *, role: str = "admin"
    ) -> dict[str, Any]:
        """``data`` of a GraphQL call that must not fail."""
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.keys[role]}"},
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def submit(self, source: str, *records: dict[str, Any]) -> list[dict[str, Any]]:
        """Submit a department's records; returns one result per record."""
        data = await self.call(
            """mutation($source: String!, $records: [JSON!]!) {
                 submitRecords(source: $source, records: $records) {
                   results { sourceKey customerId decision }
                   rejections { message }
                 } }""",
            {"source": source, "records": list(records)},
        )
        payload = data["submitRecords"]
        assert payload["rejections"] == [], payload
        results: list[dict[str, Any]] = payload["results"]
        return results

    async def customer(self, id_: str) -> dict[str, Any]:
        data = await self.call(
            """query($id: ID!) { customer(id: $id) {
                 id name status version sourceRecords { source sourceKey }
                 lineage { attribute rule setBy } attributes } }""",
            {"id": id_},
        )
        customer: dict[str, Any] = data["customer"]
        return customer


@asynccontextmanager
async def live_hub(engine: AsyncEngine, settings: Settings) -> AsyncIterator[LiveHub]:
    """Serve the hub on a free loopback port with admin, steward and reader keys."""
    url = engine.url.render_as_string(hide_password=False)
    sessions = session_factory(engine)
    keys = {}
    for role in ("admin", "steward", "reader"):
        issued = await in_transaction(
            sessions,
            lambda session, role=role: create_api_key(session, name=f"console {role}", role=role),
        )
        keys[role] = issued.key
    app = create_app(settings, url, migrate=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            # uvicorn only exposes a flag for "started"; poll it briefly.
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            yield LiveHub(base_url=base_url, keys=keys, client=client)
    finally:
        server.should_exit = True
        await task


@dataclass
class Console:
    """A Chromium page on the console, recording what must never happen."""

    page: Page
    hub: LiveHub
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    async def sign_in(self, role: str = "steward", hash_: str = "") -> None:
        await self.page.goto(self.hub.console_url + hash_)
        await self.page.get_by_label("Steward API key").fill(self.hub.keys[role])
        await self.page.get_by_role("button", name="Use key").click()

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


@asynccontextmanager
async def console_page(hub: LiveHub, profile: Path) -> AsyncIterator[Console]:
    """Headless Chromium on a fresh profile, 1280×800, pointed at nothing yet."""
    from playwright.async_api import async_playwright, expect

    # Assertions wait as long as actions: a busy 2-core CI machine renders slowly.
    expect.set_options(timeout=TIMEOUT_MS)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,  # type: ignore[arg-type]
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.pages[0] if context.pages else await context.new_page()
        console = Console(page=page, hub=hub)

        async def dismiss(dialog: Any) -> None:
            console.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)
        page.on("pageerror", lambda error: console.page_errors.append(str(error)))
        try:
            yield console
        finally:
            await context.close()
