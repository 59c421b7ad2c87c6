"""DataLoaders, made fresh for every request so nothing is cached across callers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from hub.domain import CustomerVersion, InteractionView, Page, SourceRecordRef
from hub.services import credit, customers, interactions
from hub.services.credit import CreditDecisionView, Standing
from hub.services.interactions import InteractionQuery

V = TypeVar("V")


class Loaders:
    """One loader per relation a resolver may ask for many times in one query, each
    made when first asked for: most requests (a profile, a page) read what they
    show along with their customers and ask none, and making all five cost
    about a hundredth of a profile query."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @cached_property
    def source_records(self) -> DataLoader[int, list[SourceRecordRef]]:
        return _by_golden_id(customers.source_records_of, self._session)

    @cached_property
    def histories(self) -> DataLoader[int, list[CustomerVersion]]:
        return _by_golden_id(customers.histories_of, self._session)

    @cached_property
    def standing(self) -> DataLoader[int, Standing | None]:
        """Metrics, classification and credit in one statement, whichever is asked for."""
        return _standing_loader(self._session)

    @cached_property
    def credit_history(self) -> DataLoader[int, list[CreditDecisionView]]:
        return _by_golden_id(credit.credit_history_of, self._session)

    @cached_property
    def interactions(self) -> DataLoader[tuple[int, InteractionQuery], Page[InteractionView]]:
        return _interactions_loader(self._session)


def _by_golden_id(
    fetch: Callable[[AsyncSession, Sequence[int]], Awaitable[dict[int, list[V]]]],
    session: AsyncSession,
) -> DataLoader[int, list[V]]:
    """A loader that asks ``fetch`` once per batch of golden ids."""

    async def load(golden_ids: Sequence[int]) -> list[list[V]]:
        found = await fetch(session, golden_ids)
        return [found.get(golden_id, []) for golden_id in golden_ids]

    return DataLoader(load_fn=load)


def _standing_loader(session: AsyncSession) -> DataLoader[int, Standing | None]:
    async def load(golden_ids: Sequence[int]) -> list[Standing | None]:
        found = await credit.standing_of(session, golden_ids, now=datetime.now(UTC))
        return [found.get(golden_id) for golden_id in golden_ids]

    return DataLoader(load_fn=load)


def _interactions_loader(
    session: AsyncSession,
) -> DataLoader[tuple[int, InteractionQuery], Page[InteractionView]]:
    """Pages of interactions; one batch query per distinct set of arguments."""

    async def load(keys: Sequence[tuple[int, InteractionQuery]]) -> list[Page[InteractionView]]:
        by_query: dict[InteractionQuery, list[int]] = {}
        for golden_id, query in keys:
            by_query.setdefault(query, []).append(golden_id)
        pages: dict[tuple[int, InteractionQuery], Page[InteractionView]] = {}
        for query, golden_ids in by_query.items():
            found = await interactions.interactions_of(session, golden_ids, query)
            pages.update({(golden_id, query): found[golden_id] for golden_id in golden_ids})
        return [pages[key] for key in keys]

    return DataLoader(load_fn=load)


def make_loaders(session: AsyncSession) -> Loaders:
    """Loaders bound to the request's session."""
    return Loaders(session)
