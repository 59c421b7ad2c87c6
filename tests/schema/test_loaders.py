"""A request's loaders: made when first asked for, one of each per request."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.services.credit import Standing
from schema.loaders import make_loaders


async def test_a_request_asks_one_and_the_same_loader_each_time(session: AsyncSession) -> None:
    loaders = make_loaders(session)
    assert loaders.standing is loaders.standing
    assert loaders.interactions is loaders.interactions
    assert loaders.source_records is not loaders.histories


async def test_requests_never_share_a_loader(session: AsyncSession) -> None:
    first, second = make_loaders(session), make_loaders(session)
    assert first.standing is not second.standing
    assert first.credit_history is not second.credit_history


async def test_a_loader_reads_through_the_requests_session(session: AsyncSession) -> None:
    # No customer 1 in an empty store: the loaders' statements ran and found nothing.
    assert await make_loaders(session).source_records.load(1) == []
    assert await make_loaders(session).standing.load(1) == Standing(
        metrics=None, classification=[], credit=None
    )
