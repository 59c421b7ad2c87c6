"""How failures reach clients: hub errors with their code, everything else masked."""

from __future__ import annotations

import logging
from typing import Any, Protocol, cast

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from hub.errors import HubError
from hub.uow import is_disconnect

log = logging.getLogger("hub.graphql")

INTERNAL_MESSAGE = "Internal server error"


UNAVAILABLE_MESSAGE = "the database is unavailable; nothing was changed, retry later"


def is_expected(error: GraphQLError) -> bool:
    """A hub error, a validation error, or the database being away: answers, not bugs."""
    original = error.original_error
    return (
        original is None or isinstance(original, HubError | GraphQLError) or is_disconnect(original)
    )


def log_unexpected(errors: list[GraphQLError], context: ExecutionContext | None) -> None:
    """Log the errors clients will only see masked, with the operation that raised them."""
    for error in errors:
        if error.original_error is not None and is_disconnect(error.original_error):
            log.warning("database unavailable", extra={"path": error.path})
            continue
        if is_expected(error):
            continue
        log.error(
            "unexpected error in a resolver",
            exc_info=error.original_error,
            extra={
                "path": error.path,
                "operation": context.operation_name if context is not None else None,
            },
        )


class _WithErrors(Protocol):
    errors: list[GraphQLError] | None


class ErrorCodes(MaskErrors):
    """Gives every error an ``extensions.code``; masks the ones that are bugs."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True, error_message=INTERNAL_MESSAGE)

    def _process_result(self, result: object) -> None:
        """``MaskErrors``'s, without its ``isinstance`` against a runtime-checkable
        protocol: that check walks the protocol's members on every call and cost a
        fiftieth of a profile query. A result with errors is one that has them."""
        errors = getattr(result, "errors", None)
        if errors:
            cast("_WithErrors", result).errors = self._process_errors(errors)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        extensions: dict[str, Any]
        message = error.message
        if isinstance(original, HubError):
            message = original.message
            extensions = {"code": original.code}
            if original.field is not None:
                extensions["field"] = original.field
        elif original is None:
            extensions = {"code": "GRAPHQL_VALIDATION_FAILED", **(error.extensions or {})}
        elif isinstance(original, GraphQLError):
            # graphql-core wraps input coercion failures (a variable of the wrong type).
            extensions = {"code": "BAD_USER_INPUT"}
        elif is_disconnect(original):
            message = UNAVAILABLE_MESSAGE
            extensions = {"code": "UNAVAILABLE"}
        else:
            message = INTERNAL_MESSAGE
            extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=extensions,
        )
