"""A customer's history and the figures derived from it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from hub.domain import InteractionView
from hub.services.metrics import Metrics


@strawberry.enum(description="Kinds of interaction a department records.")
class InteractionType(Enum):
    ORDER = "ORDER"
    PAYMENT = "PAYMENT"
    VISIT = "VISIT"
    CALL = "CALL"
    COMPLAINT = "COMPLAINT"
    TICKET = "TICKET"
    EMAIL = "EMAIL"
    WEB_REGISTRATION = "WEB_REGISTRATION"
    FEEDBACK = "FEEDBACK"
    PROMOTION_RESPONSE = "PROMOTION_RESPONSE"


@strawberry.type(description="One event of a customer's history, as a department recorded it.")
class Interaction:
    id: strawberry.ID = strawberry.field(description="Hub id of the interaction.")
    source: str = strawberry.field(description="Department that recorded it.")
    interaction_key: str = strawberry.field(description="The department's key for it.")
    customer_key: str = strawberry.field(description="The department's key of the customer.")
    type: InteractionType = strawberry.field(description="Kind of interaction.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    channel: str | None = strawberry.field(description="Channel (phone, on site, web …).")
    amount: Decimal | None = strawberry.field(description="Exact amount, for orders and payments.")
    currency: str | None = strawberry.field(description="ISO 4217 currency of the amount.")
    due_date: date | None = strawberry.field(description="Payment due date.")
    paid_date: date | None = strawberry.field(description="Date actually paid.")
    summary: str | None = strawberry.field(description="What happened, in words.")
    attributes: JSON = strawberry.field(description="Any further fields the department sent.")

    @classmethod
    def from_domain(cls, view: InteractionView) -> Interaction:
        return cls(
            id=strawberry.ID(str(view.interaction_id)),
            source=view.source,
            interaction_key=view.interaction_key,
            customer_key=view.customer_key,
            type=InteractionType(view.type),
            occurred_at=view.occurred_at,
            channel=view.channel,
            amount=view.amount,
            currency=view.currency,
            due_date=view.due_date,
            paid_date=view.paid_date,
            summary=view.summary,
            attributes=JSON(view.attributes),
        )


@strawberry.type(description="Figures derived from a customer's interactions (base currency).")
class CustomerMetrics:
    transaction_count: int = strawberry.field(description="Orders placed.")
    transaction_amount: Decimal = strawberry.field(description="Amount of all orders.")
    revenue_12m: Decimal = strawberry.field(description="Amount of orders in the last 12 months.")
    first_transaction_at: datetime | None = strawberry.field(description="First order.")
    last_transaction_at: datetime | None = strawberry.field(description="Latest order.")
    average_days_late: float | None = strawberry.field(
        description="Average days payments came after their due date (early counts as 0)."
    )
    open_complaints: int = strawberry.field(description="Complaints and tickets not closed.")
    open_receivables: Decimal = strawberry.field(description="Ordered minus paid.")
    last_contact_at: datetime | None = strawberry.field(description="Latest contact of any kind.")
    close_requested_at: datetime | None = strawberry.field(
        description="Latest request to close an account."
    )
    computed_at: datetime = strawberry.field(description="When these figures were computed.")

    @classmethod
    def from_domain(cls, value: Metrics) -> CustomerMetrics:
        return cls(
            transaction_count=value.transaction_count,
            transaction_amount=value.transaction_amount,
            revenue_12m=value.revenue_12m,
            first_transaction_at=value.first_transaction_at,
            last_transaction_at=value.last_transaction_at,
            average_days_late=value.average_days_late,
            open_complaints=value.open_complaints,
            open_receivables=value.open_receivables,
            last_contact_at=value.last_contact_at,
            close_requested_at=value.close_requested_at,
            computed_at=value.computed_at,
        )
