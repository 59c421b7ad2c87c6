"""``hub recompute``: every customer's profile, as the policies say, whatever the batch size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.db.engine import session_factory
from hub.db.models import CreditDecision, CreditProfile
from hub.policies import (
    Tier,
    assess,
    classify,
    default_classification_rules,
    default_credit_policy,
)
from hub.recompute import recompute_all
from hub.services.credit import classifications_of, credit_of
from hub.services.interactions import record_interactions
from hub.services.profile import current_cutoffs, load_figures
from hub.services.records import submit_records

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
# Different trade names, cities and ownerships: customers the matcher keeps apart.
COMPANIES = [
    ("北京华宇机械有限公司", "北京市海淀区中关村大街27号", "国有企业"),
    ("广州南粤物流有限公司", "广州市天河区体育西路88号", "私营企业"),
    ("成都蜀信电器有限公司", "成都市武侯区人民南路四段12号", "中外合资"),
    ("西安秦川冶金有限公司", "西安市雁塔区长安南路300号", "政府机关"),
]


async def customers(session: AsyncSession) -> list[int]:
    """Four customers: three with orders of different sizes and ages, one prospect."""
    ids = []
    for n, (name, address, ownership) in enumerate(COMPANIES):
        key = f"F-{n}"
        async with session.begin_nested():
            result = await submit_records(
                session,
                "finance",
                [
                    {
                        "source_key": key,
                        "party_type": "organization",
                        "name": name,
                        "address": address,
                        "ownership": ownership,
                    }
                ],
                actor="t",
            )
        golden_id = result.outcomes[0].golden_id
        assert golden_id is not None
        ids.append(golden_id)
        items: list[dict[str, Any]] = [
            {
                "interaction_key": f"{key}-O{m}",
                "customer_key": key,
                "type": "ORDER",
                "occurred_at": (T0 - timedelta(days=5 + 40 * m * (n + 1))).isoformat(),
                "amount": f"{10_000 * (n + 1) ** 3}.00",
                "currency": "CNY",
            }
            for m in range(3 - n)
        ]
        if items:
            async with session.begin_nested():
                await record_interactions(session, "finance", items, now=T0)
    return ids


async def test_recompute_stores_what_the_policies_say(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await customers(session)
    done = await recompute_all(sessions, now=T0, batch_size=3)
    assert done == len(ids)

    await assert_stored_as_the_policies_say(session, ids)


async def assert_stored_as_the_policies_say(session: AsyncSession, ids: list[int]) -> None:
    rules, policy = default_classification_rules(), default_credit_policy()
    cutoffs = await current_cutoffs(session, rules, now=T0)
    stored = await classifications_of(session, ids)
    assert stored.keys() == set(ids)
    credit = await credit_of(session, ids, now=T0)
    for figures in await load_figures(session, ids):
        expected = sorted(classify(figures, cutoffs, rules, T0), key=lambda r: r.dimension.value)
        views = stored[figures.golden_id]
        assert [(v.dimension, v.value, v.rule, v.inputs) for v in views] == [
            (r.dimension.value, r.value, r.rule, r.inputs) for r in expected
        ]
        assessment = assess(figures, Tier(views[-1].value), policy, T0)
        view = credit[figures.golden_id]
        assert (view.rating, view.recommended_limit, view.settlement_terms) == (
            assessment.rating.value,
            assessment.recommended_limit,
            assessment.settlement_terms.value,
        )
        assert view.inputs["reasons"] == assessment.reasons
    assert {views[-1].value for views in stored.values()} >= {"KEY", "OCCASIONAL"}


async def test_the_batch_size_does_not_change_the_result(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await customers(session)
    results = []
    for batch_size in (1, 3, 1000):
        trial = await session.begin_nested()
        await recompute_all(sessions, now=T0, batch_size=batch_size)
        results.append(
            (await classifications_of(session, ids), await credit_of(session, ids, now=T0))
        )
        await trial.rollback()
    assert results[0] == results[1] == results[2]
    assert len(results[0][0]) == len(ids)


async def test_a_classification_that_still_holds_keeps_the_moment_it_was_decided(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    [first, *_] = await customers(session)
    await recompute_all(sessions, now=T0)
    decided = (await classifications_of(session, [first]))[first]
    next_hour = T0 + timedelta(hours=1)
    await recompute_all(sessions, now=next_hour)
    assert (await classifications_of(session, [first]))[first] == decided
    assert {v.computed_at for v in decided} == {T0}

    dormant = T0 + timedelta(days=200)
    await recompute_all(sessions, now=dormant)
    changed = {v.dimension: v for v in (await classifications_of(session, [first]))[first]}
    assert changed["lifecycle"].value == "DORMANT"
    assert changed["lifecycle"].computed_at == dormant
    assert changed["lifecycle"].inputs["as_of"] == dormant.isoformat()


async def test_first_limits_are_recorded_once(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await customers(session)
    await recompute_all(sessions, now=T0)
    await recompute_all(sessions, now=T0 + timedelta(days=1))
    limited = list(
        (
            await session.execute(
                select(CreditProfile.golden_id).where(
                    CreditProfile.golden_id.in_(ids), CreditProfile.current_limit.is_not(None)
                )
            )
        ).scalars()
    )
    decisions = (
        await session.execute(
            select(CreditDecision.golden_id).where(
                CreditDecision.golden_id.in_(ids), CreditDecision.kind == "policy"
            )
        )
    ).scalars()
    assert sorted(decisions) == sorted(limited)
    assert len(limited) >= 1


async def test_worker_processes_store_what_the_policies_say(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = session_factory(committed_engine)
    async with sessions() as session, session.begin():
        ids = await customers(session)
    # One job per two ids: the four customers spread over both workers.
    monkeypatch.setattr("hub.recompute.JOB_IDS", 2)

    done = await recompute_all(sessions, now=T0, workers=2, batch_size=1)

    assert done == len(ids)
    async with sessions() as session:
        await assert_stored_as_the_policies_say(session, ids)


async def test_worker_processes_refuse_sessions_inside_a_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(ValueError, match="bound to an engine"):
        await recompute_all(sessions, now=T0, workers=1)
