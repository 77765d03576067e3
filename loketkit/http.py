"""HTTP parts every service has: health, readiness, metrics, a cap on request
bodies, and errors mapped to responses once, naming the field, never a value.

- `DomainError` subclasses become 404/409/422 (see `loketkit.errors`);
- invalid bodies become 422 listing each field at fault;
- a body over `MAX_BODY_BYTES` (or its path's own limit) is a 413 before any handler runs;
- anything else is a plain 500 whose log line names the error's type (and
  SQLSTATE) only: exception messages can quote values, and values can be personal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import REGISTRY, make_asgi_app
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loketkit.errors import DomainError
from loketkit.logs import describe_error

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def install_common_routes(app: FastAPI, service: str, readiness: ReadinessCheck) -> None:
    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["operations"],
             summary="Can take work: its database answers (a broker outage shows in metrics)")
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    # prometheus-client's own ASGI app, on exactly /metrics (a Mount would redirect).
    app.router.routes.append(Route("/metrics", AsgiEndpoint(make_asgi_app(registry=REGISTRY))))


def install_error_handling(app: FastAPI, body_limits: Mapping[str, int] | None = None) -> None:
    """`body_limits`: a larger cap for the few paths that take files (path -> bytes)."""
    app.add_exception_handler(DomainError, domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(BodyTooLarge, body_too_large)  # type: ignore[arg-type]
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, per_path=body_limits or {})
    app.add_middleware(SafeServerError)


class AsgiEndpoint:
    """Lets Starlette route to a plain ASGI function as an app, not as an endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


async def domain_error(request: Request, error: DomainError) -> JSONResponse:
    response = problem(error.status_code, error.message, error.field)
    response.headers.update(error.headers)
    return response


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 naming each field at fault, without echoing the submitted values."""
    fields = [
        {
            "field": field_name(item["loc"], item["type"]),
            "message": item["msg"],
            "type": item["type"],
        }
        for item in error.errors()
    ]
    return JSONResponse({"error": "invalid request", "fields": fields}, status_code=422)


def field_name(location: tuple[str | int, ...], error_type: str) -> str:
    """("body", "child", "birth_date") -> "child.birth_date"; ("header", "x") -> "x";
    unreadable JSON -> "body"."""
    source, *parts = location or ("body",)
    if error_type == "json_invalid" or not parts:
        return str(source)
    return ".".join(str(part) for part in parts)


async def body_too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
    return too_large_response(error.max_bytes)


def too_large_response(max_bytes: int) -> JSONResponse:
    return problem(413, f"request body larger than {max_bytes // 1024} KiB", "body")


def problem(status: int, message: str, field: str | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": message}
    if field:
        body["fields"] = [{"field": field, "message": message, "type": "value_error"}]
    return JSONResponse(body, status_code=status)


async def app_context(request: Request) -> Any:
    """The service's context object (built in its bootstrap), for routes via Depends.
    Async, as every dependency that does no blocking work: FastAPI runs a plain `def`
    in a worker thread, a hop that cost more than the function."""
    return request.app.state.context


class BodyTooLarge(HTTPException):
    """Raised while a streamed body is read. An HTTPException, because FastAPI turns any
    other error in reading the body into a 400 before the middleware could see it."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413)
        self.max_bytes = max_bytes


class BodyLimit:
    """413 for a request body over the limit, whether declared or streamed. The limit
    is per path (before routing, so exact paths only)."""

    def __init__(self, app: ASGIApp, max_bytes: int, per_path: Mapping[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large_response(limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await too_large_response(limit)(scope, receive, send)


class SafeServerError:
    """The outermost catch: a 500 that logs the error's kind, never its message.

    Starlette would re-raise to uvicorn, which logs the full exception text; a
    database error's text can hold the row it refused. So it ends here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:  # noqa: BLE001 - the last line of defence
            log.error("%s %s failed: %s", scope.get("method"), route_of(scope),
                      describe_error(error))
            if not started:
                await problem(500, "internal error; the loket's operators can see what failed")(
                    scope, receive, send)


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", None) or "(unrouted)")
