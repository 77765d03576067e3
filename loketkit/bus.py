"""Handlers in one place: commands from HTTP, events from Kafka, and what each needs.

A service lists its handlers in `handlers.COMMAND_HANDLERS` (command class ->
function) and `handlers.EVENT_HANDLERS` (event class -> function). Its bootstrap
injects the collaborators each function names among its parameters (a clock,
an id factory, a key...), as in *Architecture Patterns with Python*, and routes
hand commands to the `CommandBus`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from loketkit.audit import Acting
from loketkit.auth import Caller
from loketkit.uow import UnitOfWork

AnyHandler = Callable[..., Awaitable[Any]]


def inject(handler: AnyHandler, dependencies: Mapping[str, object]) -> AnyHandler:
    """The handler with the dependencies it asks for (by parameter name) filled in."""
    wanted = inspect.signature(handler).parameters
    given = {name: value for name, value in dependencies.items() if name in wanted}
    return functools.partial(handler, **given) if given else handler


def inject_all(
    handlers: Mapping[type, AnyHandler], dependencies: Mapping[str, object]
) -> dict[type, AnyHandler]:
    # A handler given for several types is injected once: it stays one handler (a batch
    # handler shared by several types takes runs of them together).
    injected = {handler: inject(handler, dependencies) for handler in set(handlers.values())}
    return {message: injected[handler] for message, handler in handlers.items()}


class CommandBus:
    """Runs a command's handler over a fresh unit of work (or the one given, to join it)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        handlers: Mapping[type, AnyHandler],
        home_area: str | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self._handlers = dict(handlers)
        self._home_area = home_area

    async def handle(
        self, command: object, uow: UnitOfWork | None = None, *, actor: Caller | None
    ) -> Any:
        """`actor`: the signed-in caller (None for an anonymous one), for the audit
        trail: required, so no route can change something without saying who."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for {type(command).__name__}")
        unit = uow or self.uow_factory()
        unit.acting = Acting.of(actor, command, self._home_area)
        return await handler(command, unit)
