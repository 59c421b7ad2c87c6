"""Extension hooks run as Strawberry runs them, their lookup made once per class."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext
from strawberry.utils.str_converters import to_camel_case

from schema.hooks import HookRunner, NamesOnce


@strawberry.type
class Query:
    @strawberry.field
    def greeting(self) -> str:
        return "hello"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("broken on purpose")


class Recorder(SchemaExtension):
    """Writes down each stage it is in, and the error leaving it, if any."""

    log: list[str]

    def _stage(self, name: str) -> Iterator[None]:
        self.log.append(f"{type(self).__name__} {name} in")
        try:
            yield
        except Exception as error:
            self.log.append(f"{type(self).__name__} {name} raised {error}")
            raise
        self.log.append(f"{type(self).__name__} {name} out")

    def on_operation(self) -> Iterator[None]:
        yield from self._stage("operation")

    def on_parse(self) -> Iterator[None]:
        yield from self._stage("parse")

    def on_validate(self) -> Iterator[None]:
        yield from self._stage("validate")

    def on_execute(self) -> Iterator[None]:
        yield from self._stage("execute")


class Second(Recorder):
    """A second extension with every hook: stages with two hooks."""


class Parsing(SchemaExtension):
    """Only a parsing hook, as a plain method."""

    log: list[str]

    def on_parse(self) -> None:  # type: ignore[override]
        self.log.append("Parsing parse called")


class AsyncOperation(SchemaExtension):
    """An asynchronous operation hook."""

    log: list[str]

    async def on_operation(self) -> AsyncIterator[None]:
        self.log.append("AsyncOperation operation in")
        yield
        self.log.append("AsyncOperation operation out")


class Failing(SchemaExtension):
    """Refuses to execute."""

    def on_execute(self) -> Iterator[None]:
        raise RuntimeError("no execution today")
        yield  # pragma: no cover


class HookSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return HookRunner(execution_context=execution_context, extensions=extensions)


def _run(
    kinds: list[type[SchemaExtension]], query: str, *, runner: bool
) -> tuple[list[str], object, list[str]]:
    log: list[str] = []
    for kind in kinds:
        kind.log = log  # type: ignore[attr-defined]
    schema_class = HookSchema if runner else strawberry.Schema
    schema = schema_class(query=Query, extensions=kinds)
    result = asyncio.run(schema.execute(query))
    return log, result.data, [error.message for error in result.errors or []]


@pytest.mark.parametrize(
    "kinds",
    [
        [Recorder],
        [Recorder, Second],
        [Parsing, Recorder],
        [AsyncOperation, Recorder],
        [Recorder, Failing],
        [],
    ],
)
@pytest.mark.parametrize("query", ["{ greeting }", "{ broken }", "{ greeting", "{ unknown }"])
def test_hooks_run_in_strawberrys_order_with_its_outcome(
    kinds: list[type[SchemaExtension]], query: str
) -> None:
    assert _run(kinds, query, runner=True) == _run(kinds, query, runner=False)


def test_a_stage_with_one_hook_sees_the_error_raised_inside_it() -> None:
    # The operation stage has one hook (Recorder's), entered directly.
    log, data, errors = _run([Recorder, Failing], "{ greeting }", runner=True)
    assert log[-1] == "Recorder operation raised no execution today"
    assert data is None
    assert errors == ["no execution today"]


def test_a_hook_is_looked_up_once_per_extension_class(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []
    is_generator = inspect.isgeneratorfunction

    def counting(function: object) -> bool:
        looked_up.append(getattr(function, "__name__", "?"))
        return bool(is_generator(function))

    class Counted(Recorder):
        """A class of its own: hooks of classes seen before are already found."""

    monkeypatch.setattr("schema.hooks.isgeneratorfunction", counting)
    for _ in range(3):
        _run([Counted], "{ greeting }", runner=True)
    assert sorted(looked_up) == ["on_execute", "on_operation", "on_parse", "on_validate"]


def test_names_are_strawberrys_each_converted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    converted: list[str] = []
    convert = to_camel_case

    def counting(name: str) -> str:
        converted.append(name)
        return convert(name)

    monkeypatch.setattr("schema.hooks.to_camel_case", counting)
    names = NamesOnce()
    assert [names.apply_naming_config(n) for n in ("as_of", "id", "as_of")] == [
        NameConverter().apply_naming_config(n) for n in ("as_of", "id", "as_of")
    ]
    assert converted == ["as_of", "id"]
    assert NamesOnce(auto_camel_case=False).apply_naming_config("as_of") == "as_of"
