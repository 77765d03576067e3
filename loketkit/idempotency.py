"""Retried POSTs do not create twins: the `Idempotency-Key` header.

The first call with a key runs the command and stores its answer in the same
transaction as the effect (the unit of work is entered around the handler's
own). A retry with the same key and body gets that answer again, with
`Idempotent-Replayed: true`; the same key with another body is a 422 naming the
header. Two concurrent first calls race on the stored answer's primary key:
the loser's whole transaction rolls back and it replays the winner's answer.
Keys are kept a day, per caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from loketkit.db import StoredAnswer
from loketkit.errors import Invalid
from loketkit.uow import UnitOfWork

T = TypeVar("T")
KEY_FIELD = "Idempotency-Key"
# Until sign-in exists every caller is the same; then it is the token's subject.
ANONYMOUS = "anonymous"


class Idempotency:
    """One creating POST: runs it once per key, or plainly when no key was sent."""

    def __init__(
        self, key: str | None, caller: str, route: str, uow_factory: Callable[[], UnitOfWork]
    ) -> None:
        self.key = key
        self.caller = caller
        self.route = route
        self._uow_factory = uow_factory

    def fingerprint(self, body: BaseModel | None) -> str:
        canonical = body.model_dump_json() if body is not None else ""
        return hashlib.sha256(f"{self.route}\n{canonical}".encode()).hexdigest()

    async def run(
        self,
        body: BaseModel | None,
        call: Callable[[UnitOfWork], Awaitable[T]],
        present: Callable[[T], BaseModel],
        status_code: int = 201,
    ) -> JSONResponse:
        """`call` runs the command over the unit of work it is given; `present`
        turns its result into the response body."""
        uow = self._uow_factory()
        if self.key is None:
            result = await call(uow)
            return JSONResponse(present(result).model_dump(mode="json"), status_code)
        fingerprint = self.fingerprint(body)
        async with uow:
            stored = await uow.answers.get(self.caller, self.key)
            if stored is not None:
                return self._replay(stored, fingerprint)
            result = await call(uow)
            answer = StoredAnswer(
                caller=self.caller, key=self.key, fingerprint=fingerprint,
                status_code=status_code, body=present(result).model_dump(mode="json"),
            )
            await uow.answers.add(answer)
            try:
                await uow.commit()
            except IntegrityError:
                replay = await self._replay_winner(fingerprint)
                if replay is None:
                    raise  # not a race on the key after all
                return replay
        return JSONResponse(answer.body, status_code)

    async def _replay_winner(self, fingerprint: str) -> JSONResponse | None:
        """The answer of a concurrent call with this key that committed first. Read and
        replayed inside its own unit: leaving the unit expires what it loaded."""
        assert self.key is not None
        async with self._uow_factory() as uow:
            winner = await uow.answers.get(self.caller, self.key)
            return None if winner is None else self._replay(winner, fingerprint)

    def _replay(self, stored: StoredAnswer, fingerprint: str) -> JSONResponse:
        if stored.fingerprint != fingerprint:
            raise Invalid(KEY_FIELD, "this key was used for another request body or route")
        return JSONResponse(
            stored.body, stored.status_code, headers={"Idempotent-Replayed": "true"}
        )


async def idempotency(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=KEY_FIELD,
            min_length=1,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description="Any unique string (a UUID, say); a retry with the same key and "
            "body returns the first answer instead of creating a twin. Kept for a day.",
        ),
    ] = None,
) -> Idempotency:
    caller = getattr(request.state, "caller", None) or ANONYMOUS
    route = f"{request.method} {request.url.path}"
    uow_factory: Callable[[], Any] = request.app.state.uow_factory
    return Idempotency(idempotency_key, caller, route, uow_factory)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
