"""The golden customer as front ends see it, masked where the caller may not see PII."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import IntValueNode, VariableNode
from strawberry.scalars import JSON

from hub import domain
from hub.auth import Permission
from hub.errors import Invalid
from hub.masking import mask_email, mask_national_id, mask_phone
from hub.services.credit import Standing
from hub.services.interactions import InteractionQuery
from schema.context import Info
from schema.pagination import SELECTIONS_KEPT, page_size, selected_nodes, selects, subfields
from schema.types.credit import ClassificationEntry, Credit
from schema.types.history import CustomerMetrics, Interaction, InteractionType
from schema.types.relay import Connection, connection_from_page


@strawberry.enum(description="Whether the customer is an organization or a person.")
class PartyType(Enum):
    ORGANIZATION = "organization"
    PERSON = "person"


@strawberry.enum(description="Order of a customer listing.")
class CustomerOrder(Enum):
    ID = "id"
    NAME = "name"
    UPDATED_AT = "updated_at"


@strawberry.input(description="Conditions on customers; every given one must hold.")
class CustomerFilter:
    party_type: PartyType | None = strawberry.field(default=None, description="Party type.")
    region: str | None = strawberry.field(default=None, description="Region (华北, 华东 …).")
    industry: str | None = strawberry.field(default=None, description="Industry.")
    category: str | None = strawberry.field(default=None, description="Category (客户类别).")
    ownership: str | None = strawberry.field(default=None, description="Ownership (客户性质).")
    source: str | None = strawberry.field(
        default=None, description="Has a record from this department."
    )
    updated_since: datetime | None = strawberry.field(
        default=None, description="Changed at or after this time."
    )
    tier: str | None = strawberry.field(
        default=None, description="Value tier: KEY, REGULAR or OCCASIONAL."
    )
    lifecycle: str | None = strawberry.field(
        default=None, description="PROSPECT, NEW, ACTIVE, DORMANT or CHURNED."
    )
    credit_rating: str | None = strawberry.field(
        default=None, description="Credit rating A–E or NR (needs credit access)."
    )


@strawberry.type(description="A department record that a golden customer is built from.")
class SourceRecordRef:
    # Each field reads the reference when asked: a page of customers asks two of
    # the six of about seventy of them.
    ref: strawberry.Private[domain.SourceRecordRef]

    @strawberry.field(description="Code of the submitting department or system.")
    def source(self) -> str:
        return self.ref.source

    @strawberry.field(description="The department's own id for the customer.")
    def source_key(self) -> str:
        return self.ref.source_key

    @strawberry.field(description="Current version of the department's record.")
    def version(self) -> int:
        return self.ref.version

    @strawberry.field(description="The department retired this record.")
    def retired(self) -> bool:
        return self.ref.retired

    @strawberry.field(description="How the record joined: new, auto, steward or merge.")
    def link_kind(self) -> str:
        return self.ref.link_kind

    @strawberry.field(description="Match weight when it was auto-linked.")
    def score(self) -> float | None:
        return self.ref.score

    @classmethod
    def from_domain(cls, ref: domain.SourceRecordRef) -> SourceRecordRef:
        return cls(ref=ref)


@strawberry.type(description="An identifier of the customer in one scheme.")
class Identifier:
    type: str = strawberry.field(
        description="uscc, national_id, or another scheme (passport, duns …)."
    )
    value: str = strawberry.field(description="The value, masked when `masked` is true.")
    masked: bool = strawberry.field(description="The caller may not see this value in full.")


@strawberry.type(description="A phone number or e-mail address.")
class ContactPoint:
    value: str = strawberry.field(
        description="E.164 phone or lower-case e-mail, masked when `masked`."
    )
    masked: bool = strawberry.field(description="The caller may not see this value in full.")


@strawberry.type(description="A mailing address with its administrative parts.")
class Address:
    address: str | None = strawberry.field(description="Street address as the source gave it.")
    province: str | None = strawberry.field(description="Province (short form: 广东, 北京).")
    city: str | None = strawberry.field(description="City.")
    district: str | None = strawberry.field(description="District or county.")
    postal_code: str | None = strawberry.field(description="Six-digit postal code.")
    region: str | None = strawberry.field(description="Sales region derived from the province.")


@strawberry.type(description="Where one golden value came from, and by which rule.")
class Lineage:
    attribute: str = strawberry.field(description="The golden attribute.")
    rule: str = strawberry.field(
        description="source_priority, most_recent, most_frequent, longest, union or override."
    )
    rules_version: str | None = strawberry.field(description="Version of the rules file.")
    source: str | None = strawberry.field(description="Department of the winning record.")
    source_key: str | None = strawberry.field(description="Key of the winning record.")
    record_version: int | None = strawberry.field(description="Version of the winning record.")
    valid: bool | None = strawberry.field(description="The value passed validation.")
    set_by: str | None = strawberry.field(description="Steward who pinned an override.")
    at: datetime | None = strawberry.field(description="When the value was chosen.")
    contributors: list[SourceRecordRefKey] = strawberry.field(
        description="For union attributes: the records each value came from."
    )


@strawberry.type(description="A department record, by its key.")
class SourceRecordRefKey:
    source: str = strawberry.field(description="Department code.")
    source_key: str = strawberry.field(description="The department's key.")


@strawberry.type(description="One version of a golden record's history.")
class CustomerVersion:
    version: int = strawberry.field(description="Version number, from 1.")
    status: str = strawberry.field(description="active, merged or retired at that time.")
    change: str = strawberry.field(description="created, updated, merged or retired.")
    valid_from: datetime = strawberry.field(description="When this version took effect.")
    source_record_count: int = strawberry.field(description="Department records it held.")
    name: str | None = strawberry.field(description="The golden name in this version.")
    merged_into: strawberry.ID | None = strawberry.field(
        description="Survivor, when this version records a merge."
    )


T = TypeVar("T")


def _metrics(standing: Standing | None) -> CustomerMetrics | None:
    found = standing.metrics if standing is not None else None
    return CustomerMetrics.from_domain(found) if found is not None else None


def _classification(standing: Standing | None) -> list[ClassificationEntry]:
    views = standing.classification if standing is not None else []
    return [ClassificationEntry.from_domain(view) for view in views]


def _credit(standing: Standing | None) -> Credit | None:
    view = standing.credit if standing is not None else None
    return Credit.from_domain(view) if view is not None else None


def interactions_asked(info: Info, *, below: Sequence[str] = ()) -> InteractionQuery | None:
    """The page of interactions the operation asks of each customer below ``below``,
    when it asks plainly for one (``interactions(first: n)``, with or without
    ``totalCount``): a root field may then read the pages of all its customers
    at once. ``None`` for anything else, which the field resolves itself.
    """
    nodes = selected_nodes(info, "interactions", below=below)
    if len(nodes) != 1 or nodes[0].directives:
        return None
    node = nodes[0]
    first: object = None
    for argument in node.arguments or ():
        if argument.name.value != "first":
            return None
        if isinstance(argument.value, IntValueNode):
            first = int(argument.value.value)
        elif isinstance(argument.value, VariableNode):
            first = info.variable_values.get(argument.value.name.value)
    if not isinstance(first, int) or isinstance(first, bool):
        return None
    try:
        size = page_size(info, first)
    except Invalid:
        return None  # the field reports it
    fragments = info._raw_info.fragments
    return InteractionQuery(
        first=size,
        with_total=any(child.name.value == "totalCount" for child in subfields(node, fragments)),
        with_attributes=any(
            attributes.name.value == "attributes"
            for edges in subfields(node, fragments)
            if edges.name.value == "edges"
            for item in subfields(edges, fragments)
            if item.name.value == "node"
            for attributes in subfields(item, fragments)
        ),
    )


def _interaction_query(
    info: Info,
    types: list[InteractionType] | None,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
    first: int,
    after: str | None,
) -> InteractionQuery:
    """The page of interactions a customer's ``interactions`` field asks for, made once
    per request for each set of syntax nodes and arguments: the fifty customers of
    a page ask the same."""
    kinds = tuple(sorted(t.value for t in types or ()))
    raw = info._raw_info
    nodes = tuple(id(node) for node in raw.field_nodes)
    key = (nodes, kinds, occurred_from, occurred_to, first, after)
    memo = info.context.interaction_queries
    found = memo.get(key)
    if found is None:
        if len(memo) >= SELECTIONS_KEPT:
            memo.clear()
        query = InteractionQuery(
            types=kinds,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
            first=page_size(info, first),
            after=after,
            with_total=selects(info, "totalCount"),
            with_attributes=selects(info, "attributes", below=("edges", "node")),
        )
        # The nodes are kept with the query, so their ids are not reused meanwhile.
        found = (raw.field_nodes, query)
        memo[key] = found
    return found[1]


def _text(attributes: dict[str, Any], key: str) -> str | None:
    value = attributes.get(key)
    return value if isinstance(value, str) else None


def _lineage_entries(name: str, entry: Any) -> Lineage:
    entry = entry if isinstance(entry, dict) else {}
    at = entry.get("at")
    return Lineage(
        attribute=name,
        rule=str(entry.get("rule", "")),
        rules_version=entry.get("rules_version"),
        source=entry.get("source"),
        source_key=entry.get("source_key"),
        record_version=entry.get("version"),
        valid=entry.get("valid"),
        set_by=entry.get("set_by"),
        at=datetime.fromisoformat(at) if isinstance(at, str) else None,
        contributors=[
            SourceRecordRefKey(source=c["source"], source_key=c["source_key"])
            for c in entry.get("from", [])
        ],
    )


@strawberry.type(description="A golden record: one real customer, built from department records.")
class Customer:
    value: strawberry.Private[domain.Customer]
    standing: strawberry.Private[Standing | None] = None
    source_record_refs: strawberry.Private[list[domain.SourceRecordRef] | None] = None
    interaction_pages: strawberry.Private[
        dict[InteractionQuery, domain.Page[domain.InteractionView]] | None
    ] = None

    @strawberry.field(description="Public id; never changes meaning, resolves after merges.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.value.public_id)

    @strawberry.field(
        description="The id that was asked for, when it was merged into this customer."
    )
    def requested_id(self) -> strawberry.ID | None:
        requested = self.value.requested_id
        if requested is None or requested == self.value.golden_id:
            return None
        return strawberry.ID(domain.format_customer_id(requested))

    @strawberry.field(description="Organization or person.")
    def party_type(self) -> PartyType:
        return PartyType(self.value.party_type)

    @strawberry.field(description="active, merged (into another customer) or retired.")
    def status(self) -> str:
        return self.value.status

    @strawberry.field(description="Version counter; pass it back to guard steward changes.")
    def version(self) -> int:
        return self.value.version

    @strawberry.field(description="Legal or full name.")
    def name(self) -> str:
        return _text(self.value.attributes, "name") or ""

    @strawberry.field(description="English or romanised name.")
    def name_en(self) -> str | None:
        return _text(self.value.attributes, "name_en")

    @strawberry.field(
        description="Identifiers: USCC, resident id (masked without PII access), others."
    )
    def identifiers(self, info: Info) -> list[Identifier]:
        attributes = self.value.attributes
        may_see = info.context.caller().can(Permission.READ_PII)
        out: list[Identifier] = []
        uscc = _text(attributes, "uscc")
        if uscc:
            out.append(Identifier(type="uscc", value=uscc, masked=False))
        national_id = _text(attributes, "national_id")
        if national_id:
            shown = national_id if may_see else mask_national_id(national_id)
            out.append(Identifier(type="national_id", value=shown, masked=not may_see))
        for item in attributes.get("identifiers") or []:
            value = str(item.get("value", ""))
            out.append(
                Identifier(
                    type=str(item.get("type", "")),
                    value=value if may_see else mask_national_id(value),
                    masked=not may_see,
                )
            )
        return out

    @strawberry.field(description="Phone numbers in E.164 form (masked without PII access).")
    def phones(self, info: Info) -> list[ContactPoint]:
        may_see = info.context.caller().can(Permission.READ_PII)
        return [
            ContactPoint(value=p if may_see else mask_phone(p), masked=not may_see)
            for p in self.value.attributes.get("phones") or []
        ]

    @strawberry.field(description="E-mail addresses (masked without PII access).")
    def emails(self, info: Info) -> list[ContactPoint]:
        may_see = info.context.caller().can(Permission.READ_PII)
        return [
            ContactPoint(value=e if may_see else mask_email(e), masked=not may_see)
            for e in self.value.attributes.get("emails") or []
        ]

    @strawberry.field(description="Mailing addresses; the surviving one first.")
    def addresses(self) -> list[Address]:
        address = self.value.attributes.get("address")
        if not isinstance(address, dict):
            return []
        return [
            Address(
                address=address.get("address"),
                province=address.get("province"),
                city=address.get("city"),
                district=address.get("district"),
                postal_code=address.get("postal_code"),
                region=address.get("region"),
            )
        ]

    @strawberry.field(description="Sales region (华北, 华东 …) derived from the province.")
    def region(self) -> str | None:
        address = self.value.attributes.get("address")
        return _text(address, "region") if isinstance(address, dict) else None

    @strawberry.field(description="Industry.")
    def industry(self) -> str | None:
        return _text(self.value.attributes, "industry")

    @strawberry.field(description="Ownership (客户性质): state-owned, private, joint venture …")
    def ownership(self) -> str | None:
        return _text(self.value.attributes, "ownership")

    @strawberry.field(description="Category (客户类别) as the departments report it.")
    def category(self) -> str | None:
        return _text(self.value.attributes, "category")

    @strawberry.field(description="Contact person at the customer.")
    def contact_name(self) -> str | None:
        return _text(self.value.attributes, "contact_name")

    @strawberry.field(description="Birth date (persons).")
    def birth_date(self) -> str | None:
        return _text(self.value.attributes, "birth_date")

    @strawberry.field(description="Gender (persons).")
    def gender(self) -> str | None:
        return _text(self.value.attributes, "gender")

    @strawberry.field(description="Per attribute: the record, version and rule behind the value.")
    def lineage(self) -> list[Lineage]:
        return [
            _lineage_entries(name, entry)
            for name, entry in sorted(self.value.lineage.items())
            if not name.endswith(".overrides")
        ] + [
            _lineage_entries(f"{group.removesuffix('.overrides')}.{attribute}", entry)
            for group, entries in sorted(self.value.lineage.items())
            if group.endswith(".overrides")
            for attribute, entry in sorted(entries.items())
        ]

    @strawberry.field(description="Every golden attribute as JSON (masked values excluded).")
    def attributes(self, info: Info) -> JSON:
        values = dict(self.value.attributes)
        if not info.context.caller().can(Permission.READ_PII):
            for key in ("national_id", "phones", "emails", "identifiers"):
                values.pop(key, None)
        return JSON(values)

    @strawberry.field(description="When the golden record was created.")
    def created_at(self) -> datetime:
        return self.value.created_at

    @strawberry.field(description="When the golden record last changed.")
    def updated_at(self) -> datetime:
        return self.value.updated_at

    @strawberry.field(
        description="The department records this customer is built from.",
        graphql_type=list[SourceRecordRef],
    )
    def source_records(
        self, info: Info
    ) -> list[SourceRecordRef] | Awaitable[list[SourceRecordRef]]:
        # Answered at once when the page that listed the customer read them along.
        if self.source_record_refs is not None:
            return [SourceRecordRef.from_domain(ref) for ref in self.source_record_refs]
        return self._load_source_records(info)

    async def _load_source_records(self, info: Info) -> list[SourceRecordRef]:
        refs = await info.context.loaders.source_records.load(self.value.golden_id)
        return [SourceRecordRef.from_domain(ref) for ref in refs]

    @strawberry.field(description="Every version of the golden record, oldest first.")
    async def history(self, info: Info) -> list[CustomerVersion]:
        versions = await info.context.loaders.histories.load(self.value.golden_id)
        return [
            CustomerVersion(
                version=v.version,
                status=v.status,
                change=v.change,
                valid_from=v.valid_from,
                source_record_count=len(v.members),
                name=_text(v.attributes, "name"),
                merged_into=strawberry.ID(domain.format_customer_id(v.merged_into_id))
                if v.merged_into_id
                else None,
            )
            for v in versions
        ]

    # Metrics, classification and credit: answered at once from ``standing`` when
    # the query that found the customer read it along (a profile, a page), else
    # through the request's loader. A resolver that returns either a value or an
    # awaitable spares the common case a coroutine, a task and their scheduling
    # (three per customer of a page of fifty).

    @strawberry.field(
        description="Figures derived from the customer's interactions.",
        graphql_type=CustomerMetrics | None,
    )
    def metrics(self, info: Info) -> CustomerMetrics | Awaitable[CustomerMetrics | None] | None:
        if self.standing is not None:
            return _metrics(self.standing)
        return self._load(info, _metrics)

    @strawberry.field(
        description="How the customer is classified (tier, lifecycle, nature, region, "
        "category, contact, retention), each with its rule and inputs.",
        graphql_type=list[ClassificationEntry],
    )
    def classification(
        self, info: Info
    ) -> list[ClassificationEntry] | Awaitable[list[ClassificationEntry]]:
        if self.standing is not None:
            return _classification(self.standing)
        return self._load(info, _classification)

    @strawberry.field(
        description="Credit standing: rating, limits, utilization, history. Needs credit "
        "access (credit officers, admins); others get FORBIDDEN on this field.",
        graphql_type=Credit | None,
    )
    def credit(self, info: Info) -> Credit | Awaitable[Credit | None] | None:
        info.context.require(Permission.READ_CREDIT)
        if self.standing is not None:
            return _credit(self.standing)
        return self._load(info, _credit)

    async def _load(self, info: Info, convert: Callable[[Standing | None], T]) -> T:
        return convert(await info.context.loaders.standing.load(self.value.golden_id))

    @strawberry.field(
        description="The customer's history across departments, newest first; filter by "
        "types and a time range [from, to).",
        graphql_type=Connection[Interaction],
    )
    def interactions(
        self,
        info: Info,
        types: list[InteractionType] | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Interaction] | Awaitable[Connection[Interaction]]:
        query = _interaction_query(info, types, from_, to, first, after)
        # Answered at once when the query that found the customer read this very
        # page along (see ``interactions_asked``).
        page = self.interaction_pages.get(query) if self.interaction_pages is not None else None
        if page is not None:
            return connection_from_page(page, Interaction.from_domain)
        return self._load_interactions(info, query)

    async def _load_interactions(
        self, info: Info, query: InteractionQuery
    ) -> Connection[Interaction]:
        page = await info.context.loaders.interactions.load((self.value.golden_id, query))
        return connection_from_page(page, Interaction.from_domain)

    @classmethod
    def from_domain(
        cls,
        value: domain.Customer,
        standing: Standing | None = None,
        source_records: list[domain.SourceRecordRef] | None = None,
        interactions: dict[InteractionQuery, domain.Page[domain.InteractionView]] | None = None,
    ) -> Customer:
        """The customer, with what was read along with it: its standing, source records
        and pages of interactions."""
        return cls(
            value=value,
            standing=standing,
            source_record_refs=source_records,
            interaction_pages=interactions,
        )


@strawberry.type(description="A customer found by `search`, with how well it matches.")
class SearchHit:
    customer: Customer = strawberry.field(description="The customer found.")
    score: float = strawberry.field(description="Match quality from 0 to 1 (1: exact).")
    matched_on: str = strawberry.field(
        description="What matched: name, pinyin, English name, or identifier or contact."
    )


@strawberry.enum(description="What to break customers down by.")
class CompositionDimension(Enum):
    REGION = "region"
    INDUSTRY = "industry"
    TIER = "tier"
    LIFECYCLE = "lifecycle"
    CREDIT_RATING = "credit_rating"


@strawberry.type(description="Customers and their 12-month revenue sharing one value.")
class CompositionRow:
    key: str | None = strawberry.field(description="The value (None: not known).")
    customers: int = strawberry.field(description="Active customers with it.")
    revenue_12m: Decimal = strawberry.field(description="Their 12-month revenue.")
