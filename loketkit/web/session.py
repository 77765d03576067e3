"""The browser session: a cookie signed with the service's SESSION_SECRET (itsdangerous,
via Starlette's SessionMiddleware), one cookie name per service so that the services on
one host never read or overwrite each other's (cookies are per host, not per port).
`HttpOnly` always, `Secure` unless switched off, `SameSite=Lax` (the identity provider
sends the browser back with a top-level GET, which Lax lets through and Strict would
not). The session holds who signed in (their claims, never a token), the CSRF token, and
a family's personal link; no personal data."""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from loketkit.auth import Caller, Role
from loketkit.settings import ServiceSettings

CSRF_FIELD = "csrf_token"


def cookie_name(service_name: str) -> str:
    return f"loket_{service_name}_sessie"


def install_session(app: FastAPI, settings: ServiceSettings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=cookie_name(settings.service_name),
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=settings.session_cookie_secure,
    )


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_valid(request: Request, sent: object) -> bool:
    expected = request.session.get("csrf")
    return (isinstance(expected, str) and isinstance(sent, str)
            and secrets.compare_digest(expected, sent))


def remember_caller(request: Request, caller: Caller, hours: int) -> None:
    """Signs the browser in: a fresh session (no fixation), with a new CSRF token."""
    request.session.clear()
    request.session["caller"] = {
        "subject": caller.subject, "roles": sorted(caller.roles),
        "service_area": caller.service_area, "organiser_id": caller.organiser_id,
        "nis_code": caller.nis_code, "name": caller.name,
        "until": int(time.time()) + hours * 3600,
    }


def session_caller(request: Request) -> Caller | None:
    stored: Any = request.session.get("caller")
    if not isinstance(stored, dict) or stored.get("until", 0) < time.time():
        return None
    return Caller(
        subject=stored["subject"], roles=frozenset(Role(role) for role in stored["roles"]),
        service_area=stored["service_area"], organiser_id=stored["organiser_id"],
        nis_code=stored["nis_code"], name=stored["name"],
    )
