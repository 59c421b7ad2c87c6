"""Interactions follow the customer; metrics follow the interactions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import NotFound
from hub.services.credit import read_profile
from hub.services.interactions import (
    InteractionQuery,
    interactions_of,
    parse_interaction,
    record_interactions,
)
from hub.services.metrics import metrics_of
from hub.services.records import submit_records
from hub.services.stewardship import merge_customers, split_record

FINANCE: dict[str, Any] = {
    "source_key": "F-1",
    "party_type": "organization",
    "name": "杭州绿源物流有限公司",
    "uscc": "91330106MA2H4Q7R5Q",
}
SALES: dict[str, Any] = {
    "source_key": "S-1",
    "party_type": "organization",
    "name": "宁波海通贸易有限公司",
    "phones": ["13957123456"],
}


def order(key: str, customer: str, amount: str, when: str) -> dict[str, Any]:
    return {
        "interaction_key": key,
        "customer_key": customer,
        "type": "ORDER",
        "occurred_at": when,
        "amount": amount,
        "currency": "CNY",
    }


async def customer_of(session: AsyncSession, source: str, record: dict[str, Any]) -> int:
    async with session.begin_nested():
        result = await submit_records(session, source, [record], actor="t")
    golden_id = result.outcomes[0].golden_id
    assert golden_id is not None
    return golden_id


async def record(session: AsyncSession, source: str, *items: dict[str, Any]) -> Any:
    async with session.begin_nested():
        return await record_interactions(session, source, list(items))


async def test_orders_and_payments_make_the_metrics(session: AsyncSession) -> None:
    golden = await customer_of(session, "finance", FINANCE)
    now = datetime.now(UTC)
    await record(
        session,
        "finance",
        order("O-1", "F-1", "1000.10", "2020-01-05T10:00:00+08:00"),
        order("O-2", "F-1", "2500.00", now.isoformat()),
        {
            "interaction_key": "P-1",
            "customer_key": "F-1",
            "type": "PAYMENT",
            "occurred_at": now.isoformat(),
            "amount": "1000.10",
            "currency": "CNY",
            "due_date": "2026-01-10",
            "paid_date": "2026-01-16",
        },
        {
            "interaction_key": "C-1",
            "customer_key": "F-1",
            "type": "COMPLAINT",
            "occurred_at": now.isoformat(),
            "summary": "送货延迟",
        },
    )
    metrics = (await metrics_of(session, [golden]))[golden]
    assert metrics.transaction_count == 2
    assert metrics.transaction_amount == Decimal("3500.10")
    assert metrics.revenue_12m == Decimal("2500.00")
    assert metrics.average_days_late == 6
    assert metrics.open_complaints == 1
    assert metrics.open_receivables == Decimal("2500.00")
    assert metrics.first_transaction_at == datetime(2020, 1, 5, 2, tzinfo=UTC)


async def test_a_repeated_interaction_key_is_a_no_op(session: AsyncSession) -> None:
    await customer_of(session, "finance", FINANCE)
    first = await record(session, "finance", order("O-1", "F-1", "10.00", "2026-01-01T00:00:00Z"))
    again = await record(session, "finance", order("O-1", "F-1", "10.00", "2026-01-01T00:00:00Z"))
    assert (first.created, again.created, again.unchanged) == (1, 0, 1)


async def test_an_interaction_before_its_customer_attaches_when_the_record_arrives(
    session: AsyncSession,
) -> None:
    early = await record(session, "sales", order("O-9", "S-1", "99.00", "2026-03-01T00:00:00Z"))
    assert early.unattached == 1
    golden = await customer_of(session, "sales", SALES)
    page = (await interactions_of(session, [golden], InteractionQuery()))[golden]
    assert [i.interaction_key for i in page.items] == ["O-9"]


async def test_a_merge_carries_interactions_and_a_split_takes_them_back(
    session: AsyncSession,
) -> None:
    a = await customer_of(session, "finance", FINANCE)
    b = await customer_of(session, "sales", SALES)
    await record(session, "finance", order("O-1", "F-1", "100.00", "2026-01-01T00:00:00Z"))
    await record(session, "sales", order("O-2", "S-1", "50.00", "2026-02-01T00:00:00Z"))
    async with session.begin_nested():
        survivor = await merge_customers(session, [a, b], actor="steward")
    merged = (await metrics_of(session, [survivor]))[survivor]
    assert merged.transaction_amount == Decimal("150.00")
    page = (await interactions_of(session, [survivor], InteractionQuery()))[survivor]
    assert [i.interaction_key for i in page.items] == ["O-2", "O-1"]

    async with session.begin_nested():
        origin, moved = await split_record(session, "sales", "S-1", actor="steward")
    after = await metrics_of(session, [origin, moved])
    assert after[origin].transaction_amount == Decimal("100.00")
    assert after[moved].transaction_amount == Decimal("50.00")


async def test_history_pages_newest_first_with_type_and_time_filters(
    session: AsyncSession,
) -> None:
    golden = await customer_of(session, "finance", FINANCE)
    await record(
        session,
        "finance",
        *(order(f"O-{m}", "F-1", "1.00", f"2026-{m:02d}-01T00:00:00Z") for m in range(1, 7)),
        {
            "interaction_key": "V-1",
            "customer_key": "F-1",
            "type": "VISIT",
            "occurred_at": "2026-03-15T00:00:00Z",
        },
    )
    first = (await interactions_of(session, [golden], InteractionQuery(first=4)))[golden]
    assert [i.interaction_key for i in first.items] == ["O-6", "O-5", "O-4", "V-1"]
    assert (first.total_count, first.has_next_page) == (7, True)
    rest = (
        await interactions_of(session, [golden], InteractionQuery(first=4, after=first.cursors[-1]))
    )[golden]
    assert [i.interaction_key for i in rest.items] == ["O-3", "O-2", "O-1"]
    visits = (await interactions_of(session, [golden], InteractionQuery(types=("VISIT",))))[golden]
    assert [i.interaction_key for i in visits.items] == ["V-1"]
    spring = InteractionQuery(
        occurred_from=datetime(2026, 3, 1, tzinfo=UTC), occurred_to=datetime(2026, 5, 1, tzinfo=UTC)
    )
    window = (await interactions_of(session, [golden], spring))[golden]
    assert [i.interaction_key for i in window.items] == ["O-4", "V-1", "O-3"]
    # A page that shows no total runs no count; the items are the same.
    uncounted = (
        await interactions_of(session, [golden], InteractionQuery(first=4, with_total=False))
    )[golden]
    assert [i.interaction_key for i in uncounted.items] == ["O-6", "O-5", "O-4", "V-1"]
    assert (uncounted.total_count, uncounted.has_next_page) == (-1, True)


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        (
            {"customer_key": "F-1", "type": "ORDER", "occurred_at": "2026-01-01"},
            "interaction_key",
            "is required",
        ),
        (
            {
                "interaction_key": "k",
                "customer_key": "F-1",
                "type": "SALE",
                "occurred_at": "2026-01-01",
            },
            "type",
            "'SALE' is not one of",
        ),
        (
            {
                "interaction_key": "k",
                "customer_key": "F-1",
                "type": "ORDER",
                "occurred_at": "yesterday",
            },
            "occurred_at",
            "not an ISO timestamp",
        ),
        (
            {
                "interaction_key": "k",
                "customer_key": "F-1",
                "type": "ORDER",
                "occurred_at": "2026-01-01",
                "amount": "12.345",
                "currency": "CNY",
            },
            "amount",
            "more than two decimal places",
        ),
        (
            {
                "interaction_key": "k",
                "customer_key": "F-1",
                "type": "ORDER",
                "occurred_at": "2026-01-01",
                "amount": "12",
            },
            "currency",
            "required when an amount",
        ),
        (
            {
                "interaction_key": "k",
                "customer_key": "F-1",
                "type": "ORDER",
                "occurred_at": "2026-01-01",
                "amount": "NaN",
                "currency": "CNY",
            },
            "amount",
            "finite",
        ),
        (
            {
                "interaction_key": "k" * 201,
                "customer_key": "F-1",
                "type": "ORDER",
                "occurred_at": "2026-01-01",
            },
            "interaction_key",
            "at most 200 characters",
        ),
        (
            {
                "interaction_key": "k",
                "customer_key": "F-1",
                "type": "CALL",
                "occurred_at": "2026-01-01",
                "summary": "broken \ud800 text",
            },
            "summary",
            "valid Unicode",
        ),
        (
            {
                "interaction_key": "k",
                "customer_key": "F-1",
                "type": "CALL",
                "occurred_at": "2026-01-01",
                "score": float("nan"),
            },
            "attributes",
            "no NaN",
        ),
        (
            {
                "interaction_key": "k",
                "customer_key": "F-1",
                "type": "CALL",
                "occurred_at": "2026-01-01",
                "note": "a\x00b",
            },
            "attributes",
            "NUL",
        ),
    ],
)
def test_a_bad_interaction_is_refused_naming_the_field(
    given: dict[str, Any], field: str, message: str
) -> None:
    from hub.services.interactions import InteractionError

    with pytest.raises(InteractionError, match=message) as raised:
        parse_interaction(given)
    assert raised.value.field == field


def test_amounts_are_exact_decimals() -> None:
    parsed = parse_interaction(
        {
            "interaction_key": "k",
            "customer_key": "c",
            "type": "order",
            "occurred_at": "2026-01-01T00:00:00+08:00",
            "amount": 0.1,
            "currency": "cny",
        }
    )
    assert (parsed.amount, parsed.currency, parsed.type.value) == (Decimal("0.1"), "CNY", "ORDER")


async def test_a_batch_stores_its_good_interactions_and_names_each_bad_one(
    session: AsyncSession,
) -> None:
    golden = await customer_of(session, "finance", FINANCE)
    result = await record(
        session,
        "finance",
        order("O-1", "F-1", "10.00", "2026-01-01T00:00:00Z"),
        order("O-2", "F-1", "10.005", "2026-01-02T00:00:00Z"),
        {**order("O-3", "F-1", "1.00", "2026-01-03T00:00:00Z"), "interaction_key": "x" * 300},
        order("O-1", "F-1", "99.00", "2026-01-04T00:00:00Z"),
        order("O-4", "F-1", "20.00", "2026-01-05T00:00:00Z"),
    )
    assert (result.created, result.unchanged) == (2, 0)
    assert [(r.index, r.field) for r in result.rejections] == [
        (1, "amount"),
        (2, "interaction_key"),
        (3, "interaction_key"),
    ]
    page = (await interactions_of(session, [golden], InteractionQuery()))[golden]
    assert [i.interaction_key for i in page.items] == ["O-4", "O-1"]
    metrics = (await metrics_of(session, [golden]))[golden]
    assert metrics.transaction_amount == Decimal("30.00")


async def test_interactions_keep_every_field_as_sent(session: AsyncSession) -> None:
    golden = await customer_of(session, "finance", FINANCE)
    await record(
        session,
        "finance",
        {
            "interaction_key": "P-1",
            "customer_key": "F-1",
            "type": "payment",
            "occurred_at": "2026-02-01T10:30:00.123456+08:00",
            "channel": "bank transfer",
            "amount": "1234567890123.45",
            "currency": "usd",
            "due_date": "2026-01-31",
            "paid_date": "2026-02-01",
            "summary": "货款",
            "invoice": {"no": "INV-9", "lines": [1, 2]},
        },
    )
    [stored] = (await interactions_of(session, [golden], InteractionQuery()))[golden].items
    assert stored.type == "PAYMENT"
    assert stored.occurred_at == datetime(2026, 2, 1, 2, 30, 0, 123456, tzinfo=UTC)
    assert (stored.channel, stored.amount, stored.currency) == (
        "bank transfer",
        Decimal("1234567890123.45"),
        "USD",
    )
    assert (stored.due_date.isoformat(), stored.paid_date.isoformat()) == (  # type: ignore[union-attr]
        "2026-01-31",
        "2026-02-01",
    )
    assert (stored.summary, stored.attributes) == (
        "货款",
        {"invoice": {"no": "INV-9", "lines": [1, 2]}},
    )


async def test_pages_follow_timestamps_to_the_microsecond(session: AsyncSession) -> None:
    golden = await customer_of(session, "finance", FINANCE)
    moments = [f"2026-01-01T00:00:00.{n:06d}Z" for n in (999999, 999998, 1)]
    await record(
        session,
        "finance",
        *(order(f"O-{n}", "F-1", "1.00", when) for n, when in enumerate(moments)),
    )
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = (await interactions_of(session, [golden], InteractionQuery(first=1, after=after)))[
            golden
        ]
        seen += [i.interaction_key for i in page.items]
        after = page.cursors[-1]
    assert seen == ["O-0", "O-1", "O-2"]


async def test_a_cursor_beyond_any_date_is_refused_as_invalid(session: AsyncSession) -> None:
    from hub.domain import encode_keyset
    from hub.errors import Invalid

    golden = await customer_of(session, "finance", FINANCE)
    with pytest.raises(Invalid, match="not a cursor"):
        await interactions_of(session, [golden], InteractionQuery(after=encode_keyset(10**20, 1)))


async def test_a_profile_reads_the_same_page_as_the_listing_of_interactions(
    session: AsyncSession,
) -> None:
    a = await customer_of(session, "finance", FINANCE)
    b = await customer_of(session, "sales", SALES)
    await record(
        session,
        "finance",
        *(order(f"O-{m}", "F-1", f"{m}.50", f"2026-{m:02d}-01T00:00:00Z") for m in range(1, 7)),
    )
    await record(session, "sales", order("S-9", "S-1", "9.00", "2026-03-15T00:00:00Z"))
    async with session.begin_nested():
        survivor = await merge_customers(session, [a, b], actor="steward")
    merged_away = b if survivor == a else a
    first = InteractionQuery(first=3)
    queries = [
        first,
        InteractionQuery(first=10, with_total=False),
        InteractionQuery(types=("ORDER",), first=2),
        InteractionQuery(
            occurred_from=datetime(2026, 3, 1, tzinfo=UTC),
            occurred_to=datetime(2026, 5, 1, tzinfo=UTC),
        ),
        InteractionQuery(
            first=3, after=(await interactions_of(session, [survivor], first))[survivor].cursors[-1]
        ),
    ]
    now = datetime.now(UTC)
    for query in queries:
        listed = (await interactions_of(session, [survivor], query))[survivor]
        # A merged-away id reads its survivor's profile, as ``get_customer`` does.
        for asked in (survivor, merged_away):
            profile = await read_profile(session, asked, now=now, interactions=query)
            assert profile.customer.golden_id == survivor
            assert profile.customer.requested_id == asked
            assert profile.interactions is not None
            assert profile.interactions.items == listed.items
            assert list(profile.interactions.cursors) == list(listed.cursors)
            assert profile.interactions.total_count == listed.total_count
            assert profile.interactions.has_next_page == listed.has_next_page
            assert profile.interactions.has_previous_page == listed.has_previous_page
    assert (await read_profile(session, survivor, now=now)).interactions is None


async def test_a_profile_of_an_unknown_customer_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await read_profile(
            session, 987_654_321, now=datetime.now(UTC), interactions=InteractionQuery()
        )
