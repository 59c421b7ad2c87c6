"""Running the schema extensions' hooks without Strawberry's per-request reflection
(and naming its arguments without converting each name again).

Strawberry runs each lifecycle stage (operation, parsing, validation, executing)
of every request in a context manager that, each time, looks every extension's
hook up by name, asks ``inspect`` what kind of function it is, wraps it in a
fresh ``contextlib.contextmanager`` (``functools.wraps`` and all) and enters it
through an ``AsyncExitStack``, even when no extension has that hook. That was
about a tenth of a profile query's time. The hooks of a class never change, so
their kind and wrapper are found once per extension class and stage; a stage
with no hook does nothing, and one with a single synchronous hook enters it
directly (an exit stack of one context manager behaves as the manager itself).
Hooks run in the same order, with the same arguments, as Strawberry runs them;
anything else (several hooks, async hooks, plain callables) goes through
Strawberry's own code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import partial
from inspect import isgeneratorfunction
from types import TracebackType

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.name_converter import NameConverter
from strawberry.utils.str_converters import to_camel_case

__all__ = ["HookRunner", "NamesOnce"]

GeneratorHook = Callable[[SchemaExtension], contextlib.AbstractContextManager[None]]


# Per extension class and stage; classes are few and made once (the schema's).
_GENERATOR_HOOKS: dict[tuple[type[SchemaExtension], str], GeneratorHook | None] = {}


def generator_hook(extension_class: type[SchemaExtension], stage: str) -> GeneratorHook | None:
    """The context manager factory of ``extension_class``'s generator hook for ``stage``
    (called with the extension), or None when it has no such hook or one of
    another kind."""
    key = (extension_class, stage)
    if key not in _GENERATOR_HOOKS:
        hook: Callable[..., Iterator[None]] = getattr(extension_class, stage)
        _GENERATOR_HOOKS[key] = (
            contextlib.contextmanager(hook)
            if has_hook(extension_class, stage) and isgeneratorfunction(hook)
            else None
        )
    return _GENERATOR_HOOKS[key]


def has_hook(extension_class: type[SchemaExtension], stage: str) -> bool:
    """Whether ``extension_class`` overrides ``stage``'s hook."""
    return getattr(extension_class, stage) is not getattr(SchemaExtension, stage)


class _Stage(ExtensionContextManagerBase):
    """A stage's hooks, looked up once per extension class; entered directly when
    there is at most one synchronous hook."""

    __slots__ = ("_entered",)

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        factory = generator_hook(type(extension), self.HOOK_NAME)
        if factory is not None:
            return WrappedHook(
                extension=extension, hook=partial(factory, extension), is_async=False
            )
        if not has_hook(type(extension), self.HOOK_NAME):
            return None
        return super().get_hook(extension)

    def _direct(self) -> bool:
        return len(self.hooks) == 0 or (len(self.hooks) == 1 and not self.hooks[0].is_async)

    def _enter_directly(self) -> None:
        self._entered: contextlib.AbstractContextManager[None] | None = None
        if self.hooks:
            manager: contextlib.AbstractContextManager[None] = self.hooks[0].hook()  # type: ignore[assignment]
            manager.__enter__()
            self._entered = manager

    def _exit_directly(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        if self._entered is None:
            return False
        return bool(self._entered.__exit__(exc_type, exc_val, exc_tb))

    def __enter__(self) -> None:
        if self._direct():
            self._enter_directly()
        else:
            super().__enter__()

    def __exit__(  # type: ignore[override]
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        if self._direct():
            return self._exit_directly(exc_type, exc_val, exc_tb)
        super().__exit__(exc_type, exc_val, exc_tb)
        return None

    async def __aenter__(self) -> None:
        if self._direct():
            self._enter_directly()
        else:
            await super().__aenter__()

    async def __aexit__(  # type: ignore[override]
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        if self._direct():
            return self._exit_directly(exc_type, exc_val, exc_tb)
        await super().__aexit__(exc_type, exc_val, exc_tb)
        return None


class _Operation(_Stage, OperationContextManager):
    __slots__ = ()


class _Parsing(_Stage, ParsingContextManager):
    __slots__ = ()


class _Validation(_Stage, ValidationContextManager):
    __slots__ = ()


class _Executing(_Stage, ExecutingContextManager):
    __slots__ = ()


class HookRunner(SchemaExtensionsRunner):
    """Strawberry's extensions runner with the stages above."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)


class NamesOnce(NameConverter):
    """Strawberry's names, each Python name turned into camel case once.

    Strawberry converts every argument's name on every call of a resolver with
    arguments (to find its value among those given), character by character:
    part of the per-request cost of a profile's ``customer(id:)``. The names
    are the schema's, a fixed few.
    """

    def __init__(self, auto_camel_case: bool = True) -> None:
        super().__init__(auto_camel_case=auto_camel_case)
        self._camel_case: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        if not self.auto_camel_case:
            return name
        converted = self._camel_case.get(name)
        if converted is None:
            converted = self._camel_case[name] = to_camel_case(name)
        return converted
