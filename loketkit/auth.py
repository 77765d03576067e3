"""Sign-in and roles: who is calling, and may they use this route.

Every service accepts OpenID Connect bearer tokens from one issuer (Keycloak in the
demo; the Flemish government's or a municipality's Azure AD elsewhere): the keys
come from the issuer's discovery document and JWKS, and PyJWT checks signature,
expiry, issuer and audience. The token's claims become a `Caller`: its subject,
its roles (a `roles` claim, or Keycloak's `realm_access.roles`), and the tenant it
belongs to (`service_area`, `organiser_id`, `nis_code`).

Each route declares who may use it with `requires(Role.X, ...)` (401 without a
valid token, 403 for a role that never may) or `public(...)` (open, the caller if
any is still known). Tenancy (the caller's own area, organiser or request) is the
route's or view's business and answers 404, so another tenant's object is never
revealed. `unguarded_routes(app)` lists the routes that declare neither: a test
keeps it down to the operator's health, readiness and metrics routes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Protocol

import httpx
import jwt
from fastapi import Depends, FastAPI, Request, Security
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from loketkit.errors import DomainError, NotFound

# Asymmetric algorithms only: an issuer's public keys can never sign an HS256 token.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
CLOCK_SKEW_SECONDS = 30
KEYS_LIFESPAN_SECONDS = 3600  # an issuer's keys are fetched again after this


class Role(StrEnum):
    PARENT = "parent"
    LOKET_STAFF = "loket_staff"
    COORDINATOR = "coordinator"
    ORGANISER = "organiser"
    PARTNER = "partner"
    MUNICIPALITY = "municipality"
    OPGROEIEN = "opgroeien"
    LOKET_ADMIN = "loket_admin"


# Roles that belong to one service area (their token carries `service_area`).
AREA_ROLES = frozenset({Role.LOKET_STAFF, Role.COORDINATOR, Role.LOKET_ADMIN, Role.PARTNER,
                        Role.MUNICIPALITY})


@dataclass(frozen=True)
class Caller:
    """A signed-in person or system, as its token describes it."""

    subject: str
    roles: frozenset[Role]
    service_area: str | None = None
    organiser_id: str | None = None
    nis_code: str | None = None
    name: str | None = field(default=None, compare=False)

    def acts_as(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def in_area(self, service_area: str, *roles: Role) -> bool:
        """True if the caller holds one of `roles` (any area role if none given) for
        exactly this service area."""
        wanted = set(roles) or AREA_ROLES
        return self.service_area == service_area and bool(self.roles & wanted)

    def owns_location_of(self, organiser_id: str | None) -> bool:
        return (Role.ORGANISER in self.roles and organiser_id is not None
                and self.organiser_id == organiser_id)

    @property
    def role(self) -> str:
        """The one role the audit trail names (a caller normally holds one)."""
        return ",".join(sorted(self.roles)) or "none"


def require_own_area(caller: Caller, service_area: str) -> None:
    """Another area's object is not found: its existence is not revealed."""
    if caller.service_area != service_area:
        raise NotFound("service_area", "no such service area here")


class NotSignedIn(DomainError):
    status_code = 401

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class NotAllowed(DomainError):
    status_code = 403


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Caller: ...


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    raw_roles = claims.get("roles")
    if raw_roles is None:
        raw_roles = (claims.get("realm_access") or {}).get("roles", [])
    known = {role.value for role in Role}
    roles = frozenset(Role(r) for r in raw_roles if isinstance(r, str) and r in known)

    def text(name: str) -> str | None:
        value = claims.get(name)
        if isinstance(value, list):  # Keycloak's multivalued attributes
            value = value[0] if value else None
        return str(value) if value not in (None, "") else None

    return Caller(
        subject=str(claims["sub"]), roles=roles, service_area=text("service_area"),
        organiser_id=text("organiser_id"), nis_code=text("nis_code"),
        name=text("preferred_username") or text("azp"),
    )


