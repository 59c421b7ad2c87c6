"""Submitting department records: versions, validation, matching on arrival."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.db.models import ChangeEvent, GoldenRecord, MatchReview, SourceRecordVersion
from hub.errors import Invalid
from hub.matcher import Matcher, default_matcher
from hub.services.customers import get_customer, source_records_of
from hub.services.records import key_holders, retire_records, submit_records
from matching import parse_record
from matching.decide import Thresholds
from matching.model import default_model
from matching.standardize import standardize_record

FINANCE_XINGHE: dict[str, Any] = {
    "source_key": "FIN-1",
    "party_type": "organization",
    "name": "北京星河智能科技有限公司",
    "uscc": "91110108MA01C2X37M",
    "phones": ["010-62881234"],
    "address": "北京市海淀区中关村大街27号",
    "updated_at": "2026-09-01T08:00:00+08:00",
}
WEB_XINGHE: dict[str, Any] = {
    "source_key": "web-1",
    "party_type": "organization",
    "name": "北京星河智能科技有限公司",
    "uscc": "91110108MA01C2X37M",
    "name_en": "Beijing Xinghe Intelligent Technology Co., Ltd.",
    "emails": ["contact@xinghetech.cn"],
    "updated_at": "2026-10-01T08:00:00+08:00",
}
SHANGHAI_SIBLING: dict[str, Any] = {
    "source_key": "FIN-2",
    "party_type": "organization",
    "name": "上海星河智能科技有限公司",
    "uscc": "91310115MA1K3Y5P2D",
    "phones": ["021-58761234"],
    "address": "上海市浦东新区张江路368号",
}


async def submit(session: AsyncSession, source: str, *records: dict[str, Any]) -> Any:
    async with session.begin_nested():
        return await submit_records(session, source, list(records), actor="test")


async def count(session: AsyncSession, model: type[Any]) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_a_new_record_starts_a_golden_record(session: AsyncSession) -> None:
    result = await submit(session, "finance", FINANCE_XINGHE)
    assert (result.created, result.updated, result.unchanged, result.rejected) == (1, 0, 0, 0)
    outcome = result.outcomes[0]
    assert outcome.decision == "new"
    customer = await get_customer(session, outcome.golden_id)
    assert customer.attributes["name"] == "北京星河智能科技有限公司"
    assert customer.attributes["uscc"] == "91110108MA01C2X37M"
    assert customer.attributes["phones"] == ["+861062881234"]
    assert customer.attributes["address"]["region"] == "华北"
    assert customer.lineage["name"]["source"] == "finance"


async def test_an_unchanged_resubmission_is_a_no_op(session: AsyncSession) -> None:
    await submit(session, "finance", FINANCE_XINGHE)
    events = await count(session, ChangeEvent)
    again = await submit(session, "finance", FINANCE_XINGHE)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert await count(session, SourceRecordVersion) == 1
    assert await count(session, ChangeEvent) == events


async def test_a_changed_record_becomes_a_new_version_and_keeps_the_old(
    session: AsyncSession,
) -> None:
    first = await submit(session, "finance", FINANCE_XINGHE)
    moved = FINANCE_XINGHE | {"address": "北京市海淀区学院路30号"}
    second = await submit(session, "finance", moved)
    assert second.updated == 1
    assert second.outcomes[0].golden_id == first.outcomes[0].golden_id
    assert second.outcomes[0].decision == "kept"
    versions = (
        await session.execute(select(SourceRecordVersion.version, SourceRecordVersion.payload))
    ).all()
    assert sorted(v for v, _ in versions) == [1, 2]
    customer = await get_customer(session, first.outcomes[0].golden_id)
    assert customer.attributes["address"]["address"] == "北京市海淀区学院路30号"
    assert customer.version == 2


async def test_invalid_records_are_rejected_while_valid_ones_land(session: AsyncSession) -> None:
    result = await submit(
        session,
        "finance",
        FINANCE_XINGHE,
        {"source_key": "FIN-9", "party_type": "organization"},
        {"source_key": "FIN-10", "party_type": "robot", "name": "x"},
        "not an object",
    )
    assert (result.created, result.rejected) == (1, 3)
    by_index = {r.index: r for r in result.rejections}
    assert (by_index[1].field, by_index[1].message) == ("name", "is required")
    assert by_index[2].field == "party_type"
    assert "'robot'" in by_index[2].message
    assert by_index[3].field is None
    assert await count(session, SourceRecordVersion) == 1


async def test_a_record_naming_another_source_is_rejected(session: AsyncSession) -> None:
    result = await submit(session, "finance", FINANCE_XINGHE | {"source": "sales"})
    assert result.rejections[0].field == "source"


async def test_a_batch_over_the_limit_is_refused_whole(session: AsyncSession) -> None:
    records = [FINANCE_XINGHE | {"source_key": f"K{i}"} for i in range(3)]
    with pytest.raises(Invalid, match="at most 2 records"):
        await submit_records(session, "finance", records, actor="test", max_records=2)
    assert await count(session, SourceRecordVersion) == 0


async def test_the_same_company_from_two_departments_ends_in_one_golden_record(
    session: AsyncSession,
) -> None:
    finance = await submit(session, "finance", FINANCE_XINGHE)
    web = await submit(session, "web", WEB_XINGHE)
    assert web.outcomes[0].decision == "auto"
    golden_id = finance.outcomes[0].golden_id
    assert web.outcomes[0].golden_id == golden_id
    customer = await get_customer(session, golden_id)
    # Finance wins the legal name; the web site brings the English name and e-mail.
    assert customer.attributes["name_en"] == "Beijing Xinghe Intelligent Technology Co., Ltd."
    assert customer.attributes["emails"] == ["contact@xinghetech.cn"]
    refs = (await source_records_of(session, [golden_id]))[golden_id]
    assert {(r.source, r.source_key) for r in refs} == {("finance", "FIN-1"), ("web", "web-1")}


async def test_sibling_companies_in_other_regions_stay_apart(session: AsyncSession) -> None:
    beijing = await submit(session, "finance", FINANCE_XINGHE)
    shanghai = await submit(session, "finance", SHANGHAI_SIBLING)
    assert shanghai.outcomes[0].golden_id != beijing.outcomes[0].golden_id


async def test_a_branch_never_joins_its_parent(session: AsyncSession) -> None:
    parent = await submit(session, "finance", FINANCE_XINGHE)
    branch = await submit(
        session,
        "finance",
        FINANCE_XINGHE
        | {
            "source_key": "FIN-3",
            "name": "北京星河智能科技有限公司上海分公司",
            "uscc": None,
        },
    )
    assert branch.outcomes[0].golden_id != parent.outcomes[0].golden_id
    assert await count(session, MatchReview) == 0


async def test_retiring_the_only_record_retires_the_golden_record(session: AsyncSession) -> None:
    result = await submit(session, "finance", FINANCE_XINGHE)
    async with session.begin_nested():
        retired = await retire_records(session, "finance", ["FIN-1", "nope"])
    assert (retired.retired, retired.not_found) == (["FIN-1"], ["nope"])
    golden = await session.get_one(GoldenRecord, result.outcomes[0].golden_id)
    assert golden.status == "retired"
    kinds = (await session.execute(select(ChangeEvent.kind).order_by(ChangeEvent.seq))).scalars()
    assert list(kinds) == ["created", "retired"]


async def test_a_resubmitted_retired_record_comes_back(session: AsyncSession) -> None:
    await submit(session, "finance", FINANCE_XINGHE)
    async with session.begin_nested():
        await retire_records(session, "finance", ["FIN-1"])
    again = await submit(session, "finance", FINANCE_XINGHE)
    assert again.updated == 1
    golden = await session.get_one(GoldenRecord, again.outcomes[0].golden_id)
    assert golden.status == "active"


async def test_change_events_form_one_ordered_sequence(session: AsyncSession) -> None:
    await submit(session, "finance", FINANCE_XINGHE)
    await submit(session, "finance", SHANGHAI_SIBLING)
    await submit(session, "web", WEB_XINGHE)
    rows = (await session.execute(select(ChangeEvent).order_by(ChangeEvent.seq))).scalars().all()
    assert [r.kind for r in rows] == ["created", "created", "updated"]
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)


# A batch is placed record by record, in batch order, each seeing what the
# earlier ones did; it is written set-based.

LINK_EVERYTHING = Matcher(
    model=default_model(),
    thresholds=Thresholds(lower=-50.0, upper=-40.0, person_lower=-50.0, person_upper=-40.0),
)


async def test_one_customer_twice_in_one_batch_makes_one_golden_record(
    session: AsyncSession,
) -> None:
    duplicate = FINANCE_XINGHE | {"source_key": "FIN-1-dup", "phones": ["010 6288 1234"]}
    result = await submit(session, "finance", FINANCE_XINGHE, duplicate)
    first, second = result.outcomes
    assert (first.decision, second.decision) == ("new", "auto")
    assert first.golden_id == second.golden_id
    assert await count(session, GoldenRecord) == 1
    kinds = (await session.execute(select(ChangeEvent.kind))).scalars().all()
    assert kinds == ["created"]


async def test_a_record_linking_two_golden_records_merges_them_into_the_older(
    session: AsyncSession,
) -> None:
    older = (await submit(session, "finance", FINANCE_XINGHE)).outcomes[0].golden_id
    newer = (await submit(session, "finance", SHANGHAI_SIBLING)).outcomes[0].golden_id
    bridge = FINANCE_XINGHE | {"source_key": "web-9", "uscc": None}
    async with session.begin_nested():
        result = await submit_records(
            session, "web", [bridge], actor="test", matcher=LINK_EVERYTHING
        )
    assert result.outcomes[0].golden_id == older
    absorbed = await session.get_one(GoldenRecord, newer)
    assert (absorbed.status, absorbed.merged_into_id) == ("merged", older)
    refs = (await source_records_of(session, [older]))[older]
    assert {r.source_key for r in refs} == {"FIN-1", "FIN-2", "web-9"}


async def test_a_golden_record_started_in_a_batch_and_bridged_later_in_it_is_never_created(
    session: AsyncSession,
) -> None:
    stored = (await submit(session, "finance", FINANCE_XINGHE)).outcomes[0].golden_id
    goldens = await count(session, GoldenRecord)
    # The first record shares no key with the stored customer and starts its own;
    # the second links to both, so the one it started joins the stored one.
    unrelated = {
        "source_key": "S-1",
        "party_type": "organization",
        "name": "远景贸易",
        "phones": ["13911112222"],
    }
    bridge = unrelated | {"source_key": "S-2", "uscc": FINANCE_XINGHE["uscc"]}
    async with session.begin_nested():
        result = await submit_records(
            session, "sales", [unrelated, bridge], actor="test", matcher=LINK_EVERYTHING
        )
    assert [o.decision for o in result.outcomes] == ["new", "auto"]
    assert [o.golden_id for o in result.outcomes] == [stored, stored]
    assert await count(session, GoldenRecord) == goldens
    kinds = (await session.execute(select(ChangeEvent.kind).order_by(ChangeEvent.seq))).scalars()
    assert list(kinds) == ["created", "updated"]


async def test_a_batch_costs_the_same_statements_whatever_its_size(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    def companies(prefix: str, n: int) -> list[dict[str, Any]]:
        return [
            {
                "source_key": f"{prefix}-{i}",
                "party_type": "organization",
                "name": f"{city}{trade}科技有限公司",
                "phones": [f"1390000{i:04d}"],
                "city": city,
            }
            for i, (city, trade) in enumerate(
                (c, t) for c in ("北京", "上海", "广州", "成都") for t in TRADE_NAMES
            )
            if i < n
        ]

    # The first submission in a session also asks which database it talks to.
    await submit(session, "sales", *companies("warm-up", 1))
    counted = []
    for prefix, n in (("small", 4), ("large", 40)):
        statements = 0

        def tally(*_: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine.sync_engine, "before_cursor_execute", tally)
        try:
            result = await submit(session, "sales", *companies(prefix, n))
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", tally)
        assert result.created == n
        counted.append(statements)
    assert counted[0] == counted[1]


async def statements_to_submit(
    session: AsyncSession, engine: AsyncEngine, source: str, record: dict[str, Any]
) -> list[str]:
    """The statements one submission sends, less the test's own savepoints."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        await submit(session, source, record)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    return sent


