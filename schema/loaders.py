"""DataLoaders, made fresh for every request so nothing is cached across callers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from hub.domain import CustomerVersion, SourceRecordRef
from hub.services import customers

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Loaders:
    """One loader per relation a resolver may ask for many times in one query."""

    source_records: DataLoader[int, list[SourceRecordRef]]
    histories: DataLoader[int, list[CustomerVersion]]


def _by_golden_id(
    fetch: Callable[[AsyncSession, Sequence[int]], Awaitable[dict[int, list[V]]]],
    session: AsyncSession,
) -> DataLoader[int, list[V]]:
    """A loader that asks ``fetch`` once per batch of golden ids."""

    async def load(golden_ids: Sequence[int]) -> list[list[V]]:
        found = await fetch(session, golden_ids)
        return [found.get(golden_id, []) for golden_id in golden_ids]

    return DataLoader(load_fn=load)


def make_loaders(session: AsyncSession) -> Loaders:
    """Loaders bound to the request's session."""
    return Loaders(
        source_records=_by_golden_id(customers.source_records_of, session),
        histories=_by_golden_id(customers.histories_of, session),
    )
