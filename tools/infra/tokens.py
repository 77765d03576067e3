"""Access tokens for the demo accounts of the `loket` realm, straight from the issuer.

Tests, the demo and a coordinator with curl need real bearer tokens:

    curl -H "Authorization: Bearer $(uv run python -m tools.infra.tokens balie.els)" ...

People log in with the password grant via the public client `loket-cli`; systems use
the client-credentials grant. The credentials are the realm file's demo values
(deploy/keycloak/loket-realm.json) and must never be used anywhere else.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Generator

import httpx

from tools.infra.keycloak import LOCAL_ISSUER

PEOPLE_CLIENT = "loket-cli"
DEMO_PASSWORD = "demo"  # demo value, see the realm file
PEOPLE: dict[str, str] = {username: DEMO_PASSWORD for username in (
    "balie.els", "balie.tom", "coordinator.jan", "coordinator.mia", "beheer.ria",
    "organisator.lies", "ouder.an", "ouder.bart", "gemeente.geel", "gemeente.mol",
    "opgroeien.kim",
)}
SYSTEMS: dict[str, str] = {client: f"{client}-secret" for client in (  # demo values
    "organiser-zonneke", "organiser-bolleboos", "partner-ocmw-geel",
)}
EXPIRY_MARGIN_S = 30.0  # renew this long before the token expires


class BearerFor(httpx.Auth):
    """Signs each request in with the token `token_for(request)` gives (none if None),
    so a client (a test's, the demo's) acts as the person a real user of each route
    would be. A request that carries its own Authorization header keeps it."""

    def __init__(self, token_for: Callable[[httpx.Request], str | None]) -> None:
        self._token_for = token_for

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" not in request.headers:
            token = self._token_for(request)
            if token:
                request.headers["Authorization"] = f"Bearer {token}"
        yield request



def signed_in_as(tokens: TokenSource, account_of: Callable[[httpx.Request], str | None]
                 ) -> BearerFor:
    """Signs each request in with a real token for the account `account_of(request)`
    names (no token if None)."""

    def token_for(request: httpx.Request) -> str | None:
        account = account_of(request)
        return tokens.token(account) if account else None

    return BearerFor(token_for)


class TokenSource:
    """Fetches and caches access tokens per account; thread-safe, synchronous."""

    def __init__(self, issuer: str, people: dict[str, str] | None = None,
                 systems: dict[str, str] | None = None, timeout: float = 10.0) -> None:
        self.token_endpoint = f"{issuer.rstrip('/')}/protocol/openid-connect/token"
        self.people = PEOPLE if people is None else people
        self.systems = SYSTEMS if systems is None else systems
        self._timeout = timeout
        self._cache: dict[str, tuple[str, float]] = {}  # account -> (token, renew at)
        self._lock = threading.Lock()

    def _grant(self, account: str) -> dict[str, str]:
        if account in self.people:
            return {"grant_type": "password", "client_id": PEOPLE_CLIENT,
                    "username": account, "password": self.people[account],
                    "scope": "openid"}  # openid: the token also works at /userinfo
        if account in self.systems:
            return {"grant_type": "client_credentials", "client_id": account,
                    "client_secret": self.systems[account]}
        known = ", ".join(sorted([*self.people, *self.systems]))
        raise ValueError(f"unknown account {account!r}; known: {known}")

    def token(self, account: str) -> str:
        """A valid access token for a person (username) or a system (client id)."""
        with self._lock:
            cached = self._cache.get(account)
            if cached is not None and time.monotonic() < cached[1]:
                return cached[0]
            grant = self._grant(account)
            requested = time.monotonic()
            try:
                response = httpx.post(self.token_endpoint, data=grant, timeout=self._timeout)
            except httpx.HTTPError as error:
                raise RuntimeError(
                    f"token request for {account!r} to {self.token_endpoint} failed: {error} "
                    "(is the provider up? python -m tools.infra.keycloak up)"
                ) from None  # the request (and its secret) stays out of the traceback
            if response.status_code != 200:
                # Keycloak's error body names the problem, never the credentials we sent.
                raise RuntimeError(f"no token for {account!r} from {self.token_endpoint}: "
                                   f"HTTP {response.status_code} {response.text[:300]}")
            body = response.json()
            lifetime = float(body.get("expires_in", 60))
            renew_at = requested + max(lifetime - EXPIRY_MARGIN_S, lifetime / 2)
            self._cache[account] = (body["access_token"], renew_at)
            return str(body["access_token"])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        accounts = ", ".join([*PEOPLE, *SYSTEMS])
        print(f"usage: python -m tools.infra.tokens <account>\naccounts: {accounts}",
              file=sys.stderr)
        return 2
    issuer = os.environ.get("OIDC_ISSUER", LOCAL_ISSUER)
    try:
        print(TokenSource(issuer).token(argv[0]))
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
