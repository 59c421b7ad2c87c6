"""The leaf shortcut answers exactly as Strawberry's own execution does, errors included."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import pytest
import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.permission import BasePermission
from strawberry.schema.types import base_scalars

from schema import execution
from schema.documents import CachedDocuments, DocumentCache
from schema.execution import LeafShortcutExecutionContext


@strawberry.enum
class Kind(Enum):
    ORDER = "ORDER"
    CALL = "CALL"


@strawberry.enum
class Mood(StrEnum):
    CALM = "calm"
    TENSE = "tense"


class Never(BasePermission):
    message = "never"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Tag:
    label: str

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("broken tag")

    @strawberry.field
    async def later(self) -> str:
        return self.label


@strawberry.type
class Item:
    name: str
    kind: Kind
    amount: Decimal | None
    at: datetime
    secret: str | None = strawberry.field(permission_classes=[Never], default="hidden")
    missing: str = strawberry.field(default=None)  # type: ignore[assignment]
    ratio: float = 0.5
    mood: Mood = Mood.CALM

    @strawberry.field(graphql_type=Mood)
    def mood_as_text(self) -> str:
        # The raw value, not the member: graphql-core looks it up among the values.
        return "tense"

    @strawberry.field
    def upper(self) -> str:
        return self.name.upper()

    @strawberry.field
    def broken(self) -> int:
        raise ValueError("broken on purpose")

    @strawberry.field
    def shout(self, times: int = 2) -> str:
        return self.name * times

    @strawberry.field
    def seen_by(self, info: strawberry.Info) -> str:
        return str(info.context["who"])

    @strawberry.field
    def picked(self, kinds: list[Kind], info: strawberry.Info) -> str:
        kinds.append(Kind.CALL)  # a list is the call's own, whatever it does with it
        return f"{info.field_name} {[k.value for k in kinds]}"

    @strawberry.field
    def stamped(self, at: datetime, note: str | None = None, scale: Decimal = Decimal(1)) -> str:
        return f"{self.name} {at.isoformat()} {note} {scale}"

    @strawberry.field
    async def later(self) -> str:
        return self.name

    @strawberry.field
    def tags(self) -> list[Tag]:
        return [Tag(label=f"{self.name}{n}") for n in range(3)]

    @strawberry.field
    def optional_tags(self) -> list[Tag] | None:
        return [Tag(label=self.name)]

    @strawberry.field
    def tag_or_none(self) -> list[Tag | None]:
        return [Tag(label=self.name), None]

    @strawberry.field(graphql_type=list[Tag])
    def bad_tags(self) -> list[Tag | None]:
        return [Tag(label=self.name), None]

    @strawberry.field
    def refused(self, info: strawberry.Info) -> str:
        raise PermissionError(f"not for {info.context['who']}")

    @strawberry.field
    def refused_maybe(self, info: strawberry.Info) -> str | None:
        raise PermissionError(f"not for {info.context['who']}")

    @strawberry.field(graphql_type=str)
    def seen_later(self, info: strawberry.Info) -> str | Awaitable[str]:
        async def later() -> str:
            return f"{self.name} for {info.context['who']}"

        return later() if self.name == "a" else self.name

    @strawberry.field
    def tag_seen_by(self, info: strawberry.Info) -> Tag | None:
        return Tag(label=str(info.context["who"])) if self.name == "a" else None


@strawberry.type
class Pair:
    first: Item
    second: Item | None
    absent: Item = strawberry.field(default=None)  # type: ignore[assignment]


@strawberry.type
class Entry:
    label: str
    tag: Tag
    note: str | None = None
    kind: Kind = Kind.ORDER


@strawberry.type
class Listing:
    """A connection's shape: lists and objects read off attributes, leaves below."""

    entries: list[Entry]
    more: list[Entry] | None = None
    total: int = 0


