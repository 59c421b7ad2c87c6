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
    dimension: str = strawberry.field(
        description="tier, lifecycle, nature, region, category, contact or retention."
    )
    value: str = strawberry.field(description="The class (KEY, ACTIVE, STATE_OWNED …).")
    rule: str = strawberry.field(description="The rule that decided it, in words.")
    inputs: JSON = strawberry.field(description="Exactly the inputs the rule read.")
    rule_set_version: str = strawberry.field(description="Version of the rules file.")
    computed_at: datetime = strawberry.field(description="When it was decided.")

    @classmethod
    def from_domain(cls, view: ClassificationView) -> ClassificationEntry:
        return cls(
            dimension=view.dimension,
            value=view.value,
            rule=view.rule,
            inputs=JSON(view.inputs),
            rule_set_version=view.rule_set_version,
            computed_at=view.computed_at,
        )


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
    golden_id: strawberry.Private[int]
    rating: str | None = strawberry.field(description="A–E, or NR (not rated: no history).")
    recommended_limit: Decimal | None = strawberry.field(
        description="What the credit policy recommends on the customer's current record."
    )
    current_limit: Decimal | None = strawberry.field(description="The approved limit.")
    effective_limit: Decimal | None = strawberry.field(
        description="The limit in force now: an unexpired override, else the current limit."
    )
    limit_source: str | None = strawberry.field(description="override or current.")
    settlement_terms: str | None = strawberry.field(description="Terms for the rating.")
    open_receivables: Decimal = strawberry.field(description="Ordered minus paid.")
    utilization: Decimal | None = strawberry.field(
        description="Open receivables ÷ effective limit."
    )
    override_limit: Decimal | None = strawberry.field(description="A manual limit, if any.")
    override_expires_at: datetime | None = strawberry.field(description="Its expiry.")
    policy_version: str | None = strawberry.field(description="Version of the credit policy.")
    inputs: JSON = strawberry.field(description="The figures and points behind the rating.")
    updated_at: datetime = strawberry.field(description="Last change.")

    @strawberry.field(description="Every request, decision and override, newest first.")
    async def history(self, info: Info) -> list[CreditDecision]:
        views = await info.context.loaders.credit_history.load(self.golden_id)
        return [CreditDecision.from_domain(v) for v in views]

    @classmethod
    def from_domain(cls, view: CreditView) -> Credit:
        return cls(
            golden_id=view.golden_id,
            rating=view.rating,
            recommended_limit=view.recommended_limit,
            current_limit=view.current_limit,
            effective_limit=view.effective_limit,
            limit_source=view.limit_source,
            settlement_terms=view.settlement_terms,
            open_receivables=view.open_receivables,
            utilization=view.utilization,
            override_limit=view.override_limit,
            override_expires_at=view.override_expires_at,
            policy_version=view.policy_version,
            inputs=JSON(view.inputs),
            updated_at=view.updated_at,
        )


@strawberry.enum(description="A credit officer's decision on a request.")
class CreditVerdict(Enum):
    APPROVE = "approve"
    REJECT = "reject"


@strawberry.type(description="Result of a credit mutation.")
class CreditPayload:
    decision: CreditDecision | None = strawberry.field(description="The stored decision.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was stored.")
