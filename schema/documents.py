"""Parsing and validating each distinct operation text once per process.

Front ends send the same few operation texts again and again with different
variables. Parsing and validating one of them cost more than resolving it (a
profile query spent nearly half its time in graphql-core's validation), and
neither depends on anything but the text, the schema and the validation rules,
all of which are fixed for a schema. So both results are kept in a bounded LRU
keyed by the text; the query cost check, which reads the variables, still runs
on every request (it is a separate extension placed before this one).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import suppress
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# Distinct operation texts remembered; a client sending ever-new texts only
# evicts older entries, it cannot grow memory.
DOCUMENTS_KEPT = 256


class DocumentCache:
    """Parsed documents and their validation errors, per operation text."""

    def __init__(self, maxsize: int = DOCUMENTS_KEPT) -> None:
        self._parse = lru_cache(maxsize=maxsize)(self._parse_uncached)
        self._validate = lru_cache(maxsize=maxsize)(self._validate_uncached)

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
        return list(self._validate(schema, query, rules, document))

    @staticmethod
    def _parse_uncached(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
        return parse(query, **dict(options))

    @staticmethod
    def _validate_uncached(
        schema: GraphQLSchema,
        query: str,  # the key; ``document`` is its parse, equal for equal texts
        rules: tuple[type[ASTValidationRule], ...],
        document: DocumentNode,
    ) -> tuple[GraphQLError, ...]:
        return tuple(validate_document(schema, document, rules))


class CachedDocuments(SchemaExtension):
    """Parses and validates through a shared ``DocumentCache``.

    Must come after every extension that adds validation rules or refuses an
    operation in ``on_validate`` (the cost limit): a refusal set there is kept,
    and validation is then skipped, as Strawberry itself does.
    """

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # A syntax error is left to Strawberry's own parse, which reports it.
            with suppress(GraphQLError):
                context.graphql_document = self.cache.parse(context.query, context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
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
