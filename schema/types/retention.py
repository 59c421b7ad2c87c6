"""Retention alerts as front ends list them: open ones first, each with its reason."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from hub.domain import format_customer_id
from hub.services.retention import RetentionAlertView


@strawberry.type(
    description="A retention alert: a good customer leaving or asking to close an account. "
    "Raised when the customer starts meeting a retention rule, cleared (and kept) when it stops."
)
class RetentionAlert:
    id: strawberry.ID = strawberry.field(description="Alert id.")
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    reason: str = strawberry.field(description="KEY_DORMANT, KEY_CHURNED, CLOSE_REQUESTED …")
    rule: str = strawberry.field(description="The retention rule, in words, when it was raised.")
    inputs: JSON = strawberry.field(description="Exactly the inputs the rule read.")
    rule_set_version: str = strawberry.field(description="Version of the rules file.")
    raised_at: datetime = strawberry.field(description="When the customer started to meet it.")
    cleared_at: datetime | None = strawberry.field(description="When it stopped; null: open.")
    cleared_rule: str | None = strawberry.field(description="Why it cleared, in words.")

    @classmethod
    def from_domain(cls, view: RetentionAlertView) -> RetentionAlert:
        return cls(
            id=strawberry.ID(str(view.alert_id)),
            customer_id=strawberry.ID(format_customer_id(view.golden_id)),
            reason=view.reason,
            rule=view.rule,
            inputs=JSON(view.inputs),
            rule_set_version=view.rule_set_version,
            raised_at=view.raised_at,
            cleared_at=view.cleared_at,
            cleared_rule=view.cleared_rule,
        )
