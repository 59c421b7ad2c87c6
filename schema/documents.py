"""Parsing and validating each distinct operation text once per process.

Front ends send the same few operation texts again and again with different
variables. Parsing and validating one of them cost more than resolving it (a
profile query spent nearly half its time in graphql-core's validation), and
neither depends on anything but the text, the schema and the validation rules,
all of which are fixed for a schema. So both results are kept in a bounded LRU
keyed by the text; the query cost check, which reads the variables, is a
separate extension placed before this one (it remembers costs by text and
page sizes, see ``schema.cost.CostCache``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from schema.remembered import Remembered

# Distinct operation texts remembered; a client sending ever-new texts only
# evicts older entries, it cannot grow memory.
DOCUMENTS_KEPT = 256


class DocumentCache:
    """Parsed documents and their validation errors, per operation text."""

    def __init__(self, maxsize: int = DOCUMENTS_KEPT) -> None:
        self._parse = lru_cache(maxsize=maxsize)(self._parse_uncached)
        self._errors: Remembered[
            tuple[GraphQLSchema, str, tuple[type[ASTValidationRule], ...]],
            tuple[GraphQLError, ...],
        ] = Remembered(maxsize)

    def parse(self, query: str, options: Mapping[str, Any]) -> DocumentNode:
        """The document of ``query``; a syntax error is raised, never cached."""
        return self._parse(query, tuple(sorted(options.items())))

    def validate(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        """The validation errors of ``query``'s document (a fresh list each call)."""
        # The text is the key; ``document`` is its parse, equal for equal texts.
        return list(
            self._errors.get(
                (schema, query, rules), lambda: tuple(validate_document(schema, document, rules))
            )
        )

    @staticmethod
    def _parse_uncached(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
        return parse(query, **dict(options))


class CachedDocuments(SchemaExtension):
    """Parses and validates through a shared ``DocumentCache``.

    Adds ``rules`` to the validation rules and runs ``checks`` (the cost limit)
    before validating: a check refuses an operation by setting the context's
    ``pre_execution_errors``, which are kept, and validation is then skipped,
    as Strawberry itself does. One extension, not one per concern: Strawberry
    wraps every hook of every extension in context managers on every request.
    Any other extension that adds rules or refuses operations in
    ``on_validate`` must come before this one.
    """

    def __init__(
        self,
        cache: DocumentCache,
        *,
        rules: Sequence[type[ASTValidationRule]] = (),
        checks: Sequence[Callable[[ExecutionContext], None]] = (),
    ) -> None:
        self.cache = cache
        self.rules = tuple(rules)
        self.checks = tuple(checks)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # A syntax error is left to Strawberry's own parse, which reports it.
            with suppress(GraphQLError):
                context.graphql_document = self.cache.parse(context.query, context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.rules:
            context.validation_rules = context.validation_rules + self.rules
        for check in self.checks:
            if context.pre_execution_errors is None:
                check(context)
        document = context.graphql_document
        if (
            context.pre_execution_errors is None
            and document is not None
            and context.query
            and context.validation_rules
        ):
            context.pre_execution_errors = self.cache.validate(
                context.schema._schema, context.query, document, context.validation_rules
            )
        yield
