"""Payloads of submitting and retiring department records."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from hub.domain import SourceRecordView, format_customer_id
from hub.errors import HubError
from hub.services.records import SubmitResult
from schema.types.common import UserError


@strawberry.type(description="A record of the batch that was not stored, and why.")
class RecordRejection:
    index: int = strawberry.field(description="Position of the record in the batch (from 0).")
    source_key: str | None = strawberry.field(description="The record's key, when it had one.")
    field: str | None = strawberry.field(description="The field at fault.")
    message: str = strawberry.field(description="What is wrong.")


@strawberry.type(description="What happened to one stored record.")
class RecordResult:
    index: int = strawberry.field(description="Position of the record in the batch (from 0).")
    source_key: str = strawberry.field(description="The record's key.")
    status: str = strawberry.field(description="created, updated or unchanged.")
    customer_id: strawberry.ID | None = strawberry.field(
        description="The golden record the department record belongs to now."
    )
    decision: str | None = strawberry.field(
        description="Matching decision: new, auto, review or kept (None when unchanged)."
    )


@strawberry.type(description="Result of submitRecords.")
class SubmitRecordsPayload:
    created: int = strawberry.field(description="Records stored for the first time.")
    updated: int = strawberry.field(description="Records stored as a new version.")
    unchanged: int = strawberry.field(description="Records identical to the stored version.")
    rejected: int = strawberry.field(description="Records refused (see rejections).")
    results: list[RecordResult] = strawberry.field(description="One entry per stored record.")
    rejections: list[RecordRejection] = strawberry.field(
        description="One entry per refused record."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Problems with the whole request; when present nothing was stored."
    )

    @classmethod
    def from_result(cls, result: SubmitResult) -> SubmitRecordsPayload:
        return cls(
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
            results=[
                RecordResult(
                    index=o.index,
                    source_key=o.source_key,
                    status=o.status,
                    customer_id=strawberry.ID(format_customer_id(o.golden_id))
                    if o.golden_id
                    else None,
                    decision=o.decision,
                )
                for o in result.outcomes
            ],
            rejections=[
                RecordRejection(
                    index=r.index, source_key=r.source_key, field=r.field, message=r.message
                )
                for r in result.rejections
            ],
            user_errors=[],
        )

    @classmethod
    def failed(cls, error: HubError) -> SubmitRecordsPayload:
        return cls(
            created=0,
            updated=0,
            unchanged=0,
            rejected=0,
            results=[],
            rejections=[],
            user_errors=[UserError.from_error(error)],
        )


@strawberry.type(description="Result of retireRecords.")
class RetireRecordsPayload:
    retired: list[str] = strawberry.field(description="Keys retired now.")
    already_retired: list[str] = strawberry.field(description="Keys that were already retired.")
    not_found: list[str] = strawberry.field(description="Keys the hub does not know.")
    user_errors: list[UserError] = strawberry.field(description="Problems with the request.")


@strawberry.type(description="A department's record as stored, with its data-quality flags.")
class SourceRecordDetail:
    source: str = strawberry.field(description="Department code.")
    source_key: str = strawberry.field(description="The department's key.")
    version: int = strawberry.field(description="Current version number.")
    raw: JSON = strawberry.field(description="The current version as the department sent it.")
    flags: JSON = strawberry.field(
        description="Data-quality findings: field, code, message (invalid values are kept raw)."
    )
    retired: bool = strawberry.field(description="The department retired the record.")
    customer_id: strawberry.ID | None = strawberry.field(
        description="The golden record it belongs to."
    )
    received_at: datetime = strawberry.field(description="When this version arrived.")

    @classmethod
    def from_domain(cls, view: SourceRecordView) -> SourceRecordDetail:
        return cls(
            source=view.source,
            source_key=view.source_key,
            version=view.version,
            raw=JSON(view.payload),
            flags=JSON(view.flags),
            retired=view.retired,
            customer_id=strawberry.ID(format_customer_id(view.golden_id))
            if view.golden_id
            else None,
            received_at=view.received_at,
        )


@strawberry.type(description="An interaction of the batch that was not stored, and why.")
class InteractionRejection:
    index: int = strawberry.field(description="Position in the batch (from 0).")
    interaction_key: str | None = strawberry.field(description="Its key, when it had one.")
    field: str | None = strawberry.field(description="The field at fault.")
    message: str = strawberry.field(description="What is wrong.")


@strawberry.type(description="Result of recordInteractions.")
class RecordInteractionsPayload:
    created: int = strawberry.field(description="Interactions stored now.")
    unchanged: int = strawberry.field(description="Keys already stored (a repeat is a no-op).")
    unattached: int = strawberry.field(
        description="Stored, but the department has not yet sent the customer's record; "
        "they attach when it arrives."
    )
    rejected: int = strawberry.field(description="Interactions refused (see rejections).")
    rejections: list[InteractionRejection] = strawberry.field(description="Why each was refused.")
    user_errors: list[UserError] = strawberry.field(description="Problems with the request.")
