"""Root queries: each parses its input, calls one service, converts at the edge."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.scalars import JSON

from hub.auth import Permission
from hub.domain import (
    Cursors,
    Page,
    decode_cursor,
    encode_cursor,
    parse_customer_id,
)
from hub.errors import Invalid
from hub.services import credit, customers, events, interactions, retention, reviews, search
from hub.survivorship import default_rules
from schema.context import Info
from schema.pagination import page_size, selects
from schema.types.credit import CreditDecision
from schema.types.customer import (
    CompositionDimension,
    CompositionRow,
    Customer,
    CustomerFilter,
    CustomerOrder,
    PartyType,
    SearchHit,
    interactions_asked,
)
from schema.types.records import SourceRecordDetail
from schema.types.relay import Connection, connection_from_page
from schema.types.retention import RetentionAlert
from schema.types.stewardship import (
    AuditEntry,
    Change,
    Review,
    ReviewFilter,
    ReviewOrder,
    SurvivorshipRules,
)


def _review_id(value: strawberry.ID) -> int:
    text = str(value)
    if not text.isdigit():
        raise Invalid(f"'{text}' is not a review id", field="id")
    return int(text)


# Where a connection's items are, below its field.
NODE = ("edges", "node")


def _selects_standing(info: Info, *, below: tuple[str, ...] = ()) -> bool:
    """Whether a customer's metrics, classification or credit is asked for."""
    return any(selects(info, name, below=below) for name in ("metrics", "classification", "credit"))


def _selects_reasons(info: Info) -> bool:
    """Whether the customers of a page are asked why they are classified or rated as
    they are (their classification's rules or inputs, their credit's inputs)."""
    classification = (*NODE, "classification")
    return (
        selects(info, "rule", below=classification)
        or selects(info, "inputs", below=classification)
        or selects(info, "inputs", below=(*NODE, "credit"))
    )


