"""Pages' shared half (loketkit.web), through reporting's figures page: a browser that
is not signed in is sent to the provider with a PKCE challenge; the code comes back
and is traded with the verifier; the session cookie is the service's own, HttpOnly,
Secure and SameSite=Lax; a form without this session's CSRF token is refused; a
sign-in that did not start here, or a `volgende` that leaves the service, goes nowhere."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from loketkit.auth import Caller, Role
from loketkit.web import FormPost, page_requires
from loketkit.web.session import cookie_name
from loketkit.web.signin import ProviderEndpoints, local_path
from tests.personas import ISSUER, PERSONAS, token
from tests.unit.reporting.harness import InMemoryReporting

AUTHORIZE = "https://login.test/realms/loket/protocol/openid-connect/auth"
TOKEN = "https://login.test/realms/loket/protocol/openid-connect/token"


class Provider:
    """The provider's token endpoint: checks the PKCE verifier against the challenge the
    browser brought to the authorization endpoint, then hands out an access token."""

    def __init__(self, persona: str) -> None:
        self.persona = persona
        self.challenge: str | None = None
        self.exchanges: list[dict[str, list[str]]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        self.exchanges.append(form)
        verifier = form["code_verifier"][0].encode()
        made = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if form.get("code") != ["the-code"] or made.decode() != self.challenge:
            return httpx.Response(400, json={"error": "invalid_grant"})
        claims = PERSONAS[self.persona] or {}
        return httpx.Response(200, json={"access_token": ISSUER.token(claims),
                                         "id_token": "an-id-token", "token_type": "Bearer"})


@pytest.fixture
async def app() -> AsyncIterator[FastAPI]:
    reporting = InMemoryReporting()
    reporting.app.state.verifier = ISSUER.verifier
    reporting.app.state.oidc_endpoints = ProviderEndpoints(AUTHORIZE, TOKEN, None)
    yield reporting.app


def browser(app: FastAPI) -> httpx.AsyncClient:
    # https: the cookie is Secure, and a client keeps such a cookie for https only
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://svc")


async def sign_in(app: FastAPI, client: httpx.AsyncClient, persona: str,
                  page: str = "/") -> httpx.Response:
    provider = Provider(persona)
    app.state.oidc_transport = httpx.MockTransport(provider.handle)
    opened = await client.get(page)
    assert opened.status_code == 303
    to_provider = await client.get(opened.headers["location"])
    assert to_provider.status_code == 303
    sent = urlparse(to_provider.headers["location"])
    query = {name: values[0] for name, values in parse_qs(sent.query).items()}
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == AUTHORIZE
    assert (query["client_id"], query["response_type"], query["code_challenge_method"]) == (
        "loket-web", "code", "S256")
    assert query["redirect_uri"] == "https://svc/aanmelden/terug"
    provider.challenge = query["code_challenge"]
    back = await client.get("/aanmelden/terug",
                            params={"code": "the-code", "state": query["state"]})
    assert provider.exchanges[0]["grant_type"] == ["authorization_code"]
    return back


async def test_a_browser_signs_in_with_pkce_and_comes_back_to_its_page(app: FastAPI) -> None:
    async with browser(app) as client:
        back = await sign_in(app, client, "municipality", "/?municipality_nis=13008")
        assert back.status_code == 303
        assert back.headers["location"] == "/?municipality_nis=13008"
        page = await client.get(back.headers["location"])
    assert page.status_code == 200
    assert "Aangemeld als <strong>gemeente-geel</strong>" in page.text
    # what the page shows stays in this browser: not cached, not framed, no referrer out
    assert (page.headers["cache-control"], page.headers["x-frame-options"],
            page.headers["referrer-policy"]) == ("no-store", "DENY", "same-origin")
    assert "Registratiecijfers" in page.text


async def test_the_session_cookie_is_the_services_own_and_kept_from_scripts(
    app: FastAPI,
) -> None:
    async with browser(app) as client:
        back = await sign_in(app, client, "opgroeien")
    set_cookie = back.headers["set-cookie"].lower()
    assert set_cookie.startswith(f"{cookie_name('reporting')}=")
    for attribute in ("httponly", "secure", "samesite=lax", "path=/"):
        assert attribute in set_cookie
    assert "access_token" not in set_cookie and ISSUER.issuer not in set_cookie


async def test_a_role_that_may_not_open_the_page_gets_a_dutch_403(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_in(app, client, "organiser")
        page = await client.get("/")
    assert page.status_code == 403
    assert "Je mag deze pagina niet openen" in page.text


async def test_a_sign_in_that_did_not_start_here_is_refused(app: FastAPI) -> None:
    async with browser(app) as client:
        answer = await client.get("/aanmelden/terug", params={"code": "c", "state": "forged"})
    assert answer.status_code == 400
    assert "Aanmelden is niet gelukt" in answer.text


async def test_a_code_the_provider_refuses_signs_nobody_in(app: FastAPI) -> None:
    provider = Provider("opgroeien")
    app.state.oidc_transport = httpx.MockTransport(provider.handle)
    async with browser(app) as client:
        started = await client.get("/aanmelden")
        state = parse_qs(urlparse(started.headers["location"]).query)["state"][0]
        provider.challenge = "not-the-challenge"
        answer = await client.get("/aanmelden/terug", params={"code": "the-code",
                                                             "state": state})
        page = await client.get("/")
    assert answer.status_code == 400
    assert page.status_code == 303  # still not signed in


def with_a_form(app: FastAPI) -> None:
    """A form route of the kind every service's pages have."""
    router = APIRouter()

    @router.post("/formulier")
    async def posted(caller: Annotated[Caller, page_requires(Role.OPGROEIEN)],
                     form: FormPost) -> dict[str, str]:
        return {"got": str(form.get("x"))}

    app.include_router(router)


async def test_a_form_without_the_sessions_csrf_token_is_refused(app: FastAPI) -> None:
    with_a_form(app)
    async with browser(app) as client:
        await sign_in(app, client, "opgroeien")
        page = await client.get("/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None  # every page's sign-out form carries it
        forged = await client.post("/formulier", data={"x": "1"})
        wrong = await client.post("/formulier", data={"x": "1", "csrf_token": "guess"})
        sent = await client.post("/formulier", data={"x": "1", "csrf_token": token[1]})
    assert (forged.status_code, wrong.status_code) == (403, 403)
    assert "Dit formulier is verlopen" in forged.text
    assert (sent.status_code, sent.json()) == (200, {"got": "1"})


async def test_a_bearer_token_needs_no_csrf_token(app: FastAPI) -> None:
    # no cookie, no ambient credential: nothing to forge
    with_a_form(app)
    async with browser(app) as client:
        sent = await client.post("/formulier", data={"x": "2"},
                                 headers={"Authorization": f"Bearer {token('opgroeien')}"})
    assert (sent.status_code, sent.json()) == (200, {"got": "2"})


async def test_signing_out_forgets_the_session(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_in(app, client, "opgroeien")
        assert (await client.get("/")).status_code == 200
        signed_out = await client.post("/afmelden")
        assert signed_out.status_code == 303
        assert (await client.get("/")).status_code == 303  # sign in again


@pytest.mark.parametrize(("asked", "goes_to"), [
    ("/crisis?x=1", "/crisis?x=1"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"), (None, "/"),
])
def test_after_sign_in_the_browser_only_goes_to_a_page_of_this_service(
    asked: str | None, goes_to: str
) -> None:
    assert local_path(asked) == goes_to
