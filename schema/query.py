"""Root queries: each parses its input, calls one service, converts at the edge."""

from __future__ import annotations

from datetime import datetime

import strawberry

from hub.auth import Permission
from hub.domain import parse_customer_id
from hub.services import customers
from schema.context import Info
from schema.pagination import page_size
from schema.types.customer import Customer
from schema.types.relay import Connection, connection_from_page


@strawberry.type(description="Reading customers.")
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
        found = await customers.get_customer(info.context.session, golden_id, as_of=as_of)
        return Customer.from_domain(found)

    @strawberry.field(description="Active customers in id order, page by page.")
    async def customers(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Customer]:
        info.context.require(Permission.READ_CUSTOMERS)
        page = await customers.list_customers(
            info.context.session, first=page_size(info, first), after=after
        )
        return connection_from_page(page, Customer.from_domain)
