"""Root mutations: one unit of work each, errors returned as ``userErrors``."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from hub.errors import HubError
from hub.services import records as record_service
from hub.services.sources import check_source_code
from hub.uow import in_transaction
from schema.context import Info
from schema.types.common import UserError
from schema.types.records import RetireRecordsPayload, SubmitRecordsPayload


@strawberry.type(description="Changing customer data.")
class Mutation:
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
