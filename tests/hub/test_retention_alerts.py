"""Retention alerts are raised when a good customer starts leaving, kept, and cleared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.recompute import recompute_all
from hub.services.interactions import record_interactions
from hub.services.records import submit_records
from hub.services.retention import list_open_retention_alerts, retention_alerts_of
from hub.services.stewardship import merge_customers

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# Different trade names and streets: customers the matcher keeps apart.
COMPANIES = {
    "K1": ("上海恒通机械有限公司", "上海市浦东新区张江路368号"),
    "K2": ("杭州绿源物流有限公司", "杭州市西湖区文三路100号"),
}


async def customer(session: AsyncSession, key: str) -> int:
    name, address = COMPANIES[key]
    async with session.begin_nested():
        result = await submit_records(
            session,
            "finance",
            [{"source_key": key, "party_type": "organization", "name": name, "address": address}],
            actor="t",
        )
    golden_id = result.outcomes[0].golden_id
    assert golden_id is not None
    return golden_id


async def record(session: AsyncSession, now: datetime, *items: dict[str, Any]) -> None:
    async with session.begin_nested():
        await record_interactions(session, "finance", list(items), now=now)


def order(key: str, n: int, when: datetime) -> dict[str, Any]:
    return {
        "interaction_key": f"{key}-O{n}",
        "customer_key": key,
        "type": "ORDER",
        "occurred_at": when.isoformat(),
        "amount": "50000.00",
        "currency": "CNY",
    }


def close_request(key: str, when: datetime) -> dict[str, Any]:
    return {
        "interaction_key": f"{key}-CALL-close",
        "customer_key": key,
        "type": "CALL",
        "occurred_at": when.isoformat(),
        "summary": "客户来电申请注销账户",
    }


async def key_account(session: AsyncSession, key: str) -> int:
    """A customer that ordered every month of the year before T0 (KEY, ACTIVE at T0)."""
    golden_id = await customer(session, key)
    await record(session, T0, *(order(key, m, T0 - timedelta(days=10 + 30 * m)) for m in range(12)))
    return golden_id


async def test_a_key_customer_turning_dormant_raises_an_alert_that_is_kept_until_it_buys_again(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    golden = await key_account(session, "K1")
    await recompute_all(sessions, now=T0)
    assert (await retention_alerts_of(session, [golden])) == {}

    dormant_day = T0 + timedelta(days=200)
    await recompute_all(sessions, now=dormant_day)
    await recompute_all(sessions, now=dormant_day + timedelta(days=1))
    [alert] = (await retention_alerts_of(session, [golden]))[golden]
    assert (alert.reason, alert.raised_at, alert.is_open) == ("KEY_DORMANT", dormant_day, True)
    assert "a KEY customer is DORMANT" in alert.rule
    assert (alert.inputs["tier"], alert.inputs["lifecycle"]) == ("KEY", "DORMANT")

    back_day = dormant_day + timedelta(days=2)
    await record(session, back_day, order("K1", 99, back_day))
    [cleared] = (await retention_alerts_of(session, [golden]))[golden]
    assert (cleared.alert_id, cleared.raised_at) == (alert.alert_id, dormant_day)
    assert cleared.cleared_at == back_day
    assert cleared.cleared_rule is not None
    assert cleared.cleared_rule.startswith("no alert")
    assert (await list_open_retention_alerts(session, first=10)).total_count == 0


async def test_a_customer_dormant_again_raises_a_new_alert_and_keeps_the_old_one(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    golden = await key_account(session, "K1")
    first_time = T0 + timedelta(days=200)
    await recompute_all(sessions, now=first_time)
    await record(session, first_time + timedelta(days=1), order("K1", 99, first_time))
    second_time = first_time + timedelta(days=200)
    await recompute_all(sessions, now=second_time)
    alerts = (await retention_alerts_of(session, [golden]))[golden]
    assert [(a.raised_at, a.is_open) for a in alerts] == [(second_time, True), (first_time, False)]


async def test_asking_to_close_an_account_raises_an_alert_until_the_request_is_stale(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    golden = await customer(session, "K2")
    await record(session, T0, close_request("K2", T0))
    [alert] = (await retention_alerts_of(session, [golden]))[golden]
    assert (alert.reason, alert.raised_at, alert.is_open) == ("CLOSE_REQUESTED", T0, True)
    assert "asked to close an account 0 days ago" in alert.rule

    stale = T0 + timedelta(days=91)
    await recompute_all(sessions, now=stale)
    [cleared] = (await retention_alerts_of(session, [golden]))[golden]
    assert cleared.cleared_at == stale


async def test_open_alerts_are_listed_newest_first_page_by_page(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    older = await customer(session, "K1")
    await record(session, T0, close_request("K1", T0))
    newer = await customer(session, "K2")
    await record(session, T0 + timedelta(hours=1), close_request("K2", T0 + timedelta(hours=1)))

    first = await list_open_retention_alerts(session, first=1)
    assert [a.golden_id for a in first.items] == [newer]
    assert (first.total_count, first.has_next_page) == (2, True)
    rest = await list_open_retention_alerts(session, first=1, after=first.cursors[-1])
    assert [a.golden_id for a in rest.items] == [older]
    assert rest.has_next_page is False
    only_close = await list_open_retention_alerts(session, first=10, reason="KEY_DORMANT")
    assert only_close.items == []


async def test_a_merged_customers_alert_is_cleared_and_the_survivor_raises_its_own(
    session: AsyncSession,
) -> None:
    survivor = await customer(session, "K1")
    absorbed = await customer(session, "K2")
    asked = datetime.now(UTC) - timedelta(days=1)
    await record(session, asked + timedelta(minutes=1), close_request("K2", asked))
    async with session.begin_nested():
        merged = await merge_customers(session, [survivor, absorbed], actor="steward")
    assert merged == survivor

    alerts = await retention_alerts_of(session, [survivor, absorbed])
    [old] = alerts[absorbed]
    assert old.cleared_rule == f"merged into C{survivor}"
    [new] = alerts[survivor]
    assert (new.reason, new.is_open) == ("CLOSE_REQUESTED", True)
    listed = await list_open_retention_alerts(session, first=10)
    assert [a.golden_id for a in listed.items] == [survivor]
