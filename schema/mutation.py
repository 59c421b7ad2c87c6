"""Root mutations: one unit of work each, errors returned as ``userErrors``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from hub.auth import Permission
from hub.domain import parse_customer_id
from hub.errors import HubError, Invalid
from hub.services import credit as credit_service
from hub.services import interactions as interaction_service
from hub.services import records as record_service
from hub.services import stewardship
from hub.services.sources import check_source_code
from hub.services.stewardship import ExpectedVersion
from hub.uow import in_transaction
from schema.context import Info
from schema.types.common import UserError
from schema.types.credit import CreditDecision, CreditPayload, CreditVerdict
from schema.types.records import (
    InteractionRejection,
    RecordInteractionsPayload,
    RetireRecordsPayload,
    SubmitRecordsPayload,
)
from schema.types.stewardship import CustomerPayload, ReviewDecision


@strawberry.type(description="Departments' submissions.")
class SubmissionMutation:
    @strawberry.mutation(
        description="Submit a department's records (at most 1,000) in the source-record "
        "contract. Upserts by (source, source_key); each new or changed record is matched "
        "on arrival. Invalid records are rejected one by one; the rest are stored."
    )
    async def submit_records(
        self, info: Info, source: str, records: list[JSON]
    ) -> SubmitRecordsPayload:
        settings = info.context.settings
        raw: list[Any] = list(records)
        # Authorization failures are errors with extensions.code, not userErrors.
        principal = info.context.caller()
        principal.require_source(source)
        try:
            check_source_code(source)
            result = await in_transaction(
                info.context.sessions,
                lambda session: record_service.submit_records(
                    session,
                    source,
                    raw,
                    actor=principal.actor,
                    max_records=settings.max_batch_records,
                ),
            )
        except HubError as error:
            return SubmitRecordsPayload.failed(error)
        return SubmitRecordsPayload.from_result(result)

    @strawberry.mutation(description="Retire a department's records by their keys.")
    async def retire_records(
        self, info: Info, source: str, keys: list[str]
    ) -> RetireRecordsPayload:
        # Authorization failures are errors with extensions.code, not userErrors.
        principal = info.context.caller()
        principal.require_source(source)
        try:
            check_source_code(source)
            result = await in_transaction(
                info.context.sessions,
                lambda session: record_service.retire_records(session, source, keys),
            )
        except HubError as error:
            return RetireRecordsPayload(
                retired=[],
                already_retired=[],
                not_found=[],
                user_errors=[UserError.from_error(error)],
            )
        return RetireRecordsPayload(
            retired=result.retired,
            already_retired=result.already_retired,
            not_found=result.not_found,
            user_errors=[],
        )


def _expected(customer_id: int, version: int | None) -> list[ExpectedVersion]:
    return [] if version is None else [ExpectedVersion(customer_id, version)]


@strawberry.type(description="Departments' interactions.")
class InteractionMutation:
    @strawberry.mutation(
        description="Record a department's interactions (orders, payments, visits, calls, "
        "complaints …), each naming the customer by the department's own key. Idempotent "
        "by (source, interaction_key)."
    )
    async def record_interactions(
        self, info: Info, source: str, interactions: list[JSON]
    ) -> RecordInteractionsPayload:
        principal = info.context.caller()
        principal.require_source(source)
        raw: list[Any] = list(interactions)
        try:
            check_source_code(source)
            result = await in_transaction(
                info.context.sessions,
                lambda session: interaction_service.record_interactions(session, source, raw),
            )
        except HubError as error:
            return RecordInteractionsPayload(
                created=0,
                unchanged=0,
                unattached=0,
                rejected=0,
                rejections=[],
                user_errors=[UserError.from_error(error)],
            )
        return RecordInteractionsPayload(
            created=result.created,
            unchanged=result.unchanged,
            unattached=result.unattached,
            rejected=len(result.rejections),
            rejections=[
                InteractionRejection(
                    index=r.index,
                    interaction_key=r.interaction_key,
                    field=r.field,
                    message=r.message,
                )
                for r in result.rejections
            ],
            user_errors=[],
        )


def _credit_failed(error: HubError) -> CreditPayload:
    return CreditPayload(decision=None, user_errors=[UserError.from_error(error)])


@strawberry.type(description="Credit limits: requests, decisions, overrides.")
class CreditMutation:
    @strawberry.mutation(
        description="Ask for a new credit limit (sales, or on the customer's behalf). The "
        "request is re-assessed against the customer's current record and queued for a "
        "credit officer with the advice."
    )
    async def request_credit_limit(
        self, info: Info, customer_id: strawberry.ID, limit: str, reason: str
    ) -> CreditPayload:
        principal = info.context.require(Permission.REQUEST_CREDIT)
        try:
            golden_id = parse_customer_id(str(customer_id), field_name="customerId")
            amount = credit_service.parse_amount(limit, field_name="limit")
            view = await in_transaction(
                info.context.sessions,
                lambda session: credit_service.request_credit_limit(
                    session,
                    golden_id,
                    amount,
                    reason=reason,
                    actor=principal.actor,
                    now=datetime.now(UTC),
                ),
            )
        except HubError as error:
            return _credit_failed(error)
        return CreditPayload(decision=CreditDecision.from_domain(view), user_errors=[])

    @strawberry.mutation(
        description="Approve (optionally at another limit) or reject a request, with a reason."
    )
    async def decide_credit_request(
        self,
        info: Info,
        id: strawberry.ID,
        verdict: CreditVerdict,
        reason: str,
        limit: str | None = None,
    ) -> CreditPayload:
        principal = info.context.require(Permission.DECIDE_CREDIT)
        try:
            text = str(id)
            if not text.isdigit():
                raise Invalid(f"'{text}' is not a request id", field="id")
            amount = credit_service.parse_amount(limit, field_name="limit") if limit else None
            view = await in_transaction(
                info.context.sessions,
                lambda session: credit_service.decide_credit_request(
                    session,
                    int(text),
                    approve=verdict is CreditVerdict.APPROVE,
                    reason=reason,
                    actor=principal.actor,
                    now=datetime.now(UTC),
                    limit=amount,
                ),
            )
        except HubError as error:
            return _credit_failed(error)
        return CreditPayload(decision=CreditDecision.from_domain(view), user_errors=[])

    @strawberry.mutation(
        description="Set a manual limit until `expiresAt`; afterwards the current limit applies."
    )
    async def override_credit_limit(
        self, info: Info, customer_id: strawberry.ID, limit: str, expires_at: datetime, reason: str
    ) -> CreditPayload:
        principal = info.context.require(Permission.DECIDE_CREDIT)
        try:
            golden_id = parse_customer_id(str(customer_id), field_name="customerId")
            amount = credit_service.parse_amount(limit, field_name="limit")
            view = await in_transaction(
                info.context.sessions,
                lambda session: credit_service.override_credit_limit(
                    session,
                    golden_id,
                    amount,
                    expires_at=expires_at,
                    reason=reason,
                    actor=principal.actor,
                    now=datetime.now(UTC),
                ),
            )
        except HubError as error:
            return _credit_failed(error)
        return CreditPayload(decision=CreditDecision.from_domain(view), user_errors=[])


@strawberry.type(description="Data stewards' operations on golden records.")
class StewardMutation:
    @strawberry.mutation(
        description="Merge customers into the oldest of them; the others keep resolving to it. "
        "`expectedVersions` (same order as `ids`) guards against concurrent changes."
    )
    async def merge_customers(
        self,
        info: Info,
        ids: list[strawberry.ID],
        note: str | None = None,
        expected_versions: list[int] | None = None,
    ) -> CustomerPayload:
        principal = info.context.require(Permission.STEWARD)
        try:
            golden_ids = [parse_customer_id(str(i), field_name="ids") for i in ids]
            if expected_versions is not None and len(expected_versions) != len(golden_ids):
                raise Invalid("needs one version per id", field="expectedVersions")
            expected = [
                ExpectedVersion(g, v)
                for g, v in zip(golden_ids, expected_versions or [], strict=False)
            ]
            survivor = await in_transaction(
                info.context.sessions,
                lambda session: stewardship.merge_customers(
                    session, golden_ids, actor=principal.actor, note=note, expected=expected
                ),
            )
        except HubError as error:
            return CustomerPayload.failed(error)
        return CustomerPayload.done(survivor)

    @strawberry.mutation(
        description="Move a department record out of its customer: into `into`, or a new one."
    )
    async def split_record(
        self,
        info: Info,
        source: str,
        source_key: str,
        into: strawberry.ID | None = None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> CustomerPayload:
        principal = info.context.require(Permission.STEWARD)
        try:
            target = parse_customer_id(str(into), field_name="into") if into else None

            async def work(session: AsyncSession) -> tuple[int, int]:
                _, origin = await stewardship.find_record(session, source, source_key)
                expected = _expected(origin, expected_version) if origin else []
                return await stewardship.split_record(
                    session,
                    source,
                    source_key,
                    actor=principal.actor,
                    into=target,
                    note=note,
                    expected=expected,
                )

            origin, joined = await in_transaction(info.context.sessions, work)
        except HubError as error:
            return CustomerPayload.failed(error)
        return CustomerPayload.done(origin, joined)

    @strawberry.mutation(
        description="Pin a golden value above every survivorship rule; a null value unpins."
    )
    async def override_attribute(
        self,
        info: Info,
        id: strawberry.ID,
        attribute: str,
        value: JSON | None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> CustomerPayload:
        principal = info.context.require(Permission.STEWARD)
        try:
            golden_id = parse_customer_id(str(id))
            target = await in_transaction(
                info.context.sessions,
                lambda session: stewardship.override_attribute(
                    session,
                    golden_id,
                    attribute,
                    value,
                    actor=principal.actor,
                    note=note,
                    expected=_expected(golden_id, expected_version),
                ),
            )
        except HubError as error:
            return CustomerPayload.failed(error)
        return CustomerPayload.done(target)

    @strawberry.mutation(
        description="Decide a review: MATCH merges the two customers, NOT_MATCH keeps them "
        "apart for good."
    )
    async def resolve_review(
        self, info: Info, id: strawberry.ID, decision: ReviewDecision, note: str | None = None
    ) -> CustomerPayload:
        principal = info.context.require(Permission.STEWARD)
        try:
            text = str(id)
            if not text.isdigit():
                raise Invalid(f"'{text}' is not a review id", field="id")
            result = await in_transaction(
                info.context.sessions,
                lambda session: stewardship.resolve_review(
                    session, int(text), decision.value, actor=principal.actor, note=note
                ),
            )
        except HubError as error:
            return CustomerPayload.failed(error)
        return CustomerPayload.done(result)


@strawberry.type(description="Changing customer data.")
class Mutation(SubmissionMutation, InteractionMutation, StewardMutation, CreditMutation):
    pass
