"""Refreshing golden records: what a refresh rewrites and what it leaves as it is."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.db.models import GoldenRecord, SearchToken
from hub.services.customers import get_customer
from hub.services.records import submit_records
from hub.services.search import SEARCHED_ATTRIBUTES, golden_tokens
from hub.services.stewardship import override_attribute

FINANCE_XINGHE: dict[str, Any] = {
    "source_key": "FIN-1",
    "party_type": "organization",
    "name": "北京星河智能科技有限公司",
    "uscc": "91110108MA01C2X37M",
    "phones": ["010-62881234"],
    "address": "北京市海淀区中关村大街27号",
    "updated_at": "2026-09-01T08:00:00+08:00",
}
# The same customer from sales: nothing one searches by that finance did not give.
SALES_XINGHE: dict[str, Any] = {
    "source_key": "S-1",
    "party_type": "organization",
    "name": "北京星河智能科技有限公司",
    "uscc": "91110108MA01C2X37M",
    "phones": ["010-62881234"],
    "industry": "软件和信息技术服务业",
    "updated_at": "2026-08-01T08:00:00+08:00",
}
# The same customer from the web shop, with a new phone and an e-mail.
WEB_XINGHE: dict[str, Any] = {
    "source_key": "web-1",
    "party_type": "organization",
    "name": "北京星河智能科技有限公司",
    "uscc": "91110108MA01C2X37M",
    "phones": ["13800138000"],
    "emails": ["contact@xinghetech.cn"],
    "updated_at": "2026-10-01T08:00:00+08:00",
}

_VALUES = st.recursive(
    st.none() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@given(
    st.dictionaries(
        st.sampled_from([*SEARCHED_ATTRIBUTES, "industry", "address", "gender", "contact_name"]),
        _VALUES,
    ),
    st.text(max_size=10),
)
def test_search_tokens_come_from_the_searched_attributes_alone(
    attributes: dict[str, Any], name: str
) -> None:
    attributes = {**attributes, "name": name, "phones": [], "identifiers": []}
    searched = {k: v for k, v in attributes.items() if k in SEARCHED_ATTRIBUTES}
    assert golden_tokens(attributes) == golden_tokens(searched)


async def submit(session: AsyncSession, source: str, record: dict[str, Any]) -> int:
    async with session.begin_nested():
        result = await submit_records(session, source, [record], actor="test")
    golden_id = result.outcomes[0].golden_id
    assert golden_id is not None
    return golden_id


async def stored_tokens(session: AsyncSession, golden_id: int) -> set[str]:
    rows = await session.execute(
        select(SearchToken.token).where(SearchToken.golden_id == golden_id)
    )
    return set(rows.scalars())


async def current_tokens(session: AsyncSession, golden_id: int) -> set[str]:
    golden = await session.get(GoldenRecord, golden_id, populate_existing=True)
    assert golden is not None
    return golden_tokens(golden.attributes)


async def test_a_record_adding_nothing_searched_leaves_the_tokens_alone(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    golden_id = await submit(session, "finance", FINANCE_XINGHE)
    before = await stored_tokens(session, golden_id)
    writes: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "search_token" in statement:
            writes.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        assert await submit(session, "sales", SALES_XINGHE) == golden_id
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    assert writes == []
    assert (
        await stored_tokens(session, golden_id)
        == before
        == await current_tokens(session, golden_id)
    )


async def test_a_record_adding_a_phone_makes_the_customer_findable_by_it(
    session: AsyncSession,
) -> None:
    golden_id = await submit(session, "finance", FINANCE_XINGHE)
    before = await stored_tokens(session, golden_id)
    assert await submit(session, "web", WEB_XINGHE) == golden_id
    after = await stored_tokens(session, golden_id)
    assert after == await current_tokens(session, golden_id)
    assert {"x:+8613800138000", "x:contact@xinghetech.cn"} <= after - before


async def test_a_record_joining_a_customer_keeps_its_stewards_pin(session: AsyncSession) -> None:
    golden_id = await submit(session, "finance", FINANCE_XINGHE)
    async with session.begin_nested():
        await override_attribute(session, golden_id, "industry", "logistics", actor="steward")
    assert await submit(session, "sales", SALES_XINGHE) == golden_id
    customer = await get_customer(session, golden_id)
    assert customer.attributes["industry"] == "logistics"
    assert customer.lineage["industry"]["rule"] == "override"
    assert customer.version == 3  # created, pinned, joined


async def test_a_renamed_customer_keeps_only_the_tokens_of_its_new_name(
    session: AsyncSession,
) -> None:
    golden_id = await submit(session, "finance", FINANCE_XINGHE)
    before = await stored_tokens(session, golden_id)
    async with session.begin_nested():
        await override_attribute(
            session, golden_id, "name", "上海云帆物流有限公司", actor="steward"
        )
    after = await stored_tokens(session, golden_id)
    assert after == await current_tokens(session, golden_id)
    assert before - after  # the old name's tokens went
    assert after - before  # the new name's came
    assert "x:+861062881234" in before & after  # the phone's stayed
