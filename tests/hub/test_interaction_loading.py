"""``hub load-interactions``: batches, bad lines named, re-runs store only what is missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import Interaction
from hub.interaction_loading import load_interaction_files
from hub.services.interactions import InteractionQuery, interactions_of
from hub.services.records import submit_records


def call(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "interaction_key": f"CALL-{n}",
        "customer_key": "CC-1",
        "type": "CALL",
        "occurred_at": f"2026-05-{n:02d}T09:00:00+08:00",
        **extra,
    }


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_bad_lines_are_named_and_the_rest_of_every_batch_is_stored(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with session.begin_nested():
        submitted = await submit_records(
            session,
            "callcenter",
            [{"source_key": "CC-1", "party_type": "person", "name": "王芳"}],
            actor="t",
        )
    golden = submitted.outcomes[0].golden_id
    assert golden is not None
    path = write(
        tmp_path / "calls.jsonl",
        [
            json.dumps(call(1)),
            "{not json",
            json.dumps(call(2, type="SALE")),
            json.dumps(call(3)),
            json.dumps(call(4, amount="1.001", currency="CNY")),
            json.dumps(call(5)),
            json.dumps(call(6, customer_key="CC-404")),
        ],
    )

    report = await load_interaction_files(sessions, [path], source="callcenter", batch_size=2)

    assert (report.created, report.unchanged, report.unattached, report.rejected) == (4, 0, 1, 3)
    assert [p.split(": ", 1)[0] for p in report.problems] == [
        f"{path}:2",
        f"{path}:3",
        f"{path}:5",
    ]
    assert "field 'type'" in report.problems[1]
    assert "field 'amount'" in report.problems[2]
    page = (await interactions_of(session, [golden], InteractionQuery()))[golden]
    assert [i.interaction_key for i in page.items] == ["CALL-5", "CALL-3", "CALL-1"]


async def test_a_second_run_of_the_same_file_stores_nothing_new(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write(tmp_path / "calls.jsonl", [json.dumps(call(n)) for n in range(1, 8)])
    first = await load_interaction_files(sessions, [path], source="callcenter", batch_size=3)
    again = await load_interaction_files(sessions, [path], source="callcenter", batch_size=3)
    assert (first.created, first.unattached) == (7, 7)
    assert (again.created, again.unchanged, again.rejected) == (0, 7, 0)
    stored = await session.scalar(select(func.count()).select_from(Interaction))
    assert stored == 7