def _listing(*, bad: bool = False) -> Listing:
    entries = [
        Entry(label="x", tag=Tag(label="t1"), note="n"),
        Entry(label="y", tag=Tag(label="t2")),
    ]
    if bad:
        entries.append(None)  # type: ignore[arg-type]  # what a broken resolver might hand back
    return Listing(entries=entries, total=len(entries))


def _items() -> list[Item]:
    at = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    return [
        Item(name="a", kind=Kind.ORDER, amount=Decimal("12.50"), at=at),
        Item(name="b", kind=Kind.CALL, amount=None, at=at, missing="present"),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def pair(self) -> Pair:
        first, second = _items()
        return Pair(first=first, second=second)

    @strawberry.field
    def maybe(self) -> Pair | None:
        first, _ = _items()
        return Pair(first=first, second=None)

    @strawberry.field
    def listing(self) -> Listing:
        return _listing()

    @strawberry.field
    def listings(self) -> list[Listing]:
        return [_listing(), Listing(entries=[], more=[Entry(label="z", tag=Tag(label="t3"))])]

    @strawberry.field
    def bad_listing(self) -> Listing | None:
        return _listing(bad=True)


def _answer(query: str, shortcut: bool) -> tuple[Any, list[tuple[str, Any]]]:
    schema = strawberry.Schema(
        query=Query,
        execution_context_class=LeafShortcutExecutionContext if shortcut else None,
    )
    result = asyncio.run(schema.execute(query, context_value={"who": "tester"}))
    errors = sorted((e.message, e.path) for e in result.errors or [])
    return result.data, errors


@pytest.mark.parametrize(
    "query",
    [
        "{ items { name kind amount at ratio upper } }",
        "{ items { mood moodAsText kind } }",
        "{ items { n: name k: kind name n2: name __typename } }",
        "{ items { name secret } }",
        "{ items { name missing } }",
        "{ items { name broken } }",
        "{ items { shout shout3: shout(times: 3) seenBy later } }",
        "query($no: Boolean = false) { items { name @include(if: $no) kind @skip(if: $no) } }",
        "{ items { ...parts } } fragment parts on Item { name amount }",
        # Non-null objects read off an attribute, and errors bubbling through them.
        "{ pair { first { name kind upper } second { name } } maybe { first { at } } }",
        "{ maybe { first { name broken } second { name } } }",
        "{ pair { first { name broken } } }",
        "{ maybe { absent { name } } }",
        "{ maybe { first { later } } pair { first { name } } }",
        # Methods taking info: their errors, nullable or not, and awaitable answers.
        "{ items { name refused } }",
        "{ items { name refusedMaybe seenLater seenBy } }",
        "{ items { tagSeenBy { label later } } }",
        # Methods with arguments: converted once for every item, or (a list) per call.
        "{ items { shout s3: shout(times: 3) picked(kinds: [ORDER]) } }",
        '{ items { stamped(at: "2026-11-24T08:30:00+00:00", scale: "2.5") } }',
        '{ items { stamped(at: "not a time") } }',
        # Lists of objects: plain, nullable, with null items, errors and awaitables.
        "{ items { tags { label later } optionalTags { label } tagOrNone { label } } }",
        "{ items { name tags { label broken } } }",
        "{ items { name badTags { label } } }",
        "{ maybe { first { tags { label } } second { tags { label } } } }",
        # Whole objects of plain fields (a connection's edges and nodes) completed at once,
        # and what sends them back to the regular path: errors, awaitables, nulls.
        "{ listing { total entries { label note kind tag { label } } more { label } } }",
        "{ listings { total entries { label tag { label } } more { label tag { label } } } }",
        "{ listing { entries { label tag { label broken } } } }",
        "{ listing { entries { tag { later } } } }",
        "{ listing { entries { label __typename } } }",
        "{ badListing { total entries { label } } }",
        "{ listing { entries { ...entry } } } fragment entry on Entry { label tag { label } }",
        "query($on: Boolean = false) { listing { entries { label @include(if: $on) note } } }",
    ],
)
def test_the_shortcut_answers_as_strawberry_does(query: str) -> None:
    assert _answer(query, shortcut=True) == _answer(query, shortcut=False)


def test_objects_of_plain_fields_are_completed_at_once() -> None:
    Counting.regular = []
    Counting.items = 0
    schema = strawberry.Schema(query=Query, execution_context_class=Counting)
    result = asyncio.run(
        schema.execute("{ listings { total entries { label tag { label } } more { label } } }")
    )
    assert result.errors is None
    assert result.data is not None
    assert result.data["listings"][0]["entries"][1] == {"label": "y", "tag": {"label": "t2"}}
    # The lists read off attributes (``entries``, ``more``) took no regular path, and
    # no item was completed one step at a time.
    assert Counting.regular == []
    assert Counting.items == 0


def test_a_missing_non_null_leaf_is_reported_where_it_is() -> None:
    data, errors = _answer("{ items { name missing } }", shortcut=True)
    # Non-null all the way up: the null reaches the root.
    assert data is None
    assert errors == [
        ("Cannot return null for non-nullable field Item.missing.", ["items", 0, "missing"])
    ]


def test_plain_values_are_answered() -> None:
    data, errors = _answer("{ items { name kind amount at upper } }", shortcut=True)
    assert errors == []
    assert data == {
        "items": [
            {
                "name": "a",
                "kind": "ORDER",
                "amount": "12.50",
                "at": "2026-11-24T08:30:00+00:00",
                "upper": "A",
            },
            {
                "name": "b",
                "kind": "CALL",
                "amount": None,
                "at": "2026-11-24T08:30:00+00:00",
                "upper": "B",
            },
        ]
    }


class Counting(LeafShortcutExecutionContext):
    """Records the fields that went through graphql-core's own path, and how many
    list items did."""

    regular: list[str] = []  # noqa: RUF012 - reset by the test that reads it
    items = 0

    def execute_field(self, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        Counting.regular.append(details[0].node.name.value)
        return super().execute_field(parent_type, source, details, *rest)

    def complete_list_item_value(self, *args: Any) -> bool:
        Counting.items += 1
        return super().complete_list_item_value(*args)


SEEN: list[strawberry.Info] = []


@strawberry.type
class Probe:
    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        SEEN.append(info)
        return f"{info.field_name} {info.path.key} {info.context['who']}"


@strawberry.type
class ProbeRoot:
    @strawberry.field
    def probe(self) -> Probe:
        return Probe()


def test_plain_leaves_skip_the_regular_path_and_the_rest_take_it() -> None:
    Counting.regular = []
    schema = strawberry.Schema(query=Query, execution_context_class=Counting)
    query = (
        "{ items { name kind amount at upper shout secret seenBy later picked(kinds: [CALL])"
        " __typename } }"
    )
    result = asyncio.run(schema.execute(query, context_value={"who": "tester"}))
    assert result.data is not None
    assert result.data["items"][0]["seenBy"] == "tester"
    # Per item: one field behind a permission, an async one, one whose argument
    # is a list, and the meta field. Plain leaves and methods of the type (with
    # info, or arguments that are plain values) are called directly.
    assert sorted(set(Counting.regular)) == ["__typename", "later", "picked", "secret"]
    assert Counting.regular.count("picked") == 2


def test_a_method_taking_info_gets_the_info_strawberry_would_pass() -> None:
    SEEN.clear()
    schema = strawberry.Schema(query=ProbeRoot, execution_context_class=Counting)
    Counting.regular = []
    result = asyncio.run(
        schema.execute("{ probe { here: where } }", context_value={"who": "tester"})
    )
    assert result.data == {"probe": {"here": "where here tester"}}
    assert Counting.regular == []
    assert isinstance(SEEN[0], strawberry.Info)
    assert SEEN[0].selected_fields[0].alias == "here"


def test_list_items_that_are_objects_skip_the_completion_chain() -> None:
    Counting.regular = []
    Counting.items = 0
    schema = strawberry.Schema(query=Query, execution_context_class=Counting)
    result = asyncio.run(schema.execute("{ items { tags { label } tagOrNone { label } } }"))
    assert result.errors is None
    # Lists of non-null objects complete their items at once; a list whose items
    # may be null (``tagOrNone``, two items per item) takes graphql-core's steps.
    assert Counting.items == 2 * 2
    assert Counting.regular == []


def test_plain_non_null_objects_skip_the_regular_path_unless_directives_read_variables() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=Counting)
    Counting.regular = []
    asyncio.run(schema.execute("{ pair { first { name } second { name } } }"))
    # ``first`` is a non-null object read off an attribute; ``second`` may be null
    # (``pair``, a method of the root, is called directly).
    assert sorted(Counting.regular) == ["second"]
    Counting.regular = []
    asyncio.run(
        schema.execute(
            "query($on: Boolean!) { pair { first { name @include(if: $on) } } }",
            variable_values={"on": True},
        )
    )
    assert Counting.regular == ["first"]


def _answers_with_cached_documents(
    query: str, runs: list[dict[str, Any]]
) -> list[tuple[Any, list[tuple[str, Any]]]]:
    """Each run of ``query`` on one schema whose documents are cached, as the hub's are:
    the same syntax tree every time, so collected fields may be reused."""
    documents = DocumentCache()
    schema = strawberry.Schema(
        query=Query,
        execution_context_class=LeafShortcutExecutionContext,
        extensions=[lambda: CachedDocuments(documents)],
    )
    answers = []
    for variables in runs:
        result = asyncio.run(
            schema.execute(query, variable_values=variables, context_value={"who": "tester"})
        )
        answers.append((result.data, sorted((e.message, e.path) for e in result.errors or [])))
    return answers


@pytest.mark.parametrize(
    ("query", "runs"),
    [
        # Directives read the variables: what is collected differs from run to run.
        (
            "query($on: Boolean!) { items { name @include(if: $on) kind @skip(if: $on) } }",
            [{"on": True}, {"on": False}, {"on": True}],
        ),
        (
            "query($on: Boolean!) { items { ...parts @include(if: $on) upper } } "
            "fragment parts on Item { name amount }",
            [{"on": False}, {"on": True}],
        ),
        # Directives on root fields: the root fields collected differ from run to run.
        (
            "query($on: Boolean!) { items @include(if: $on) { name } listing { total } }",
            [{"on": True}, {"on": False}, {"on": True}],
        ),
        # Without directives the same fields are collected; arguments still follow.
        ("query($n: Int!) { items { name shout(times: $n) } }", [{"n": 1}, {"n": 3}]),
        # Arguments written in the operation are converted once for all runs; those
        # read from variables (at any depth) in each run.
        (
            "query($n: Int!, $k: Kind!) { items { s2: shout(times: 2) shout(times: $n) "
            "picked(kinds: [ORDER, $k]) } }",
            [{"n": 1, "k": "CALL"}, {"n": 3, "k": "ORDER"}],
        ),
        # Shapes of whole objects are kept with the plans: each run reads its own values.
        (
            "query($n: Int!) { listing { entries { label tag { label } } } "
            "items { shout(times: $n) } }",
            [{"n": 1}, {"n": 3}],
        ),
        (
            "query($on: Boolean!) { listing { entries { label tag { label @skip(if: $on) } } } }",
            [{"on": True}, {"on": False}],
        ),
    ],
)
def test_a_repeated_operation_answers_each_run_as_strawberry_does(
    query: str, runs: list[dict[str, Any]]
) -> None:
    expected = []
    for variables in runs:
        schema = strawberry.Schema(query=Query)
        result = asyncio.run(
            schema.execute(query, variable_values=variables, context_value={"who": "tester"})
        )
        expected.append((result.data, sorted((e.message, e.path) for e in result.errors or [])))
    assert _answers_with_cached_documents(query, runs) == expected


def test_arguments_written_in_the_operation_are_converted_once_for_all_its_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    converted: list[dict[str, Any]] = []
    convert = execution.convert_arguments

    def counting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        arguments = convert(*args, **kwargs)
        converted.append(arguments)
        return arguments

    monkeypatch.setattr(execution, "convert_arguments", counting)
    answers = _answers_with_cached_documents(
        "query($n: Int!) { items { s3: shout(times: 3) shout(times: $n) } }",
        [{"n": 1}, {"n": 2}, {"n": 1}],
    )
    assert [data["items"][0] for data, _ in answers] == [
        {"s3": "aaa", "shout": "a"},
        {"s3": "aaa", "shout": "aa"},
        {"s3": "aaa", "shout": "a"},
    ]
    # Once for the written argument, once per run for the variable.
    assert sorted(a["times"] for a in converted) == [1, 1, 2, 3]


def test_the_root_fields_of_a_repeated_operation_are_planned_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planned: list[list[str]] = []
    make_plan = LeafShortcutExecutionContext._make_plan

    def counting(self: LeafShortcutExecutionContext, parent_type: Any, fields: Any) -> Any:
        planned.append(list(fields))
        return make_plan(self, parent_type, fields)

    monkeypatch.setattr(LeafShortcutExecutionContext, "_make_plan", counting)
    answers = _answers_with_cached_documents(
        "query($n: Int!) { listing { total } items { shout(times: $n) } }",
        [{"n": 1}, {"n": 2}, {"n": 3}],
    )
    assert [data["items"][0]["shout"] for data, _ in answers] == ["a", "aa", "aaa"]
    assert planned.count(["listing", "items"]) == 1


@settings(max_examples=500)
@given(moment=st.datetimes(timezones=st.just(UTC)))
def test_a_datetime_in_utc_is_written_as_isoformat_writes_it(moment: datetime) -> None:
    coerce = execution._faster_isoformat(base_scalars.isoformat)
    assert coerce(moment) == moment.isoformat()


@given(
    moment=st.datetimes(
        timezones=st.none()
        | st.builds(
            timezone,
            st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)),
        )
    )
)
def test_any_other_datetime_is_written_by_isoformat(moment: datetime) -> None:
    coerce = execution._faster_isoformat(base_scalars.isoformat)
    assert coerce(moment) == moment.isoformat()


class CountingCompletions(LeafShortcutExecutionContext):
    """Counts the values that went through ``complete_value``."""

    completed: list[str] = []  # noqa: RUF012 - reset by the test that reads it

    def complete_value(self, return_type: Any, details: Any, *rest: Any) -> Any:
        CountingCompletions.completed.append(details[0].node.name.value)
        return super().complete_value(return_type, details, *rest)


def test_what_a_method_returns_is_completed_by_its_shape_unless_it_needs_more() -> None:
    CountingCompletions.completed = []
    schema = strawberry.Schema(query=Query, execution_context_class=CountingCompletions)
    result = asyncio.run(schema.execute("{ items { name tags { label } } }"))
    assert result.errors is None
    assert result.data == _answer("{ items { name tags { label } } }", shortcut=False)[0]
    # ``tags`` (a method's list of plain objects) took no completion step.
    assert "tags" not in CountingCompletions.completed
    CountingCompletions.completed = []
    result = asyncio.run(schema.execute("{ items { name tags { label broken } } }"))
    # A tag that raises sends the list back to ``complete_value``, which reports it.
    assert "tags" in CountingCompletions.completed
    assert result.errors is not None
    assert [error.path for error in result.errors] == [["items", 0, "tags", 0, "broken"]]