def decode(token: str, key: Any, issuer: str, audience: str) -> tuple[Caller, float]:
    """The token's caller and when the token expires (seconds since the epoch)."""
    claims = jwt.decode(
        token, key, algorithms=ALGORITHMS, audience=audience, issuer=issuer,
        leeway=CLOCK_SKEW_SECONDS, options={"require": ["exp", "iat", "sub", "iss", "aud"]},
    )
    return caller_from_claims(claims), float(claims["exp"])


class VerifiedTokens:
    """Tokens one verifier accepted, with their caller, until they expire: a partner
    system sends the same token with every request for its lifetime, and checking the
    signature and claims again cost about half a millisecond a request. A hit is the
    exact token string that passed every check; it is dropped at its `exp`."""

    MAX_TOKENS = 10_000

    def __init__(self) -> None:
        self._callers: dict[str, tuple[Caller, float]] = {}

    def get(self, token: str) -> Caller | None:
        found = self._callers.get(token)
        if found is None:
            return None
        if time.time() >= found[1]:
            del self._callers[token]
            return None
        return found[0]

    def keep(self, token: str, caller: Caller, expires_at: float) -> None:
        if len(self._callers) >= self.MAX_TOKENS:
            now = time.time()
            self._callers = {t: kept for t, kept in self._callers.items() if kept[1] > now}
            if len(self._callers) >= self.MAX_TOKENS:
                self._callers.clear()
        self._callers[token] = (caller, expires_at)


