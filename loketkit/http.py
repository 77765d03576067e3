"""HTTP parts every service has: health, readiness, metrics, and 4xx errors that name the field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def install_common_routes(app: FastAPI, service: str, readiness: ReadinessCheck) -> None:
    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["operations"], summary="Broker and database reachable")
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]


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


def app_context(request: Request) -> Any:
    """The service's context object (built in its bootstrap), for routes via Depends."""
    return request.app.state.context


def field_name(location: tuple[str | int, ...], error_type: str) -> str:
    """("body", "child", "birth_date") -> "child.birth_date"; unreadable JSON -> "body"."""
    source, *parts = location or ("body",)
    if error_type == "json_invalid" or not parts:
        return str(source)
    return ".".join(str(part) for part in parts)


def problem(status: int, message: str, field: str | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": message}
    if field:
        body["fields"] = [{"field": field, "message": message, "type": "value_error"}]
    return JSONResponse(body, status_code=status)
