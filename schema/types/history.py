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
    # Each field reads the figures when asked: a page of customers asks one or two
    # of the eleven.
    value: strawberry.Private[Metrics]

    @strawberry.field(description="Orders placed.")
    def transaction_count(self) -> int:
        return self.value.transaction_count

    @strawberry.field(description="Amount of all orders.")
    def transaction_amount(self) -> Decimal:
        return self.value.transaction_amount

    @strawberry.field(description="Amount of orders in the last 12 months.")
    def revenue_12m(self) -> Decimal:
        return self.value.revenue_12m

    @strawberry.field(description="First order.")
    def first_transaction_at(self) -> datetime | None:
        return self.value.first_transaction_at

    @strawberry.field(description="Latest order.")
    def last_transaction_at(self) -> datetime | None:
        return self.value.last_transaction_at

    @strawberry.field(
        description="Average days payments came after their due date (early counts as 0)."
    )
    def average_days_late(self) -> float | None:
        return self.value.average_days_late

    @strawberry.field(description="Complaints and tickets not closed.")
    def open_complaints(self) -> int:
        return self.value.open_complaints

    @strawberry.field(description="Ordered minus paid.")
    def open_receivables(self) -> Decimal:
        return self.value.open_receivables

    @strawberry.field(description="Latest contact of any kind.")
    def last_contact_at(self) -> datetime | None:
        return self.value.last_contact_at

    @strawberry.field(description="Latest request to close an account.")
    def close_requested_at(self) -> datetime | None:
        return self.value.close_requested_at

    @strawberry.field(description="When these figures were computed.")
    def computed_at(self) -> datetime:
        return self.value.computed_at

    @classmethod
    def from_domain(cls, value: Metrics) -> CustomerMetrics:
        return cls(value=value)