class OidcVerifier:
    """Tokens from one OpenID Connect issuer. The discovery document and keys are read
    on first use (and keys again when a token names a new one: key rotation).
    `discovery_url` replaces the issuer's address for fetching only, for a service
    that reaches the provider by another name than the browser does."""

    def __init__(self, issuer: str, audience: str, discovery_url: str | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self._base = (discovery_url or self.issuer).rstrip("/")
        self._jwks: jwt.PyJWKClient | None = None
        self._keys_by_id: dict[str, tuple[Any, float]] = {}  # kid -> (key, when fetched)
        self._verified = VerifiedTokens()
        # After a restart a busy partner sends many requests at once: without this, each
        # fetched the discovery document and keys in a thread of its own.
        self._fetching = asyncio.Lock()

    def _keys(self) -> jwt.PyJWKClient:
        if self._jwks is None:
            url = f"{self._base}/.well-known/openid-configuration"
            document = httpx.get(url, timeout=10).raise_for_status().json()
            jwks_uri = str(document["jwks_uri"])
            if self._base != self.issuer:  # fetch the keys the same way as the document
                jwks_uri = jwks_uri.replace(self.issuer, self._base, 1)
            self._jwks = jwt.PyJWKClient(jwks_uri, cache_keys=True,
                                         lifespan=KEYS_LIFESPAN_SECONDS)
        return self._jwks

    def _kept_key(self, kid: object) -> Any | None:
        known = self._keys_by_id.get(kid) if isinstance(kid, str) else None
        if known is None or time.monotonic() - known[1] >= KEYS_LIFESPAN_SECONDS:
            return None
        return known[0]

    def _fetch_key(self, token: str) -> Any:
        return self._keys().get_signing_key_from_jwt(token).key

    async def verify(self, token: str) -> Caller:
        caller = self._verified.get(token)
        if caller is not None:
            return caller
        kid = jwt.get_unverified_header(token).get("kid")
        key = self._kept_key(kid)
        if key is None:
            async with self._fetching:  # requests arriving together wait for one fetch
                key = self._kept_key(kid)
                if key is None:
                    # PyJWKClient fetches with urllib: off the event loop, and only for a
                    # key not seen yet (first use, rotation) or kept an hour.
                    key = await asyncio.to_thread(self._fetch_key, token)
                    if isinstance(kid, str):
                        self._keys_by_id[kid] = (key, time.monotonic())
        caller, expires_at = decode(token, key, self.issuer, self.audience)
        self._verified.keep(token, caller, expires_at)
        return caller


class StaticKeyVerifier:
    """Tokens signed with one known public key (unit tests; an offline deployment)."""

    def __init__(self, public_key: Any, issuer: str, audience: str) -> None:
        self._key, self.issuer, self.audience = public_key, issuer, audience
        self._verified = VerifiedTokens()

    async def verify(self, token: str) -> Caller:
        caller = self._verified.get(token)
        if caller is None:
            caller, expires_at = decode(token, self._key, self.issuer, self.audience)
            self._verified.keep(token, caller, expires_at)
        return caller


class NoIssuer:
    """Development without an identity provider: every token is refused."""

    async def verify(self, token: str) -> Caller:
        raise jwt.InvalidTokenError("no identity provider configured (OIDC_ISSUER)")


bearer = HTTPBearer(
    auto_error=False, scheme_name="bearer",
    description="An access token from the loket's OpenID Connect provider.",
)


async def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Caller | None:
    """The caller a valid bearer token names; None without one; 401 for a bad one."""
    if credentials is None:
        return None
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify(credentials.credentials)
    except (jwt.PyJWTError, httpx.HTTPError, KeyError, ValueError):
        # The reason stays out of the answer and the logs: a token is a credential.
        raise NotSignedIn("authorization", "the access token is not valid") from None


OptionalCaller = Annotated[Caller | None, Depends(current_caller)]

# The marker `unguarded_routes` looks for on a route's dependencies.
GUARD_ATTRIBUTE = "__loket_guard__"


def authorised(caller: Caller | None, allowed: frozenset[Role],
               how: str = "a bearer token") -> Caller:
    """The caller, if signed in (401 otherwise) with one of `allowed` (403 otherwise)."""
    if caller is None:
        raise NotSignedIn("authorization", f"sign in first ({how})")
    if not caller.roles & allowed:
        raise NotAllowed("authorization", "your role may not do this")
    return caller


def guard(dependency: Any, *rule: str) -> Any:
    """`dependency` as a route guard: marked with its rule for `unguarded_routes`."""
    setattr(dependency, GUARD_ATTRIBUTE, rule)
    return Depends(dependency)


def requires(*roles: Role) -> Any:
    """A dependency giving the signed-in `Caller` holding one of `roles`."""
    allowed = frozenset(roles)

    async def signed_in(caller: OptionalCaller) -> Caller:
        return authorised(caller, allowed)

    return guard(signed_in, *sorted(allowed))


def public(reason: str) -> Any:
    """A dependency for an open route (`reason` says why it is open): the caller if a
    valid token came, else None."""

    async def anyone(caller: OptionalCaller) -> Caller | None:
        return caller

    return guard(anyone, "public", reason)


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """(path, route) of every API route and page, those of included routers too:
    `app.routes` holds an included router as one entry (FastAPI 0.16x), so a walk of
    it alone sees only the routes declared on the app itself."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield context.path or route.path, route


def route_guards(app: FastAPI) -> dict[tuple[str, str], tuple[str, ...]]:
    """(method, path) -> the roles (or "public") each API route declares."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for path, route in api_routes(app):
        guard = _guard_of(route.dependant.dependencies)
        for method in route.methods or ():
            if guard is not None:
                found[(method, path)] = guard
    return found


def unguarded_routes(app: FastAPI) -> list[tuple[str, str]]:
    guarded = route_guards(app)
    return sorted(
        (method, path)
        for path, route in api_routes(app)
        for method in route.methods or () if (method, path) not in guarded
    )


def _guard_of(dependencies: Iterable[Any]) -> tuple[str, ...] | None:
    for dependency in dependencies:
        guard = getattr(dependency.call, GUARD_ATTRIBUTE, None)
        if guard is not None:
            return tuple(guard)
        nested = _guard_of(dependency.dependencies)
        if nested is not None:
            return nested
    return None


def verifier_from_settings(
    issuer: str | None, audience: str, discovery_url: str | None
) -> TokenVerifier:
    return OidcVerifier(issuer, audience, discovery_url) if issuer else NoIssuer()
