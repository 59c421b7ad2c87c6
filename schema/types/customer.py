"""The golden customer as front ends see it."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from hub import domain
from schema.context import Info


@strawberry.enum(description="Whether the customer is an organization or a person.")
class PartyType(Enum):
    ORGANIZATION = "organization"
    PERSON = "person"


@strawberry.type(description="A department record that a golden customer is built from.")
class SourceRecordRef:
    source: str = strawberry.field(description="Code of the submitting department or system.")
    source_key: str = strawberry.field(description="The department's own id for the customer.")
    version: int = strawberry.field(description="Current version of the department's record.")
    retired: bool = strawberry.field(description="The department retired this record.")
    link_kind: str = strawberry.field(
        description="How the record joined: new, auto, review, steward or merge."
    )
    score: float | None = strawberry.field(description="Match weight when it was linked.")

    @classmethod
    def from_domain(cls, ref: domain.SourceRecordRef) -> SourceRecordRef:
        return cls(
            source=ref.source,
            source_key=ref.source_key,
            version=ref.version,
            retired=ref.retired,
            link_kind=ref.link_kind,
            score=ref.score,
        )


def _text(attributes: dict[str, Any], key: str) -> str | None:
    value = attributes.get(key)
    return value if isinstance(value, str) else None


@strawberry.type(description="A golden record: one real customer, built from department records.")
class Customer:
    value: strawberry.Private[domain.Customer]

    @strawberry.field(description="Public id; never changes meaning, resolves after merges.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.value.public_id)

    @strawberry.field(description="Organization or person.")
    def party_type(self) -> PartyType:
        return PartyType(self.value.party_type)

    @strawberry.field(description="active, merged (into another customer) or retired.")
    def status(self) -> str:
        return self.value.status

    @strawberry.field(description="Version counter; increases with every change.")
    def version(self) -> int:
        return self.value.version

    @strawberry.field(description="Legal or full name (simplified script as surviving).")
    def name(self) -> str:
        return _text(self.value.attributes, "name") or ""

    @strawberry.field(description="English or romanised name.")
    def name_en(self) -> str | None:
        return _text(self.value.attributes, "name_en")

    @strawberry.field(description="Sales region (华北, 华东 …) derived from the province.")
    def region(self) -> str | None:
        address = self.value.attributes.get("address")
        return _text(address, "region") if isinstance(address, dict) else None

    @strawberry.field(description="Industry.")
    def industry(self) -> str | None:
        return _text(self.value.attributes, "industry")

    @strawberry.field(description="When the golden record was created.")
    def created_at(self) -> datetime:
        return self.value.created_at

    @strawberry.field(description="When the golden record last changed.")
    def updated_at(self) -> datetime:
        return self.value.updated_at

    @strawberry.field(description="The department records this customer is built from.")
    async def source_records(self, info: Info) -> list[SourceRecordRef]:
        refs = await info.context.loaders.source_records.load(self.value.golden_id)
        return [SourceRecordRef.from_domain(ref) for ref in refs]

    @classmethod
    def from_domain(cls, value: domain.Customer) -> Customer:
        return cls(value=value)
