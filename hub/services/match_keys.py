"""Stored blocking keys brought in line with the blocking rules of matching/.

A record's blocking keys (``match_key``) are written when its version is
stored, by the rules of that day. When matching/ gains a key (a record
without a city placed in each city its landline's shared area code serves),
stored records keep their old keys, and a new submission would not meet them
on the new one. ``hub match-keys refresh`` works each current record's keys
out again from its stored standardized form and writes the difference, a
batch of records per unit of work, so that it runs beside a serving hub and
can stop and start again anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.services.records import hashed_keys, lock_blocking_keys
from hub.uow import in_transaction
from matching.standardize import standard_record_from_dict
from matching.types import StandardRecord

__all__ = [
    "KeysRefreshed",
    "count_current_records",
    "refresh_all_match_keys",
    "refresh_match_keys",
]

KeysOf = Callable[[StandardRecord], Sequence[str]]


@dataclass(frozen=True, slots=True)
class KeysRefreshed:
    """What one batch of :func:`refresh_match_keys` did.

    ``last_id`` is the greatest record id it read (the next batch starts after
    it), or None when no record was left.
    """

    records: int
    added: int
    removed: int
    last_id: int | None


_CURRENT_RECORDS = text(
    "SELECT r.id, v.standardized::text AS standardized,"
    " ARRAY(SELECT m.key_hash FROM match_key m WHERE m.source_record_id = r.id) AS stored"
    " FROM source_record r"
    " JOIN source_record_version v ON v.source_record_id = r.id AND v.version = r.current_version"
    " WHERE r.id > :after AND r.retired_at IS NULL"
    " ORDER BY r.id LIMIT :batch"
)

_WRITE_DIFFERENCE = text(
    "WITH gone AS ("
    " DELETE FROM match_key m"
    " USING unnest(CAST(:gone_keys AS bigint[]), CAST(:gone_ids AS bigint[])) AS g(key, id)"
    " WHERE m.key_hash = g.key AND m.source_record_id = g.id"
    ") INSERT INTO match_key (key_hash, source_record_id)"
    " SELECT * FROM unnest(CAST(:new_keys AS bigint[]), CAST(:new_ids AS bigint[]))"
    " ON CONFLICT DO NOTHING"
)


async def count_current_records(session: AsyncSession) -> int:
    """How many records a full refresh reads (for a progress bar)."""
    found = await session.scalar(
        text("SELECT count(*) FROM source_record WHERE retired_at IS NULL")
    )
    return int(found or 0)


async def refresh_match_keys(
    session: AsyncSession, keys_of: KeysOf, *, after: int = 0, batch: int = 5000
) -> KeysRefreshed:
    """Rewrite the keys of the next ``batch`` current records with ids above ``after``.

    A record's keys become ``keys_of`` its stored standardized form: the keys
    it lacks are added, those the rules no longer give are removed. Added
    keys are locked as a submission locks them, so a submission placing a
    record on such a key sees the record either with the key or without it,
    never half-written.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    rows = (await session.execute(_CURRENT_RECORDS, {"after": after, "batch": batch})).all()
    if not rows:
        return KeysRefreshed(records=0, added=0, removed=0, last_id=None)
    # Keys as stored: their hashes (``hashed_keys``); the new ones are locked by their text.
    new: list[tuple[int, int]] = []
    gone: list[tuple[int, int]] = []
    added: list[str] = []
    for row in rows:
        wanted = hashed_keys(keys_of(standard_record_from_dict(orjson.loads(row.standardized))))
        stored = set(row.stored)
        for key, text_key in wanted.items():
            if key not in stored:
                new.append((key, row.id))
                added.append(text_key)
        gone.extend((key, row.id) for key in sorted(stored.difference(wanted)))
    if new or gone:
        await lock_blocking_keys(session, added)
        await session.execute(
            _WRITE_DIFFERENCE,
            {
                "gone_keys": [key for key, _ in gone],
                "gone_ids": [record_id for _, record_id in gone],
                "new_keys": [key for key, _ in new],
                "new_ids": [record_id for _, record_id in new],
            },
        )
    return KeysRefreshed(records=len(rows), added=len(new), removed=len(gone), last_id=rows[-1].id)


async def refresh_all_match_keys(
    sessions: async_sessionmaker[AsyncSession],
    keys_of: KeysOf,
    *,
    batch: int = 5000,
    on_batch: Callable[[KeysRefreshed], object] | None = None,
) -> KeysRefreshed:
    """:func:`refresh_match_keys` over every current record, a batch per transaction.

    Returns the totals (``last_id``: the last record read). A run stopped
    half-way has committed its finished batches; run again, it finds them
    already in line and writes only the rest.
    """
    records = added = removed = 0
    after, last_id = 0, None
    while True:
        done = await in_transaction(
            sessions, partial(refresh_match_keys, keys_of=keys_of, after=after, batch=batch)
        )
        if done.last_id is None:
            return KeysRefreshed(records, added, removed, last_id)
        records, added, removed = records + done.records, added + done.added, removed + done.removed
        after = last_id = done.last_id
        if on_batch is not None:
            on_batch(done)
