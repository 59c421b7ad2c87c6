"""Reading golden records: by id (following merges), as of a time, page by page."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVarTuple

from sqlalchemy import BigInteger, Row, Select, any_, bindparam, func, null, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.engine import read_rows
from hub.db.models import (
    Classification,
    CreditProfile,
    CrossReference,
    CustomerMetrics,
    GoldenRecord,
    GoldenRecordVersion,
    SourceRecord,
    SourceRecordVersion,
    SourceSystem,
)
from hub.db.sql import among
from hub.domain import (
    Cursors,
    Customer,
    CustomerVersion,
    Page,
    SourceRecordRef,
    SourceRecordView,
    decode_cursor,
    encode_cursor,
)
from hub.errors import Invalid, NotFound

Ts = TypeVarTuple("Ts")

# A chain of merges longer than this means a cycle, which would be a bug.
MAX_MERGE_CHAIN = 64


# What a Customer is built from: plain rows, not ORM objects (reads need no
# identity map, and a page of them is built several times faster).
_CUSTOMER_COLUMNS = (
    GoldenRecord.id,
    GoldenRecord.party_type,
    GoldenRecord.status,
    GoldenRecord.version,
    GoldenRecord.attributes,
    GoldenRecord.lineage,
    GoldenRecord.created_at,
    GoldenRecord.updated_at,
    GoldenRecord.merged_into_id,
)


def customer_from_row(row: GoldenRecord | Row[Any], *, requested_id: int | None = None) -> Customer:
    """The domain value of a golden-record row (an ORM object or its columns)."""
    return Customer(
        golden_id=row.id,
        party_type=row.party_type,
        status=row.status,
        version=row.version,
        attributes=dict(row.attributes),
        # None where the statement left it out (see ``select_customers``).
        lineage=dict(row.lineage) if row.lineage is not None else {},
        created_at=row.created_at,
        updated_at=row.updated_at,
        merged_into_id=row.merged_into_id,
        requested_id=requested_id,
    )


def select_customers(*, with_lineage: bool = True) -> Select[*tuple[Any, ...]]:
    """The columns ``customer_from_row`` needs, to be narrowed with ``where``.

    Without ``with_lineage`` the customers come with an empty lineage: a listing
    that never shows it spares sending and decoding a JSON document per customer.
    """
    if with_lineage:
        return select(*_CUSTOMER_COLUMNS)
    return select(
        *(
            null().label("lineage") if column is GoldenRecord.lineage else column
            for column in _CUSTOMER_COLUMNS
        )
    )


# Made once: SQLAlchemy keeps a statement's cache key on it, so one that is
# reused skips rebuilding and hashing it on every request.
_CUSTOMER_BY_ID = select_customers().where(GoldenRecord.id == bindparam("golden_id"))


async def resolve_golden_id(session: AsyncSession, golden_id: int) -> int:
    """The active golden record that ``golden_id`` stands for today (merges followed)."""
    current = golden_id
    for _ in range(MAX_MERGE_CHAIN):
        row = (
            await session.execute(
                select(GoldenRecord.status, GoldenRecord.merged_into_id).where(
                    GoldenRecord.id == current
                )
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"no customer with id C{golden_id}", field="id")
        if row.status != "merged" or row.merged_into_id is None:
            return current
        current = row.merged_into_id
    raise RuntimeError(f"merge chain from golden record {golden_id} does not end")


async def get_customer(
    session: AsyncSession, golden_id: int, *, as_of: datetime | None = None
) -> Customer:
    """The customer ``golden_id`` stands for, now or as it was at ``as_of``.

    A merged-away id resolves to its survivor; ``requested_id`` keeps what was asked.
    """
    if as_of is not None:
        return await _customer_as_of(session, golden_id, as_of)
    # Whole rows along the merge chain: the usual unmerged id costs one statement.
    current = golden_id
    for _ in range(MAX_MERGE_CHAIN):
        row = (await session.execute(_CUSTOMER_BY_ID, {"golden_id": current})).one_or_none()
        if row is None:
            raise NotFound(f"no customer with id C{golden_id}", field="id")
        if row.status != "merged" or row.merged_into_id is None:
            return customer_from_row(row, requested_id=golden_id)
        current = row.merged_into_id
    raise RuntimeError(f"merge chain from golden record {golden_id} does not end")


async def _customer_as_of(session: AsyncSession, golden_id: int, as_of: datetime) -> Customer:
    if as_of.tzinfo is None:
        raise Invalid("must carry a time zone", field="asOf")
    row = await session.get(GoldenRecord, golden_id)
    if row is None:
        raise NotFound(f"no customer with id C{golden_id}", field="id")
    version = (
        await session.execute(
            select(GoldenRecordVersion)
            .where(GoldenRecordVersion.golden_id == golden_id)
            .where(GoldenRecordVersion.valid_from <= as_of)
            .order_by(GoldenRecordVersion.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if version is None:
        raise NotFound(
            f"customer C{golden_id} did not exist yet at {as_of.isoformat()}", field="asOf"
        )
    if version.status == "merged" and version.merged_into_id is not None:
        return await _customer_as_of(session, version.merged_into_id, as_of)
    return Customer(
        golden_id=golden_id,
        party_type=row.party_type,
        status=version.status,
        version=version.version,
        attributes=dict(version.attributes),
        lineage=dict(version.lineage),
        created_at=row.created_at,
        updated_at=version.valid_from,
        requested_id=golden_id,
        members=tuple(version.members),
    )


class CustomerOrder(StrEnum):
    ID = "id"
    NAME = "name"
    UPDATED_AT = "updated_at"


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """Which active customers to list; every given condition must hold."""

    party_type: str | None = None
    region: str | None = None
    industry: str | None = None
    category: str | None = None
    ownership: str | None = None
    source: str | None = None
    updated_since: datetime | None = None
    tier: str | None = None
    lifecycle: str | None = None
    credit_rating: str | None = None


def _filter_values(wanted: CustomerFilter) -> dict[str, Any]:
    """The conditions ``wanted`` gives, by name (the names of their bound parameters)."""
    return {name: value for name in _FILTER_NAMES if (value := getattr(wanted, name)) is not None}


_FILTER_NAMES = (
    "party_type",
    "region",
    "industry",
    "category",
    "ownership",
    "updated_since",
    "tier",
    "lifecycle",
    "credit_rating",
    "source",
)


def _filtered(query: Select[*Ts], given: Collection[str]) -> Select[*Ts]:
    """``query`` narrowed to active customers meeting the conditions named in ``given``,
    each value a bound parameter of that name (see ``_filter_values``)."""
    query = query.where(GoldenRecord.status == "active")
    for name, attribute in (
        ("party_type", GoldenRecord.party_type),
        ("region", GoldenRecord.region),
        ("industry", GoldenRecord.industry),
    ):
        if name in given:
            query = query.where(attribute == bindparam(name))
    for key in ("category", "ownership"):
        if key in given:
            query = query.where(GoldenRecord.attributes[key].astext == bindparam(key))
    if "updated_since" in given:
        query = query.where(GoldenRecord.updated_at >= bindparam("updated_since"))
    for name, attribute in (
        ("tier", Classification.tier),
        ("lifecycle", Classification.lifecycle),
    ):
        if name in given:
            query = query.where(
                select(Classification.golden_id)
                .where(Classification.golden_id == GoldenRecord.id, attribute == bindparam(name))
                .exists()
            )
    if "credit_rating" in given:
        query = query.where(
            select(CreditProfile.golden_id)
            .where(
                CreditProfile.golden_id == GoldenRecord.id,
                CreditProfile.rating == bindparam("credit_rating"),
            )
            .exists()
        )
    if "source" in given:
        query = query.where(
            select(CrossReference.golden_id)
            .join(SourceRecord, SourceRecord.id == CrossReference.source_record_id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .where(
                CrossReference.golden_id == GoldenRecord.id,
                SourceSystem.code == bindparam("source"),
            )
            .exists()
        )
    return query


# Built once per combination of conditions and order, values bound: a statement
# built for every page cost the hub more than reading its rows.
@functools.cache
def _listing_statement(
    given: frozenset[str], order: CustomerOrder, with_lineage: bool
) -> Select[Any]:
    query = _filtered(select_customers(with_lineage=with_lineage), given)
    if order is CustomerOrder.ID:
        query = query.where(GoldenRecord.id > bindparam("listing_position")).order_by(
            GoldenRecord.id
        )
    elif order is CustomerOrder.NAME:
        query = query.order_by(GoldenRecord.name, GoldenRecord.id).offset(
            bindparam("listing_position")
        )
    else:
        query = query.order_by(GoldenRecord.updated_at.desc(), GoldenRecord.id).offset(
            bindparam("listing_position")
        )
    return query.limit(bindparam("listing_limit"))


@functools.cache
def _count_statement(given: frozenset[str]) -> Select[int]:
    return _filtered(select(func.count(GoldenRecord.id)), given)


def _id_cursor(customer: Customer) -> str:
    return encode_cursor(customer.golden_id)


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a customer listing: its statement, and how to read its rows."""

    query: Select[*tuple[Any, ...]]
    parameters: dict[str, Any]
    first: int
    position: int
    order: CustomerOrder

    @classmethod
    def of(
        cls,
        *,
        first: int,
        after: str | None,
        wanted: CustomerFilter,
        order: CustomerOrder,
        with_lineage: bool = True,
    ) -> Listing:
        """The page of ``first`` customers after the cursor ``after``.

        In id order the cursor is the last id seen (stable while records are
        added); in the other orders it is a position. Without ``with_lineage``
        the customers' lineage is left out (see ``select_customers``).
        """
        position = decode_cursor(after) if after is not None else 0
        values = _filter_values(wanted)
        # One more than the page: whether a next page exists.
        return cls(
            query=_listing_statement(frozenset(values), order, with_lineage),
            parameters=values | {"listing_position": position, "listing_limit": first + 1},
            first=first,
            position=position,
            order=order,
        )

    def page(self, rows: Sequence[Row[Any]], total: int) -> Page[Customer]:
        """The page of the rows ``query`` returned (their leading columns)."""
        items = [customer_from_row(row) for row in rows[: self.first]]
        cursors: Cursors[Any] = (
            Cursors(items, _id_cursor)
            if self.order is CustomerOrder.ID
            else Cursors(range(self.position + 1, self.position + len(items) + 1), encode_cursor)
        )
        return Page(
            items=items,
            cursors=cursors,
            has_next_page=len(rows) > self.first,
            has_previous_page=self.position > 0,
            total_count=total,
        )


