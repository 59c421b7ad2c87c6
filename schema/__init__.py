"""The GraphQL transport: types, resolvers and loaders over the hub's services."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from hub.settings import Settings
from schema.cost import CostCache, CostLimit
from schema.documents import CachedDocuments, DocumentCache
from schema.errors import ErrorCodes, log_unexpected
from schema.execution import LeafShortcutExecutionContext
from schema.hooks import HookRunner, NamesOnce
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription

__all__ = ["HubSchema", "build_schema"]


class HubSchema(strawberry.Schema):
    """Logs only the errors that are bugs (expected ones are answers, not incidents);
    runs the extensions' hooks without per-request reflection."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Hooks found once per extension class, not per request (``schema.hooks``)."""
        return HookRunner(execution_context=execution_context, extensions=extensions)


def build_schema(settings: Settings) -> HubSchema:
    """The hub's schema with the protections its settings ask for."""
    # The limiters' rule classes are made once: a class made per request would
    # make every request's rules differ, and validation could not be cached.
    limiters: list[AddValidationRules] = [
        QueryDepthLimiter(max_depth=settings.max_query_depth),
        MaxAliasesLimiter(max_alias_count=settings.max_query_aliases),
    ]
    if not settings.introspection_enabled:
        limiters.append(DisableIntrospection())
    rules = [rule for limiter in limiters for rule in limiter.validation_rules]
    documents = DocumentCache()
    cost_limit = CostLimit(
        max_cost=settings.max_query_cost, max_page=settings.max_admin_page_size, costs=CostCache()
    )
    # Factories, not instances: Strawberry builds fresh extensions per request.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # The limiters' rules, the cost limit, and parsing and validation once per text.
        lambda: CachedDocuments(documents, rules=rules, checks=(cost_limit.refuse,)),
        ErrorCodes,
    ]
    return HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=LeafShortcutExecutionContext,
        config=StrawberryConfig(name_converter=NamesOnce()),
    )
