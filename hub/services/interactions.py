"""Interactions: the customer's history, as each department records it.

An interaction names the customer by the department's own key and is attached
through that department's source record, so merges and splits of golden
records carry it along without touching it. Idempotent by (source, key).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Label, Row, TextClause, column, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from hub.db.engine import read_rows
from hub.domain import (
    Cursors,
    InteractionView,
    Page,
    decode_keyset,
    encode_keyset,
    epoch_micros,
    from_epoch_micros,
    maker_of,
)
from hub.errors import Invalid
from hub.services.profile import refresh_profiles
from hub.services.sources import ensure_source

MAX_TEXT = 2_000
MAX_KEY = 200  # the key columns' width
MAX_AMOUNT = Decimal("1e15")


class InteractionType(StrEnum):
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


class InteractionError(Invalid):
    """An interaction breaks its contract; ``field`` names what."""


@dataclass(frozen=True, slots=True)
class InteractionInput:
    """A validated interaction, ready to store."""

    interaction_key: str
    customer_key: str
    type: InteractionType
    occurred_at: datetime
    channel: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    due_date: date | None = None
    paid_date: date | None = None
    summary: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


_KNOWN = {
    "interaction_key",
    "customer_key",
    "type",
    "occurred_at",
    "channel",
    "amount",
    "currency",
    "due_date",
    "paid_date",
    "summary",
    "source",
}


def _text(raw: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InteractionError("is required", field=name)
        return None
    if isinstance(value, int) and not isinstance(value, bool) and name.endswith("_key"):
        value = str(value)
    if not isinstance(value, str):
        raise InteractionError(f"must be text, got {type(value).__name__}", field=name)
    limit = MAX_KEY if name.endswith("_key") else MAX_TEXT
    if len(value) > limit or not _storable(value):
        raise InteractionError(
            f"must be at most {limit} characters of valid Unicode without NUL", field=name
        )
    return value.strip()


def _storable(value: str) -> bool:
    """Whether PostgreSQL can store ``value``: UTF-8 (no lone surrogates), no NUL."""
    if value.isascii():
        return "\x00" not in value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _date(raw: Mapping[str, Any], name: str) -> date | None:
    text = _text(raw, name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InteractionError(f"'{text}' is not an ISO date", field=name) from None


def parse_interaction(raw: object) -> InteractionInput:
    """Check one interaction against its contract."""
    if not isinstance(raw, Mapping):
        raise InteractionError("an interaction must be a JSON object")
    kind_text = _text(raw, "type", required=True) or ""
    try:
        kind = InteractionType(kind_text.upper())
    except ValueError:
        allowed = ", ".join(t.value for t in InteractionType)
        raise InteractionError(f"'{kind_text}' is not one of {allowed}", field="type") from None
    occurred_text = _text(raw, "occurred_at", required=True) or ""
    try:
        occurred = datetime.fromisoformat(occurred_text)
    except ValueError:
        raise InteractionError(
            f"'{occurred_text}' is not an ISO timestamp", field="occurred_at"
        ) from None
    amount = _amount(raw.get("amount"))
    currency = _text(raw, "currency")
    if currency is not None:
        currency = currency.upper()
        if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
            raise InteractionError(f"'{currency}' is not an ISO 4217 code", field="currency")
    if amount is not None and currency is None:
        raise InteractionError("is required when an amount is given", field="currency")
    return InteractionInput(
        interaction_key=_text(raw, "interaction_key", required=True) or "",
        customer_key=_text(raw, "customer_key", required=True) or "",
        type=kind,
        occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
        channel=_text(raw, "channel"),
        amount=amount,
        currency=currency,
        due_date=_date(raw, "due_date"),
        paid_date=_date(raw, "paid_date"),
        summary=_text(raw, "summary"),
        attributes=_attributes(raw),
    )


def _attributes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The keys outside the contract, kept as JSON; they must be storable as such."""
    extra = {k: v for k, v in raw.items() if k not in _KNOWN}
    if not extra:
        return extra
    try:
        encoded = _json(extra)
    except (TypeError, ValueError):
        raise InteractionError(
            "extra keys must hold JSON values (no NaN or Infinity)", field="attributes"
        ) from None
    # PostgreSQL's jsonb has no place for the NUL character.
    if "\\u0000" in encoded or not _storable(encoded):
        raise InteractionError(
            "extra keys must hold valid Unicode without the NUL character", field="attributes"
        )
    return extra