async def count_customers(session: AsyncSession, wanted: CustomerFilter) -> int:
    """How many active customers match ``wanted`` (reads every one of them)."""
    values = _filter_values(wanted)
    counted = await session.execute(_count_statement(frozenset(values)), values)
    return int(counted.scalar_one())


async def list_customers(
    session: AsyncSession,
    *,
    first: int,
    after: str | None = None,
    wanted: CustomerFilter | None = None,
    order: CustomerOrder = CustomerOrder.ID,
    with_total: bool = True,
) -> Page[Customer]:
    """Active customers matching ``wanted``, ``first`` at a time after the cursor ``after``.

    See ``Listing`` for the cursors. Counting all matches reads every one of
    them: without ``with_total`` no count runs and ``total_count`` is -1.
    """
    wanted = wanted or CustomerFilter()
    listing = Listing.of(first=first, after=after, wanted=wanted, order=order)
    rows = (await session.execute(listing.query, listing.parameters)).all()
    total = await count_customers(session, wanted) if with_total else -1
    return listing.page(rows, total)


_SOURCE_RECORDS = (
    select(
        CrossReference.golden_id,
        SourceSystem.code,
        SourceRecord.source_key,
        SourceRecord.current_version,
        SourceRecord.retired_at,
        CrossReference.link_kind,
        CrossReference.score,
    )
    .join(SourceRecord, SourceRecord.id == CrossReference.source_record_id)
    .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
    .where(CrossReference.golden_id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .order_by(CrossReference.golden_id, SourceSystem.code, SourceRecord.source_key)
)


async def source_records_of(
    session: AsyncSession, golden_ids: Sequence[int]
) -> dict[int, list[SourceRecordRef]]:
    """The source records currently linked to each of ``golden_ids`` (one query)."""
    rows = await read_rows(session, _SOURCE_RECORDS, {"ids": list(golden_ids)})
    found: dict[int, list[SourceRecordRef]] = defaultdict(list)
    for golden_id, source, key, version, retired_at, link_kind, score in rows:
        found[golden_id].append(
            SourceRecordRef(
                source=source,
                source_key=key,
                version=version,
                retired=retired_at is not None,
                link_kind=link_kind,
                score=score,
            )
        )
    return dict(found)


async def golden_id_by_source_key(session: AsyncSession, source: str, source_key: str) -> int:
    """The golden record a department's record belongs to."""
    golden_id = (
        await session.execute(
            select(CrossReference.golden_id)
            .join(SourceRecord, SourceRecord.id == CrossReference.source_record_id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .where(SourceSystem.code == source, SourceRecord.source_key == source_key)
        )
    ).scalar_one_or_none()
    if golden_id is None:
        raise NotFound(f"no record {source_key} from source {source}", field="key")
    return golden_id


async def histories_of(
    session: AsyncSession, golden_ids: Sequence[int]
) -> dict[int, list[CustomerVersion]]:
    """Every version of each of ``golden_ids``, oldest first (one query)."""
    rows = (
        (
            await session.execute(
                select(GoldenRecordVersion)
                .where(among(GoldenRecordVersion.golden_id, golden_ids))
                .order_by(GoldenRecordVersion.golden_id, GoldenRecordVersion.version)
            )
        )
        .scalars()
        .all()
    )
    found: dict[int, list[CustomerVersion]] = defaultdict(list)
    for row in rows:
        found[row.golden_id].append(
            CustomerVersion(
                version=row.version,
                status=row.status,
                change=row.change,
                valid_from=row.valid_from,
                members=tuple(row.members),
                attributes=row.attributes,
                merged_into_id=row.merged_into_id,
            )
        )
    return dict(found)


async def get_source_record(
    session: AsyncSession, source: str, source_key: str
) -> SourceRecordView:
    """A department's record: its current version as submitted, with quality flags."""
    row = (
        await session.execute(
            select(
                SourceRecord.current_version,
                SourceRecord.retired_at,
                SourceRecordVersion.payload,
                SourceRecordVersion.flags,
                SourceRecordVersion.received_at,
                CrossReference.golden_id,
            )
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .join(
                SourceRecordVersion,
                (SourceRecordVersion.source_record_id == SourceRecord.id)
                & (SourceRecordVersion.version == SourceRecord.current_version),
            )
            .outerjoin(CrossReference, CrossReference.source_record_id == SourceRecord.id)
            .where(SourceSystem.code == source, SourceRecord.source_key == source_key)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no record {source_key} from source {source}", field="key")
    return SourceRecordView(
        source=source,
        source_key=source_key,
        version=row.current_version,
        payload=row.payload,
        flags=row.flags,
        retired=row.retired_at is not None,
        golden_id=row.golden_id,
        received_at=row.received_at,
    )


class CompositionDimension(StrEnum):
    REGION = "region"
    INDUSTRY = "industry"
    TIER = "tier"
    LIFECYCLE = "lifecycle"
    CREDIT_RATING = "credit_rating"


@dataclass(frozen=True, slots=True)
class CompositionRow:
    """Customers and 12-month revenue sharing one value of a dimension."""

    key: str | None
    customers: int
    revenue_12m: Decimal


async def composition(session: AsyncSession, by: CompositionDimension) -> list[CompositionRow]:
    """Active customers counted and their revenue summed by ``by`` (largest revenue first)."""
    revenue = func.coalesce(func.sum(CustomerMetrics.revenue_12m), 0)
    base = select(func.count(GoldenRecord.id), revenue).outerjoin(
        CustomerMetrics, CustomerMetrics.golden_id == GoldenRecord.id
    )
    key: Any
    match by:
        case CompositionDimension.REGION:
            key = GoldenRecord.region
        case CompositionDimension.INDUSTRY:
            key = GoldenRecord.industry
        case CompositionDimension.TIER | CompositionDimension.LIFECYCLE:
            key = getattr(Classification, by.value)
            base = base.outerjoin(Classification, Classification.golden_id == GoldenRecord.id)
        case CompositionDimension.CREDIT_RATING:
            key = CreditProfile.rating
            base = base.outerjoin(CreditProfile, CreditProfile.golden_id == GoldenRecord.id)
    rows = await session.execute(
        base.add_columns(key)
        .where(GoldenRecord.status == "active")
        .group_by(key)
        .order_by(revenue.desc(), key)
    )
    return [CompositionRow(key=k, customers=n, revenue_12m=Decimal(r)) for n, r, k in rows]
