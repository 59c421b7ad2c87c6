"""Errors leave the schema with a code; the ones that are bugs masked."""

from __future__ import annotations

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from hub.errors import NotFound
from schema.errors import INTERNAL_MESSAGE, ErrorCodes


def _error(original: Exception | None) -> GraphQLError:
    return GraphQLError("raw message", path=["customer"], original_error=original)


def test_every_error_of_a_result_gets_its_code_and_bugs_are_masked() -> None:
    result = ExecutionResult(
        data=None,
        errors=[_error(NotFound("no such customer")), _error(KeyError("oops")), _error(None)],
    )
    ErrorCodes()._process_result(result)
    assert [(e.message, e.extensions, e.path) for e in result.errors or []] == [
        ("no such customer", {"code": "NOT_FOUND"}, ["customer"]),
        (INTERNAL_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"}, ["customer"]),
        ("raw message", {"code": "GRAPHQL_VALIDATION_FAILED"}, ["customer"]),
    ]


def test_graphql_cores_results_are_processed_too() -> None:
    result = GraphQLExecutionResult(data=None, errors=[_error(KeyError("oops"))])
    ErrorCodes()._process_result(result)
    assert [e.message for e in result.errors or []] == [INTERNAL_MESSAGE]


def test_results_without_errors_are_left_as_they_are() -> None:
    empty = ExecutionResult(data={"a": 1}, errors=[])
    none = ExecutionResult(data={"a": 1}, errors=None)
    ErrorCodes()._process_result(empty)
    ErrorCodes()._process_result(none)
    ErrorCodes()._process_result(object())  # nothing to process, nothing to fail on
    assert (empty.errors, none.errors) == ([], None)
