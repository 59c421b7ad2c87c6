"""What the policies know about a customer: golden attributes and interaction metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hub.errors import Invalid

PARTY_TYPES = frozenset({"organization", "person"})


@dataclass(frozen=True, slots=True)
class CustomerFigures:
    """One golden customer as the classification and credit policies see it.

    Text attributes arrive as departments send them (``state_owned``, 国有 …);
    the policies normalise them through their mapping tables. Money is exact.
    Datetimes must carry a time zone, like the ``now`` they are compared with.
    """

    golden_id: int
    party_type: str
    ownership: str | None
    category: str | None
    region: str | None
    industry: str | None
    transaction_count: int
    transaction_amount: Decimal
    revenue_12m: Decimal
    first_transaction_at: datetime | None
    last_transaction_at: datetime | None
    last_contact_at: datetime | None
    average_days_late: float | None
    open_complaints: int
    open_receivables: Decimal
    close_requested_at: datetime | None

    def __post_init__(self) -> None:
        if self.party_type not in PARTY_TYPES:
            raise Invalid(
                f"customer {self.golden_id}: party_type {self.party_type!r} must be "
                "organization or person",
                field="party_type",
            )
        for name in ("transaction_count", "open_complaints"):
            if getattr(self, name) < 0:
                raise Invalid(f"customer {self.golden_id}: {name} cannot be negative", field=name)

    @property
    def has_transactions(self) -> bool:
        """Whether the customer ever bought: prospects have not."""
        return self.transaction_count > 0 and self.first_transaction_at is not None