def _amount(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InteractionError("must be a decimal number or text", field="amount")
    try:
        # Floats go through their shortest text form, so 0.1 stays 0.1.
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InteractionError(f"'{value}' is not a decimal number", field="amount") from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise InteractionError("must be a finite amount below 10^15", field="amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise InteractionError("has more than two decimal places", field="amount")
    return amount


@dataclass(frozen=True, slots=True)
class InteractionRejection:
    index: int
    interaction_key: str | None
    field: str | None
    message: str


@dataclass(slots=True)
class RecordInteractionsResult:
    created: int = 0
    unchanged: int = 0
    unattached: int = 0
    rejections: list[InteractionRejection] = field(default_factory=list)


async def record_interactions(
    session: AsyncSession,
    source: str,
    raw: Sequence[object],
    *,
    max_items: int = 5000,
    now: datetime | None = None,
) -> RecordInteractionsResult:
    """Store a department's interactions; a repeated key is a no-op.

    Every item is checked first; the ones that pass go to PostgreSQL in one
    statement that attaches each to its customer's source record and skips
    keys already stored. The customers that gained history are refreshed.
    """
    if len(raw) > max_items:
        raise Invalid(
            f"a batch holds at most {max_items} interactions, got {len(raw)}", field="interactions"
        )
    result = RecordInteractionsResult()
    accepted: list[InteractionInput] = []
    keys: set[str] = set()
    for index, item in enumerate(raw):
        try:
            parsed = parse_interaction(item)
        except InteractionError as error:
            key = item.get("interaction_key") if isinstance(item, Mapping) else None
            result.rejections.append(
                InteractionRejection(
                    index, str(key) if key is not None else None, error.field, error.message
                )
            )
            continue
        if parsed.interaction_key in keys:
            result.rejections.append(
                InteractionRejection(
                    index,
                    parsed.interaction_key,
                    "interaction_key",
                    "repeats an earlier interaction of this batch",
                )
            )
            continue
        keys.add(parsed.interaction_key)
        accepted.append(parsed)
    if not accepted:
        return result
    source_id = await ensure_source(session, source)
    stored = (
        await session.execute(
            _INSERT_INTERACTIONS,
            {
                "source_id": source_id,
                "interaction_keys": [a.interaction_key for a in accepted],
                "customer_keys": [a.customer_key for a in accepted],
                "types": [a.type.value for a in accepted],
                "occurred_at": [a.occurred_at for a in accepted],
                "channels": [a.channel for a in accepted],
                "amounts": [a.amount for a in accepted],
                "currencies": [a.currency for a in accepted],
                "due_dates": [a.due_date for a in accepted],
                "paid_dates": [a.paid_date for a in accepted],
                "summaries": [a.summary for a in accepted],
                "attributes": [_json(a.attributes) for a in accepted],
            },
        )
    ).one()
    result.created = stored.created
    result.unchanged = len(accepted) - stored.created
    result.unattached = stored.unattached
    if stored.golden_ids:
        await refresh_profiles(session, stored.golden_ids, now=now or datetime.now(UTC))
    return result


# One statement per batch: the checked items arrive as one array per column,
# are attached through the department's source record (unique per source and
# key), and a key stored before is skipped. It answers what it created and the
# customers those interactions belong to.
_INSERT_INTERACTIONS = text(
    """
    WITH item AS (
        SELECT * FROM unnest(
            CAST(:interaction_keys AS text[]), CAST(:customer_keys AS text[]),
            CAST(:types AS text[]), CAST(:occurred_at AS timestamptz[]),
            CAST(:channels AS text[]), CAST(:amounts AS numeric[]),
            CAST(:currencies AS text[]), CAST(:due_dates AS date[]),
            CAST(:paid_dates AS date[]), CAST(:summaries AS text[]),
            CAST(:attributes AS jsonb[])
        ) AS item(interaction_key, customer_key, type, occurred_at, channel, amount,
                  currency, due_date, paid_date, summary, attributes)
    ), created AS (
        INSERT INTO interaction (
            source_id, interaction_key, customer_key, source_record_id, type, occurred_at,
            channel, amount, currency, due_date, paid_date, summary, attributes)
        SELECT :source_id, item.interaction_key, item.customer_key, r.id, item.type,
            item.occurred_at, item.channel, item.amount, item.currency, item.due_date,
            item.paid_date, item.summary, item.attributes
        FROM item
        LEFT JOIN source_record r
            ON r.source_id = :source_id AND r.source_key = item.customer_key
        ON CONFLICT (source_id, interaction_key) DO NOTHING
        RETURNING source_record_id
    )
    SELECT
        count(*) AS created,
        count(*) FILTER (WHERE created.source_record_id IS NULL) AS unattached,
        coalesce(
            array_agg(DISTINCT x.golden_id) FILTER (WHERE x.golden_id IS NOT NULL),
            CAST(ARRAY[] AS bigint[])
        ) AS golden_ids
    FROM created
    LEFT JOIN cross_reference x ON x.source_record_id = created.source_record_id
    """
)


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# Interactions that arrived before their customers' records get attached to
# them when the records come: ``:created_keys`` and ``:created_ids`` hold the
# source key and the source record id of each record new to ``:source_id``.
# A statement of its own, or a part of the one that stores the records.
ATTACH_WAITING_INTERACTIONS = (
    "UPDATE interaction i SET source_record_id = r.record_id"
    " FROM unnest(CAST(:created_keys AS text[]), CAST(:created_ids AS bigint[]))"
    "  AS r(customer_key, record_id)"
    " WHERE i.source_id = :source_id AND i.customer_key = r.customer_key"
    " AND i.source_record_id IS NULL"
)


@dataclass(frozen=True, slots=True)
class InteractionQuery:
    """Which interactions of a customer to list: newest first, ``first`` at a time."""

    types: tuple[str, ...] = ()
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    first: int = 20
    after: str | None = None
    # Without it no count runs and ``total_count`` is -1 (a page that shows no total).
    with_total: bool = True
    # Without it the page's interactions come with empty ``attributes``: a page
    # that never shows them (a customers page lists five hundred interactions)
    # spares PostgreSQL sending them and the hub decoding them.
    with_attributes: bool = True


def _interaction_filter(query: InteractionQuery) -> tuple[str, dict[str, Any]]:
    """SQL conditions (fixed text, values bound as parameters) for ``query``."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if query.types:
        clauses.append("i.type = ANY(:types)")
        params["types"] = list(query.types)
    if query.occurred_from is not None:
        clauses.append("i.occurred_at >= :occurred_from")
        params["occurred_from"] = query.occurred_from
    if query.occurred_to is not None:
        clauses.append("i.occurred_at < :occurred_to")
        params["occurred_to"] = query.occurred_to
    return "".join(f" AND {c}" for c in clauses), params


# The columns of an InteractionView, in the order ``interactions_of`` reads them;
# without attributes their place holds NULL (read as no attributes).
_LEADING_COLUMNS = (
    "i.id, s.code, i.interaction_key, i.customer_key, i.type, i.occurred_at, i.channel,"
    " i.amount, i.currency, i.due_date, i.paid_date, i.summary"
)


def _view_columns(with_attributes: bool) -> str:
    return f"{_LEADING_COLUMNS}, {'i.attributes' if with_attributes else 'NULL'}"


@functools.cache
def _interaction_statements(
    condition: str, keyset: str, with_attributes: bool
) -> tuple[TextClause, TextClause]:
    """The page and count statements for one combination of fixed filter clauses.

    ``condition`` and ``keyset`` are fixed clauses (a handful of combinations);
    every value is a bound parameter. The newest of each of the customer's
    records first (an index range each, so a customer with thousands of
    interactions costs no more than one with twenty), then the newest of those.
    """
    page_sql = (
        f"SELECT g.gid, {_view_columns(with_attributes)}"  # noqa: S608
        " FROM unnest(CAST(:ids AS bigint[])) AS g(gid)"
        " CROSS JOIN LATERAL (SELECT i.* FROM cross_reference x"
        "   CROSS JOIN LATERAL (SELECT i.* FROM interaction i"
        f"     WHERE i.source_record_id = x.source_record_id{condition}{keyset}"
        "     ORDER BY i.occurred_at DESC, i.id DESC LIMIT :limit) AS i"
        "   WHERE x.golden_id = g.gid"
        "   ORDER BY i.occurred_at DESC, i.id DESC LIMIT :limit) AS i"
        " JOIN source_system s ON s.id = i.source_id"
        " ORDER BY g.gid, i.occurred_at DESC, i.id DESC"
    )
    count_sql = (
        "SELECT x.golden_id, count(*) FROM interaction i"  # noqa: S608
        " JOIN cross_reference x ON x.source_record_id = i.source_record_id"
        f" WHERE x.golden_id = ANY(:ids){condition} GROUP BY x.golden_id"
    )
    return text(page_sql), text(count_sql)


def _interaction_cursor(view: InteractionView) -> str:
    return encode_keyset(epoch_micros(view.occurred_at), view.interaction_id)


def _page_parameters(query: InteractionQuery) -> tuple[str, str, dict[str, Any]]:
    """The fixed filter and keyset clauses of ``query`` and the values they bind."""
    condition, params = _interaction_filter(query)
    keyset = ""
    if query.after is not None:
        micros, last_id = decode_keyset(query.after, 2)
        keyset = " AND (i.occurred_at, i.id) < (:after_time, :after_id)"
        params |= {"after_time": from_epoch_micros(micros), "after_id": last_id}
    params["limit"] = query.first + 1
    return condition, keyset, params


_make_view = maker_of(InteractionView)


def _view(columns: Sequence[Any]) -> InteractionView:
    """The view of the columns of ``_view_columns`` (in that order), which are the
    view's fields in order (attributes not read are NULL: an empty mapping)."""
    return _make_view(columns if columns[12] is not None else (*columns[:12], {}))


def _page(
    items: list[InteractionView], total: int, query: InteractionQuery
) -> Page[InteractionView]:
    """The page of ``items`` (up to one more than the page, newest first)."""
    shown = items[: query.first]
    return Page(
        items=shown,
        cursors=Cursors(shown, _interaction_cursor),
        has_next_page=len(items) > query.first,
        has_previous_page=query.after is not None,
        total_count=total if query.with_total else -1,
    )


async def interactions_of(
    session: AsyncSession, golden_ids: Sequence[int], query: InteractionQuery
) -> dict[int, Page[InteractionView]]:
    """A page of interactions for each of ``golden_ids`` (two statements in all, one
    when ``query.with_total`` is off)."""
    if not golden_ids:
        return {}
    condition, keyset, params = _page_parameters(query)
    params["ids"] = list(golden_ids)
    page_sql, count_sql = _interaction_statements(condition, keyset, query.with_attributes)
    rows = await read_rows(session, page_sql, params)
    found: dict[int, list[InteractionView]] = {g: [] for g in golden_ids}
    # By position (a page of 50 customers reads 500 of these rows).
    for row in rows:
        found[row[0]].append(_view(row[1:]))
    counted: dict[int, int] = (
        dict(await read_rows(session, count_sql, params)) if query.with_total else {}
    )
    return {
        golden_id: _page(items, counted.get(golden_id, 0), query)
        for golden_id, items in found.items()
    }


@functools.cache
def _page_of_one(
    golden_id: str, condition: str, keyset: str, with_total: bool, with_attributes: bool
) -> tuple[Label[Any], ...]:
    """Columns holding the page of the customer ``golden_id`` (an SQL column of the
    statement they are added to) for one combination of fixed clauses: its rows as
    one array, and their count when ``with_total``."""
    rows = (
        text(
            f"SELECT array_agg(ROW({_view_columns(with_attributes)})"  # noqa: S608
            " ORDER BY i.occurred_at DESC, i.id DESC)"
            " FROM (SELECT i.* FROM cross_reference x"
            "   CROSS JOIN LATERAL (SELECT i.* FROM interaction i"
            f"     WHERE i.source_record_id = x.source_record_id{condition}{keyset}"
            "     ORDER BY i.occurred_at DESC, i.id DESC LIMIT :limit) AS i"
            f"   WHERE x.golden_id = {golden_id}"
            "   ORDER BY i.occurred_at DESC, i.id DESC LIMIT :limit) AS i"
            " JOIN source_system s ON s.id = i.source_id"
        )
        .columns(column("page", NullType()))
        .scalar_subquery()
        .label("interaction_page")
    )
    if not with_total:
        return (rows,)
    total = (
        text(
            "SELECT count(*) FROM interaction i"  # noqa: S608
            " JOIN cross_reference x ON x.source_record_id = i.source_record_id"
            f" WHERE x.golden_id = {golden_id}{condition}"
        )
        .columns(column("total", BigInteger()))
        .scalar_subquery()
        .label("interaction_total")
    )
    return rows, total


@dataclass(frozen=True, slots=True)
class PageAlong:
    """A customer's page of interactions read by the statement that reads the customer
    (a profile in one round trip instead of two): ``columns`` are added to the
    statement, ``page_from`` reads the page from the statement's row."""

    query: InteractionQuery
    columns: tuple[Label[Any], ...]
    parameters: dict[str, Any]

    @classmethod
    def of(cls, query: InteractionQuery, golden_id: str) -> PageAlong:
        """The page ``query`` asks of the customer whose id is the SQL column ``golden_id``."""
        condition, keyset, parameters = _page_parameters(query)
        columns = _page_of_one(
            golden_id, condition, keyset, query.with_total, query.with_attributes
        )
        return cls(query, columns, parameters)

    def page_from(self, row: Row[Any]) -> Page[InteractionView]:
        """The page in ``row`` (of a statement with ``columns``)."""
        mapping = row._mapping
        items = [_view(columns) for columns in mapping["interaction_page"] or ()]
        total = mapping["interaction_total"] if self.query.with_total else -1
        return _page(items, total, self.query)
