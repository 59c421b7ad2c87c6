"""The built-in multi-department sample behind ``hub serve --demo``.

Loading is idempotent: records go through the normal submission path, so a
second start finds them unchanged. The demo admin key is created once and
kept in the data directory so that every later start can show it again.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.errors import Unauthenticated
from hub.recompute import recompute_all
from hub.services.interactions import record_interactions
from hub.services.keys import authenticate, create_api_key
from hub.services.records import submit_records
from hub.uow import in_transaction

DEMO_ACTOR = "demo loader"
KEY_FILE = "demo-admin.key"


def _demo_file(name: str) -> dict[str, list[dict[str, Any]]]:
    text = resources.files("hub.demo").joinpath(name).read_text(encoding="utf-8")
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            by_source[record["source"]].append(record)
    return dict(by_source)


def demo_records() -> dict[str, list[dict[str, Any]]]:
    """The sample's records, grouped by department."""
    return _demo_file("records.jsonl")


def demo_interactions() -> dict[str, list[dict[str, Any]]]:
    """The sample's interactions, grouped by department."""
    return _demo_file("interactions.jsonl")


async def load_demo(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Submit the sample, department by department; returns how many records were new."""
    created: dict[str, int] = {}
    for source, records in demo_records().items():
        result = await in_transaction(
            sessions,
            lambda session, s=source, r=records: submit_records(session, s, r, actor=DEMO_ACTOR),  # type: ignore[misc]
        )
        if result.rejections:
            problems = "; ".join(f"{r.index}: {r.field} {r.message}" for r in result.rejections)
            raise RuntimeError(f"the demo data of {source} is invalid: {problems}")
        created[source] = result.created
    for source, interactions in demo_interactions().items():
        stored = await in_transaction(
            sessions,
            lambda session, s=source, i=interactions: record_interactions(session, s, i),  # type: ignore[misc]
        )
        if stored.rejections:
            problems = "; ".join(f"{r.index}: {r.field} {r.message}" for r in stored.rejections)
            raise RuntimeError(f"the demo interactions of {source} are invalid: {problems}")
    # Tiers are a Pareto split over everybody: place them once all figures are in.
    await recompute_all(sessions)
    return created


async def demo_admin_key(sessions: async_sessionmaker[AsyncSession], data_dir: Path) -> str:
    """The demo admin key: the one kept in ``data_dir`` if it still works, else a new one."""
    key_file = data_dir / KEY_FILE
    if await asyncio.to_thread(key_file.exists):
        key = (await asyncio.to_thread(key_file.read_text, encoding="utf-8")).strip()
        try:
            async with sessions() as session:
                await authenticate(session, f"Bearer {key}")
        except Unauthenticated:
            pass  # the database was reset or the key revoked: issue a new one below
        else:
            return key

    async def issue(session: AsyncSession) -> str:
        from sqlalchemy import func, select

        from hub.db.models import ApiClient

        taken = await session.scalar(select(func.count()).where(ApiClient.name.like("demo-admin%")))
        name = "demo-admin" if not taken else f"demo-admin-{taken + 1}"
        return (await create_api_key(session, name=name, role="admin")).key

    key = await in_transaction(sessions, issue)
    await asyncio.to_thread(_keep_key, key_file, key)
    return key


def _keep_key(key_file: Path, key: str) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key + "\n", encoding="utf-8")
    os.chmod(key_file, 0o600)


async def load_demo_on_startup(
    sessions: async_sessionmaker[AsyncSession], *, url: str, data_dir: Path
) -> None:
    """``hub serve --demo``: load the sample and show the demo admin key on stdout."""
    await load_demo(sessions)
    key = await demo_admin_key(sessions, data_dir)
    # Printed for the person at the terminal, never logged.
    sys.stdout.write(
        f"\nDemo data loaded. Open {url} and add the header\n"
        f'  {{"Authorization": "Bearer {key}"}}\n'
        f"Demo admin key (kept in {data_dir / KEY_FILE}):\n{key}\n\n"
    )
    sys.stdout.flush()
