"""DataLoaders, made fresh for every request so nothing is cached across callers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from hub.domain import SourceRecordRef
from hub.services import customers


@dataclass(frozen=True, slots=True)
class Loaders:
    """One loader per relation a resolver may ask for many times in one query."""

    source_records: DataLoader[int, list[SourceRecordRef]]


def make_loaders(session: AsyncSession) -> Loaders:
    """Loaders bound to the request's session."""

    async def load_source_records(golden_ids: Sequence[int]) -> list[list[SourceRecordRef]]:
        found = await customers.source_records_of(session, golden_ids)
        return [found.get(golden_id, []) for golden_id in golden_ids]

    return Loaders(source_records=DataLoader(load_fn=load_source_records))