async def test_one_record_costs_at_most_thirteen_statements_two_for_its_profile(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    # The first submission from a source also registers it.
    await submit(session, "finance", SHANGHAI_SIBLING)
    new_customer = await statements_to_submit(session, engine, "finance", FINANCE_XINGHE)
    changed = FINANCE_XINGHE | {"phones": ["010-62889999"], "updated_at": "2026-09-02T08:00:00Z"}
    new_version = await statements_to_submit(session, engine, "finance", changed)
    profile_tables = ("customer_metrics", "tier_cutoff", "classification", "credit_profile")
    for sent in (new_customer, new_version):
        # The metrics read back with the figures and tier cutoffs, then what the policies derive.
        assert sum(any(table in s for table in profile_tables) for s in sent) == 2
    assert len(new_customer) <= 11
    assert len(new_version) <= 13


TRADE_NAMES = (
    "星河", "蓝海", "恒通", "天成", "华信", "鼎盛", "金桥", "瑞丰", "宏图", "远航",
    "朝阳", "新元", "同创", "中科", "博远", "嘉禾",
)  # fmt: skip


async def test_a_key_held_by_more_records_than_the_cap_says_nothing(
    session: AsyncSession,
) -> None:
    group = [
        {
            "source_key": f"G-{i}",
            "party_type": "organization",
            "name": f"北京{trade}有限公司",
            "phones": ["010-62880000"],
        }
        for i, trade in enumerate(("星河科技", "蓝海物流", "恒通地产"))
    ]
    await submit(session, "finance", *group)
    switchboard = "o:phone:+861062880000"
    assert switchboard in default_matcher().keys(
        standardize_record(parse_record(group[0], source="finance"))
    )
    assert switchboard not in await key_holders(session, [switchboard], max_key_size=2)
    held = await key_holders(session, [switchboard], max_key_size=3)
    assert len(held[switchboard]) == 3


async def test_an_extra_attribute_keeps_an_integer_of_any_size(session: AsyncSession) -> None:
    ledger = 123456789012345678901234567890  # beyond 64 bits
    await submit(session, "finance", FINANCE_XINGHE | {"ledger_no": ledger, "branch_no": 7})
    session.expire_all()
    payload = (await session.execute(select(SourceRecordVersion.payload))).scalar_one()
    assert (payload["ledger_no"], payload["branch_no"]) == (ledger, 7)


REVIEW_EVERYTHING = Matcher(
    model=default_model(),
    thresholds=Thresholds(lower=-50.0, upper=500.0, person_lower=-50.0, person_upper=500.0),
)


async def test_an_uncertain_pair_is_queued_once_and_rescored_when_a_record_changes(
    session: AsyncSession,
) -> None:
    async def review(source: str, record: dict[str, Any]) -> Any:
        async with session.begin_nested():
            return await submit_records(
                session, source, [record], actor="test", matcher=REVIEW_EVERYTHING
            )

    await review("finance", FINANCE_XINGHE)
    queued = await review("web", WEB_XINGHE)
    assert queued.outcomes[0].decision == "review"
    (first,) = (await session.execute(select(MatchReview))).scalars()
    first_id, first_score = first.id, first.score
    assert first.status == "open"
    assert {first.left_record_id, first.right_record_id} == {
        record_id
        for (record_id,) in await session.execute(select(SourceRecordVersion.source_record_id))
    }

    # The web record changes: still uncertain, the same open review gets the new score.
    await review("web", WEB_XINGHE | {"phones": FINANCE_XINGHE["phones"]})
    session.expire_all()
    (again,) = (await session.execute(select(MatchReview))).scalars()
    assert again.id == first_id
    assert again.status == "open"
    assert again.score != first_score


async def test_a_review_floored_by_a_rule_says_which_rule_put_it_there(
    session: AsyncSession,
) -> None:
    # A rare name in one city, the second a homophone typo of it, one with a
    # landline and the other with a mobile: too little to link, too much to
    # call distinct; the floor that queues them is named.
    person = {"party_type": "person", "city": "苏州"}
    finance = person | {"source_key": "P-1", "name": "欧阳震华", "phones": ["0512-62881234"]}
    web = person | {"source_key": "W-1", "name": "欧阳振华", "phones": ["19945307123"]}
    async with session.begin_nested():
        await submit_records(session, "finance", [finance], actor="test")
    async with session.begin_nested():
        arrived = await submit_records(session, "web", [web], actor="test")
    assert arrived.outcomes[0].decision == "review"
    (queued,) = (await session.execute(select(MatchReview))).scalars()
    assert queued.explanation["rule"] == "rare_person_name_floor"
    assert queued.explanation["reason"]


LIU_BINPENG: dict[str, Any] = {"party_type": "person", "name": "刘斌鹏", "city": "苏州"}


@pytest.mark.parametrize("born", ["1980-05-01", None], ids=["told-apart", "not-told-apart"])
async def test_a_golden_record_another_of_whose_members_tells_the_record_apart_is_no_question(
    session: AsyncSession, born: str | None
) -> None:
    # 刘斌鹏 of finance and of the call centre share a mobile: one customer. A
    # web 刘斌鹏 with another mobile is a question against the call centre's
    # record, unless the finance record gives another birth date than his.
    mobile = ["13609144918"]
    await submit(session, "finance", LIU_BINPENG | {"source_key": "F-1", "phones": mobile})
    if born is not None:
        await submit(
            session,
            "finance",
            LIU_BINPENG | {"source_key": "F-1", "phones": mobile, "birth_date": born},
        )
    await submit(session, "callcenter", LIU_BINPENG | {"source_key": "C-1", "phones": mobile})
    assert await count(session, GoldenRecord) == 1

    web = LIU_BINPENG | {"source_key": "W-1", "phones": ["19945307123"], "birth_date": "1971-03-02"}
    arrived = await submit(session, "web", web)

    told_apart = born is not None
    assert arrived.outcomes[0].decision == ("new" if told_apart else "review")
    assert await count(session, MatchReview) == (0 if told_apart else 1)