@strawberry.type(description="Reading customers, reviews, changes and the audit log.")
class Query:
    @strawberry.field(
        description="One customer by id; a merged-away id resolves to its survivor. "
        "`asOf` returns the record as it was at that time."
    )
    async def customer(
        self, info: Info, id: strawberry.ID, as_of: datetime | None = None
    ) -> Customer:
        info.context.require(Permission.READ_CUSTOMERS)
        golden_id = parse_customer_id(str(id))
        session = info.context.session
        asked = interactions_asked(info)
        if as_of is None and (asked is not None or _selects_standing(info)):
            # The customer, its standing and its page of interactions in one
            # statement: the fields then answer at once.
            profile = await credit.read_profile(
                session, golden_id, now=datetime.now(UTC), interactions=asked
            )
            pages = (
                {asked: profile.interactions}
                if asked is not None and profile.interactions is not None
                else None
            )
            return Customer.from_domain(profile.customer, profile.standing, interactions=pages)
        found = await customers.get_customer(session, golden_id, as_of=as_of)
        pages = None
        if asked is not None:
            # Read here rather than through the loader, so that the field answers at once.
            read = await interactions.interactions_of(session, [found.golden_id], asked)
            pages = {asked: read[found.golden_id]}
        return Customer.from_domain(found, interactions=pages)

    @strawberry.field(description="The customer a department's record belongs to.")
    async def customer_by_source_key(self, info: Info, source: str, key: str) -> Customer:
        info.context.require(Permission.READ_CUSTOMERS)
        session = info.context.session
        golden_id = await customers.golden_id_by_source_key(session, source, key)
        return Customer.from_domain(await customers.get_customer(session, golden_id))

    @strawberry.field(
        description="A department record as stored. Departments read their own source only."
    )
    async def source_record(self, info: Info, source: str, key: str) -> SourceRecordDetail:
        principal = info.context.caller()
        if not principal.can(Permission.READ_CUSTOMERS):
            principal.require_source(source)
        found = await customers.get_source_record(info.context.session, source, key)
        return SourceRecordDetail.from_domain(found)

    @strawberry.field(description="Active customers, filtered and ordered, page by page.")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilter | None = None,
        order_by: CustomerOrder = CustomerOrder.ID,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[Customer]:
        principal = info.context.require(Permission.READ_CUSTOMERS)
        chosen = filter or CustomerFilter()
        if chosen.credit_rating is not None:
            principal.require(Permission.READ_CREDIT)
        wanted = customers.CustomerFilter(
            party_type=chosen.party_type.value if chosen.party_type else None,
            region=chosen.region,
            industry=chosen.industry,
            category=chosen.category,
            ownership=chosen.ownership,
            source=chosen.source,
            updated_since=chosen.updated_since,
            tier=chosen.tier,
            lifecycle=chosen.lifecycle,
            credit_rating=chosen.credit_rating,
        )
        size = page_size(info, first)
        order = customers.CustomerOrder(order_by.value)
        # Counting every match is the dearest part of a page; only when asked.
        with_total = selects(info, "totalCount")
        asked = interactions_asked(info, below=NODE)
        # The page with what its customers' fields ask for, read along (the
        # standing by the listing's own statement, source records and interactions
        # a statement each): each customer then answers them at once instead of
        # awaiting a loader.
        listed = await credit.list_profiles(
            info.context.session,
            first=size,
            after=after,
            wanted=wanted,
            order=order,
            with_total=with_total,
            now=datetime.now(UTC),
            standing=_selects_standing(info, below=NODE),
            source_records=selects(info, "sourceRecords", below=NODE),
            interactions=asked,
            lineage=selects(info, "lineage", below=NODE),
            reasons=_selects_reasons(info),
        )
        refs = listed.source_records
        return connection_from_page(
            listed.page,
            lambda found: Customer.from_domain(
                found,
                listed.standing.get(found.golden_id),
                refs.get(found.golden_id, []) if refs is not None else None,
                {asked: listed.interactions[found.golden_id]} if asked else None,
            ),
        )

    @strawberry.field(
        description="Fuzzy, ranked search by Chinese name, pinyin, English name, phone, "
        "e-mail or identifier; best first, each hit with its score."
    )
    async def search(
        self,
        info: Info,
        text: str,
        party_type: PartyType | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[SearchHit]:
        info.context.require(Permission.READ_CUSTOMERS)
        offset = decode_cursor(after) if after is not None else 0
        size = page_size(info, first)
        # Every candidate is ranked (at most a few hundred), so totalCount is exact.
        found = await search.search_page(
            info.context.session,
            text,
            party_type=party_type.value if party_type else None,
            offset=offset,
            first=size,
            with_lineage=selects(info, "lineage", below=(*NODE, "customer")),
        )
        page = Page(
            items=found.hits,
            cursors=Cursors(range(offset + 1, offset + len(found.hits) + 1), encode_cursor),
            has_next_page=found.total > offset + size,
            has_previous_page=offset > 0,
            total_count=found.total,
        )
        return connection_from_page(
            page,
            lambda hit: SearchHit(
                customer=Customer.from_domain(hit.customer),
                score=hit.score,
                matched_on=hit.matched_on,
            ),
        )

    @strawberry.field(
        description="Composition for BI: active customers and 12-month revenue by region, "
        "industry, tier, lifecycle or credit rating."
    )
    async def composition(self, info: Info, by: CompositionDimension) -> list[CompositionRow]:
        principal = info.context.require(Permission.READ_CUSTOMERS)
        if by is CompositionDimension.CREDIT_RATING:
            principal.require(Permission.READ_CREDIT)
        rows = await customers.composition(
            info.context.session, customers.CompositionDimension(by.value)
        )
        return [
            CompositionRow(key=r.key, customers=r.customers, revenue_12m=r.revenue_12m)
            for r in rows
        ]

    @strawberry.field(description="Credit-limit change requests, oldest first.")
    async def credit_requests(
        self, info: Info, status: str | None = "pending", first: int = 20, after: str | None = None
    ) -> Connection[CreditDecision]:
        info.context.require(Permission.DECIDE_CREDIT)
        page = await credit.list_credit_requests(
            info.context.session, status=status, first=page_size(info, first), after=after
        )
        return connection_from_page(page, CreditDecision.from_domain)

    @strawberry.field(
        description="Open retention alerts of active customers, newest first; "
        "optionally of one reason (KEY_DORMANT, KEY_CHURNED, CLOSE_REQUESTED) or region."
    )
    async def retention_alerts(
        self,
        info: Info,
        reason: str | None = None,
        region: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[RetentionAlert]:
        info.context.require(Permission.READ_CUSTOMERS)
        page = await retention.list_open_retention_alerts(
            info.context.session,
            first=page_size(info, first),
            after=after,
            reason=reason,
            region=region,
        )
        return connection_from_page(page, RetentionAlert.from_domain)

    @strawberry.field(description="Uncertain pairs for stewards, by score or by age.")
    async def review_queue(
        self,
        info: Info,
        filter: ReviewFilter | None = None,
        order_by: ReviewOrder = ReviewOrder.SCORE,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Review]:
        info.context.require(Permission.STEWARD)
        chosen = filter or ReviewFilter()
        page = await reviews.list_reviews(
            info.context.session,
            reviews.ReviewFilter(
                status=chosen.status, source=chosen.source, party_type=chosen.party_type
            ),
            order=reviews.ReviewOrder(order_by.value),
            first=page_size(info, first),
            after=after,
        )
        return connection_from_page(page, Review.from_domain)

    @strawberry.field(description="One review with both sides and the match explanation.")
    async def review(self, info: Info, id: strawberry.ID) -> Review:
        info.context.require(Permission.STEWARD)
        found = await reviews.get_review(info.context.session, _review_id(id))
        return Review.from_domain(found)

    @strawberry.field(description="Changes to golden records after a cursor, in order.")
    async def changes(
        self, info: Info, after: str | None = None, first: int = 100
    ) -> Connection[Change]:
        info.context.require(Permission.READ_CUSTOMERS)
        page = await events.list_changes(
            info.context.session, after=after, first=page_size(info, first)
        )
        return connection_from_page(page, Change.from_domain)

    @strawberry.field(description="Audited actions, newest first.")
    async def audit_log(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        actor: str | None = None,
    ) -> Connection[AuditEntry]:
        info.context.require(Permission.ADMIN)
        page = await events.list_audit(
            info.context.session,
            first=page_size(info, first),
            after=after,
            target_type=target_type,
            target_id=target_id,
            actor=actor,
        )
        return connection_from_page(page, AuditEntry.from_domain)

    @strawberry.field(description="The survivorship rules in force.")
    def survivorship_rules(self, info: Info) -> SurvivorshipRules:
        info.context.require(Permission.READ_CUSTOMERS)
        rules = default_rules()
        summary = {
            "default_priority": list(rules.default_priority),
            "attributes": {
                name: {"rule": r.rule.value, "priority": list(rules.priority_of(r))}
                for name, r in rules.attributes.items()
            },
            "groups": {
                name: {"rule": g.rule.value, "attributes": list(g.attributes)}
                for name, g in rules.groups.items()
            },
        }
        return SurvivorshipRules(version=rules.version, text=rules.source_text, rules=JSON(summary))
