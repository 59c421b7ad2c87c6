"""The review queue: uncertain pairs for data stewards, with both sides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.db.models import (
    CrossReference,
    MatchReview,
    SourceRecord,
    SourceRecordVersion,
    SourceSystem,
)
from hub.domain import Page, Review, ReviewSide, decode_cursor, encode_cursor
from hub.errors import NotFound


class ReviewOrder(StrEnum):
    SCORE = "score"
    AGE = "age"


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    status: str = "open"
    source: str | None = None
    party_type: str | None = None


def _filtered(query: Select[Any], review_filter: ReviewFilter) -> Select[Any]:
    query = query.where(MatchReview.status == review_filter.status)
    if review_filter.source is not None or review_filter.party_type is not None:
        left = aliased(SourceRecord)
        query = query.join(left, left.id == MatchReview.left_record_id)
        if review_filter.party_type is not None:
            query = query.where(left.party_type == review_filter.party_type)
        if review_filter.source is not None:
            right = aliased(SourceRecord)
            sources = select(SourceSystem.id).where(SourceSystem.code == review_filter.source)
            query = query.join(right, right.id == MatchReview.right_record_id).where(
                left.source_id.in_(sources) | right.source_id.in_(sources)
            )
    return query


async def list_reviews(
    session: AsyncSession,
    review_filter: ReviewFilter,
    *,
    order: ReviewOrder,
    first: int,
    after: str | None,
) -> Page[Review]:
    """Reviews matching ``review_filter``, by score (highest first) or age (oldest first)."""
    offset = decode_cursor(after) if after is not None else 0
    ordering = (
        (MatchReview.score.desc(), MatchReview.id)
        if order is ReviewOrder.SCORE
        else (MatchReview.created_at, MatchReview.id)
    )
    ids = (
        (
            await session.execute(
                _filtered(select(MatchReview.id), review_filter)
                .order_by(*ordering)
                .offset(offset)
                .limit(first + 1)
            )
        )
        .scalars()
        .all()
    )
    total = (
        await session.execute(_filtered(select(func.count(MatchReview.id)), review_filter))
    ).scalar_one()
    page_ids = list(ids[:first])
    reviews = await load_reviews(session, page_ids)
    return Page(
        items=[reviews[i] for i in page_ids],
        cursors=[encode_cursor(offset + k + 1) for k in range(len(page_ids))],
        has_next_page=len(ids) > first,
        has_previous_page=offset > 0,
        total_count=total,
    )


async def get_review(session: AsyncSession, review_id: int) -> Review:
    """One review with both sides."""
    found = await load_reviews(session, [review_id])
    if review_id not in found:
        raise NotFound(f"no review {review_id}", field="id")
    return found[review_id]


async def load_reviews(session: AsyncSession, review_ids: Sequence[int]) -> dict[int, Review]:
    """Reviews by id, each with both sides' current versions (two queries)."""
    if not review_ids:
        return {}
    rows = (
        (await session.execute(select(MatchReview).where(MatchReview.id.in_(review_ids))))
        .scalars()
        .all()
    )
    sides = await _sides(
        session, {r.left_record_id for r in rows} | {r.right_record_id for r in rows}
    )
    return {
        row.id: Review(
            review_id=row.id,
            status=row.status,
            score=row.score,
            explanation=row.explanation,
            created_at=row.created_at,
            left=sides[row.left_record_id],
            right=sides[row.right_record_id],
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
            note=row.note,
        )
        for row in rows
    }


async def _sides(session: AsyncSession, record_ids: set[int]) -> dict[int, ReviewSide]:
    rows = await session.execute(
        select(
            SourceRecord.id,
            SourceSystem.code,
            SourceRecord.source_key,
            CrossReference.golden_id,
            SourceRecordVersion.payload,
            SourceRecordVersion.standardized,
        )
        .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .join(
            SourceRecordVersion,
            (SourceRecordVersion.source_record_id == SourceRecord.id)
            & (SourceRecordVersion.version == SourceRecord.current_version),
        )
        .outerjoin(CrossReference, CrossReference.source_record_id == SourceRecord.id)
        .where(SourceRecord.id.in_(record_ids))
    )
    return {
        row.id: ReviewSide(
            record_id=row.id,
            source=row.code,
            source_key=row.source_key,
            golden_id=row.golden_id,
            payload=row.payload,
            standardized=row.standardized,
        )
        for row in rows
    }
