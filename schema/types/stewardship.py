"""Types of the steward's work: reviews, changes, the audit log, rules."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from hub import domain
from hub.domain import encode_cursor, format_customer_id
from hub.errors import HubError
from hub.services.events import Change as ChangeValue
from schema.types.common import UserError


@strawberry.enum(description="A steward's verdict on a review pair.")
class ReviewDecision(Enum):
    MATCH = "match"
    NOT_MATCH = "not_match"


@strawberry.enum(description="Order of the review queue.")
class ReviewOrder(Enum):
    SCORE = "score"
    AGE = "age"


@strawberry.input(description="Which reviews to list.")
class ReviewFilter:
    status: str = strawberry.field(
        default="open", description="open, matched, not_matched or obsolete."
    )
    source: str | None = strawberry.field(
        default=None, description="Only pairs with a record from this department."
    )
    party_type: str | None = strawberry.field(default=None, description="organization or person.")


@strawberry.type(description="One side of a review pair.")
class ReviewSide:
    source: str = strawberry.field(description="Department code.")
    source_key: str = strawberry.field(description="The department's key.")
    customer_id: strawberry.ID | None = strawberry.field(
        description="The golden record it belongs to now."
    )
    raw: JSON = strawberry.field(description="The record as the department sent it.")
    standardized: JSON = strawberry.field(description="The record as matching reads it.")

    @classmethod
    def from_domain(cls, side: domain.ReviewSide) -> ReviewSide:
        return cls(
            source=side.source,
            source_key=side.source_key,
            customer_id=strawberry.ID(domain.format_customer_id(side.golden_id))
            if side.golden_id
            else None,
            raw=JSON(side.payload),
            standardized=JSON(side.standardized),
        )


@strawberry.type(description="An uncertain pair of department records for a steward to judge.")
class Review:
    id: strawberry.ID = strawberry.field(description="Review id.")
    status: str = strawberry.field(description="open, matched, not_matched or obsolete.")
    score: float = strawberry.field(description="Match weight (log2 odds).")
    explanation: JSON = strawberry.field(
        description="Per-attribute comparison levels and weights, constraints, probability."
    )
    created_at: datetime = strawberry.field(description="When the pair was queued.")
    left: ReviewSide = strawberry.field(description="The record that arrived.")
    right: ReviewSide = strawberry.field(description="The record it resembles.")
    resolved_at: datetime | None = strawberry.field(description="When a steward decided.")
    resolved_by: str | None = strawberry.field(description="Who decided.")
    note: str | None = strawberry.field(description="The steward's note.")

    @classmethod
    def from_domain(cls, review: domain.Review) -> Review:
        return cls(
            id=strawberry.ID(str(review.review_id)),
            status=review.status,
            score=review.score,
            explanation=JSON(review.explanation),
            created_at=review.created_at,
            left=ReviewSide.from_domain(review.left),
            right=ReviewSide.from_domain(review.right),
            resolved_at=review.resolved_at,
            resolved_by=review.resolved_by,
            note=review.note,
        )


@strawberry.type(description="A change to golden records, in one ordered sequence.")
class Change:
    sequence: str = strawberry.field(description="Position in the sequence (a big integer).")
    cursor: str = strawberry.field(description="Pass as `after` to resume after this event.")
    kind: str = strawberry.field(description="created, updated, merged, split or retired.")
    customer_ids: list[strawberry.ID] = strawberry.field(description="Golden records involved.")
    payload: JSON = strawberry.field(description="Details (the survivor of a merge …).")
    occurred_at: datetime = strawberry.field(description="When it was committed.")

    @classmethod
    def from_domain(cls, change: ChangeValue) -> Change:
        return cls(
            sequence=str(change.seq),
            cursor=encode_cursor(change.seq),
            kind=change.kind.value,
            customer_ids=[strawberry.ID(i) for i in change.customer_ids],
            payload=JSON(change.payload),
            occurred_at=change.occurred_at,
        )


@strawberry.type(description="An audited action: who did what, before and after.")
class AuditEntry:
    id: strawberry.ID = strawberry.field(description="Entry id.")
    actor: str = strawberry.field(description="The API client and its role.")
    action: str = strawberry.field(description="The mutation.")
    target_type: str = strawberry.field(description="customer, review, credit …")
    target_id: str | None = strawberry.field(description="Id of the target.")
    before: JSON | None = strawberry.field(description="State before.")
    after: JSON | None = strawberry.field(description="State after.")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_domain(cls, entry: domain.AuditRecord) -> AuditEntry:
        return cls(
            id=strawberry.ID(str(entry.entry_id)),
            actor=entry.actor,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            before=JSON(entry.before) if entry.before is not None else None,
            after=JSON(entry.after) if entry.after is not None else None,
            at=entry.at,
        )


@strawberry.type(description="The survivorship rules file in force.")
class SurvivorshipRules:
    version: str = strawberry.field(description="Version of the rules file.")
    text: str = strawberry.field(description="The TOML text of the rules file.")
    rules: JSON = strawberry.field(description="Per attribute or group: rule and priority.")


@strawberry.type(description="Result of a steward operation on customers.")
class CustomerPayload:
    customer_id: strawberry.ID | None = strawberry.field(
        description="The customer the operation left (the survivor of a merge)."
    )
    other_customer_id: strawberry.ID | None = strawberry.field(
        description="For a split: the customer the record joined."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was changed, when something was wrong."
    )

    @classmethod
    def done(cls, customer: int | None, other: int | None = None) -> CustomerPayload:
        """The operation went through; ``customer`` is the one it left."""
        return cls(
            customer_id=strawberry.ID(format_customer_id(customer)) if customer else None,
            other_customer_id=strawberry.ID(format_customer_id(other)) if other else None,
            user_errors=[],
        )

    @classmethod
    def failed(cls, error: HubError) -> CustomerPayload:
        """Nothing changed, and why."""
        return cls(
            customer_id=None, other_customer_id=None, user_errors=[UserError.from_error(error)]
        )
