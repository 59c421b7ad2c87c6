"""Classification and credit as front ends and credit officers see them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from hub.domain import format_customer_id
from hub.services.credit import ClassificationView, CreditDecisionView, CreditView
from schema.context import Info
from schema.types.common import UserError


@strawberry.type(description="One dimension of a customer's classification, with its reason.")
class ClassificationEntry:
    # Each field reads the view when asked: a page of fifty customers lists four
    # hundred entries and asks two of their six fields.
    view: strawberry.Private[ClassificationView]

    @strawberry.field(
        description="tier, lifecycle, nature, region, category, contact or retention."
    )
    def dimension(self) -> str:
        return self.view.dimension

    @strawberry.field(description="The class (KEY, ACTIVE, STATE_OWNED …).")
    def value(self) -> str:
        return self.view.value

    @strawberry.field(description="The rule that decided it, in words.")
    def rule(self) -> str:
        return self.view.rule

    @strawberry.field(description="Exactly the inputs the rule read.")
    def inputs(self) -> JSON:
        return JSON(self.view.inputs)

    @strawberry.field(description="Version of the rules file.")
    def rule_set_version(self) -> str:
        return self.view.rule_set_version

    @strawberry.field(description="When it was decided.")
    def computed_at(self) -> datetime:
        return self.view.computed_at

    @classmethod
    def from_domain(cls, view: ClassificationView) -> ClassificationEntry:
        return cls(view=view)


@strawberry.type(description="A credit request, decision or override, with who, when and why.")
class CreditDecision:
    id: strawberry.ID = strawberry.field(description="Decision id.")
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    kind: str = strawberry.field(description="request, override or policy (first limit).")
    status: str = strawberry.field(description="pending, approved, rejected or applied.")
    previous_limit: Decimal | None = strawberry.field(description="Limit before.")
    requested_limit: Decimal | None = strawberry.field(description="Limit asked for.")
    decided_limit: Decimal | None = strawberry.field(description="Limit decided.")
    assessment: JSON = strawberry.field(
        description="The re-assessment against the customer's record: recommendation, "
        "supported limit, rating, points, reasons, inputs."
    )
    reason: str | None = strawberry.field(description="Why (request and decision).")
    requested_by: str = strawberry.field(description="Who raised it.")
    decided_by: str | None = strawberry.field(description="Who decided.")
    created_at: datetime = strawberry.field(description="When it was raised.")
    decided_at: datetime | None = strawberry.field(description="When it was decided.")
    expires_at: datetime | None = strawberry.field(description="End of an override.")

    @classmethod
    def from_domain(cls, view: CreditDecisionView) -> CreditDecision:
        return cls(
            id=strawberry.ID(str(view.decision_id)),
            customer_id=strawberry.ID(format_customer_id(view.golden_id)),
            kind=view.kind,
            status=view.status,
            previous_limit=view.previous_limit,
            requested_limit=view.requested_limit,
            decided_limit=view.decided_limit,
            assessment=JSON(view.assessment),
            reason=view.reason,
            requested_by=view.requested_by,
            decided_by=view.decided_by,
            created_at=view.created_at,
            decided_at=view.decided_at,
            expires_at=view.expires_at,
        )


@strawberry.type(description="A customer's credit standing (needs credit access).")
class Credit:
    # Each field reads the standing when asked: a page of customers asks two or
    # three of the fourteen.
    view: strawberry.Private[CreditView]

    @strawberry.field(description="A–E, or NR (not rated: no history).")
    def rating(self) -> str | None:
        return self.view.rating

    @strawberry.field(
        description="What the credit policy recommends on the customer's current record."
    )
    def recommended_limit(self) -> Decimal | None:
        return self.view.recommended_limit

    @strawberry.field(description="The approved limit.")
    def current_limit(self) -> Decimal | None:
        return self.view.current_limit

    @strawberry.field(
        description="The limit in force now: an unexpired override, else the current limit."
    )
    def effective_limit(self) -> Decimal | None:
        return self.view.effective_limit

    @strawberry.field(description="override or current.")
    def limit_source(self) -> str | None:
        return self.view.limit_source

    @strawberry.field(description="Terms for the rating.")
    def settlement_terms(self) -> str | None:
        return self.view.settlement_terms

    @strawberry.field(description="Ordered minus paid.")
    def open_receivables(self) -> Decimal:
        return self.view.open_receivables

    @strawberry.field(description="Open receivables ÷ effective limit.")
    def utilization(self) -> Decimal | None:
        return self.view.utilization

    @strawberry.field(description="A manual limit, if any.")
    def override_limit(self) -> Decimal | None:
        return self.view.override_limit

    @strawberry.field(description="Its expiry.")
    def override_expires_at(self) -> datetime | None:
        return self.view.override_expires_at

    @strawberry.field(description="Version of the credit policy.")
    def policy_version(self) -> str | None:
        return self.view.policy_version

    @strawberry.field(description="The figures and points behind the rating.")
    def inputs(self) -> JSON:
        return JSON(self.view.inputs)

    @strawberry.field(description="Last change.")
    def updated_at(self) -> datetime:
        return self.view.updated_at

    @strawberry.field(description="Every request, decision and override, newest first.")
    async def history(self, info: Info) -> list[CreditDecision]:
        views = await info.context.loaders.credit_history.load(self.view.golden_id)
        return [CreditDecision.from_domain(v) for v in views]

    @classmethod
    def from_domain(cls, view: CreditView) -> Credit:
        return cls(view=view)


@strawberry.enum(description="A credit officer's decision on a request.")
class CreditVerdict(Enum):
    APPROVE = "approve"
    REJECT = "reject"


@strawberry.type(description="Result of a credit mutation.")
class CreditPayload:
    decision: CreditDecision | None = strawberry.field(description="The stored decision.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was stored.")
