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


# The kinds by value, for the five hundred interactions of a page of customers.
_INTERACTION_TYPES = {kind.value: kind for kind in InteractionType}


@strawberry.type(description="One event of a customer's history, as a department recorded it.")
class Interaction:
    # Each field reads the view when asked: a page of fifty customers lists five
    # hundred interactions and asks three of their fields, so copying all
    # thirteen into every one cost more than answering the three.
    view: strawberry.Private[InteractionView]

    @strawberry.field(description="Hub id of the interaction.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.view.interaction_id))

    @strawberry.field(description="Department that recorded it.")
    def source(self) -> str:
        return self.view.source

    @strawberry.field(description="The department's key for it.")
    def interaction_key(self) -> str:
        return self.view.interaction_key

    @strawberry.field(description="The department's key of the customer.")
    def customer_key(self) -> str:
        return self.view.customer_key

    @strawberry.field(description="Kind of interaction.")
    def type(self) -> InteractionType:
        found = _INTERACTION_TYPES.get(self.view.type)
        # An unknown kind fails as the enum fails on it.
        return found if found is not None else InteractionType(self.view.type)

    @strawberry.field(description="When it happened.")
    def occurred_at(self) -> datetime:
        return self.view.occurred_at

    @strawberry.field(description="Channel (phone, on site, web …).")
    def channel(self) -> str | None:
        return self.view.channel

    @strawberry.field(description="Exact amount, for orders and payments.")
    def amount(self) -> Decimal | None:
        return self.view.amount

    @strawberry.field(description="ISO 4217 currency of the amount.")
    def currency(self) -> str | None:
        return self.view.currency

    @strawberry.field(description="Payment due date.")
    def due_date(self) -> date | None:
        return self.view.due_date

    @strawberry.field(description="Date actually paid.")
    def paid_date(self) -> date | None:
        return self.view.paid_date

    @strawberry.field(description="What happened, in words.")
    def summary(self) -> str | None:
        return self.view.summary

    @strawberry.field(description="Any further fields the department sent.")
    def attributes(self) -> JSON:
        return JSON(self.view.attributes)

    @classmethod
    def from_domain(cls, view: InteractionView) -> Interaction:
        return cls(view=view)


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
