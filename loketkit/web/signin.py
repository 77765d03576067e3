"""Signing a browser in through the identity provider: the authorization code flow
with PKCE (RFC 7636, S256) for the public client `OIDC_WEB_CLIENT_ID`.

`/aanmelden` keeps a random state, nonce and code verifier in the session and sends
the browser to the provider; `/aanmelden/terug` checks the state, trades the code (with
the verifier) for tokens at the provider's token endpoint, checks the access token like
any bearer token (signature, issuer, audience, expiry) and remembers the caller's
claims in the session. The tokens themselves are not kept. `/afmelden` forgets the
session and ends the provider's session too.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import jwt
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from loketkit.auth import guard
from loketkit.settings import ServiceSettings
from loketkit.web.session import remember_caller

SIGN_IN = "/aanmelden"
CALLBACK = "/aanmelden/terug"
SIGN_OUT = "/afmelden"


@dataclass(frozen=True)
class ProviderEndpoints:
    authorization: str  # as the browser reaches it
    token: str  # as this service reaches it
    end_session: str | None


class SignInFailed(Exception):
    """The provider's answer could not sign the browser in (the page says so in Dutch)."""


def oidc_client(request: Request) -> httpx.AsyncClient:
    """A client for the provider; a test may put a transport in `app.state.oidc_transport`."""
    return httpx.AsyncClient(timeout=10, transport=getattr(
        request.app.state, "oidc_transport", None))


async def endpoints(request: Request) -> ProviderEndpoints:
    """The provider's endpoints from its discovery document, read once per process."""
    found = getattr(request.app.state, "oidc_endpoints", None)
    if isinstance(found, ProviderEndpoints):
        return found
    settings: ServiceSettings = request.app.state.context.settings
    if not settings.oidc_issuer:
        raise SignInFailed("no identity provider configured (OIDC_ISSUER)")
    issuer = settings.oidc_issuer.rstrip("/")
    base = (settings.oidc_discovery_url or issuer).rstrip("/")
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{base}/.well-known/openid-configuration")
        document = response.raise_for_status().json()
    # The browser uses the issuer's own address; this service the discovery address.
    found = ProviderEndpoints(
        authorization=str(document["authorization_endpoint"]),
        token=str(document["token_endpoint"]).replace(issuer, base, 1),
        end_session=document.get("end_session_endpoint"),
    )
    request.app.state.oidc_endpoints = found
    return found


def local_path(candidate: str | None) -> str:
    """Only a path on this service: an open redirect would hand sign-ins to anyone."""
    if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")):
        return candidate
    return "/"


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _open_to_all(reason: str) -> Any:
    async def anyone() -> None:
        return None

    return guard(anyone, "public", reason)


def signin_router() -> APIRouter:
    router = APIRouter(include_in_schema=False, dependencies=[
        _open_to_all("signing in and out is where a browser starts")])

    @router.get(SIGN_IN, name="sign_in")
    async def sign_in(request: Request,
                      volgende: Annotated[str | None, Query()] = None) -> RedirectResponse:
        settings: ServiceSettings = request.app.state.context.settings
        provider = await endpoints(request)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        request.session["signin"] = {"state": state, "nonce": nonce, "verifier": verifier,
                                     "next": local_path(volgende)}
        query = urlencode({
            "client_id": settings.oidc_web_client_id, "response_type": "code",
            "scope": "openid", "redirect_uri": str(request.url_for("sign_in_callback")),
            "state": state, "nonce": nonce, "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256", "ui_locales": "nl",
        })
        return RedirectResponse(f"{provider.authorization}?{query}", status_code=303)

    @router.get(CALLBACK, name="sign_in_callback")
    async def sign_in_callback(
        request: Request, code: str | None = None, state: str | None = None
    ) -> RedirectResponse:
        settings: ServiceSettings = request.app.state.context.settings
        pending = request.session.pop("signin", None)
        if not isinstance(pending, dict) or not code or not state or not secrets.compare_digest(
                pending.get("state", ""), state):
            raise SignInFailed("the sign-in did not start here or was already used")
        provider = await endpoints(request)
        async with oidc_client(request) as client:
            answer = await client.post(provider.token, data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": str(request.url_for("sign_in_callback")),
                "client_id": settings.oidc_web_client_id, "code_verifier": pending["verifier"],
            })
        if answer.status_code != 200:
            raise SignInFailed("the provider refused the code")
        tokens = answer.json()
        try:
            caller = await request.app.state.verifier.verify(tokens["access_token"])
        except (jwt.PyJWTError, KeyError, ValueError):
            raise SignInFailed("the access token is not valid") from None
        remember_caller(request, caller, settings.session_hours)
        request.session["id_token"] = tokens.get("id_token")
        return RedirectResponse(pending["next"], status_code=303)

    @router.post(SIGN_OUT, name="sign_out")
    async def sign_out(request: Request) -> RedirectResponse:
        # No CSRF check: signing someone out is harmless, and the form may be stale.
        id_token = request.session.get("id_token")
        request.session.clear()
        provider = getattr(request.app.state, "oidc_endpoints", None)
        home = str(request.url_for("sign_in").replace(path="/"))
        if isinstance(provider, ProviderEndpoints) and provider.end_session and id_token:
            query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": home})
            return RedirectResponse(f"{provider.end_session}?{query}", status_code=303)
        return RedirectResponse(home, status_code=303)

    return router
