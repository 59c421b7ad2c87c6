"""Fixtures of the console's browser tests: a live hub and a Chromium page on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.settings import Settings
from tests.console.harness import Console, LiveHub, console_page, live_hub


@pytest.fixture
async def hub(committed_engine: AsyncEngine, settings: Settings) -> AsyncIterator[LiveHub]:
    """The hub served by uvicorn on a database of its own, committed for real."""
    async with live_hub(committed_engine, settings) as served:
        yield served


@pytest.fixture
async def console(hub: LiveHub, tmp_path: Path) -> AsyncIterator[Console]:
    """Chromium on the hub; afterwards, no dialog opened and no script error was thrown."""
    async with console_page(hub, tmp_path / "chromium-profile") as page:
        yield page
        assert page.dialogs == [], f"the page opened dialogs: {page.dialogs}"
        assert page.page_errors == [], f"the page threw: {page.page_errors}"
