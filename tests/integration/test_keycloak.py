"""The local Keycloak really issues the tokens the services rely on: issuer, audience,
realm roles and the loket attributes, for people (password grant) and systems
(client credentials); a wrong password fails clearly without leaking it."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jwt
import pytest

from loketkit.auth import OidcVerifier
from tools.infra.tokens import TokenSource

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def issuer(identity_provider: str) -> str:
    return identity_provider


@pytest.fixture(scope="module")
def tokens(issuer: str) -> TokenSource:
    return TokenSource(issuer)


def claims(token: str) -> dict[str, Any]:
    """The JWT payload, unverified: enough to see what the provider puts in it."""
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return decoded


def audiences(token_claims: dict[str, Any]) -> list[str]:
    aud = token_claims["aud"]
    return [aud] if isinstance(aud, str) else list(aud)


def test_discovery_names_the_issuer(issuer: str) -> None:
    document = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert document["issuer"] == issuer
    assert document["token_endpoint"].startswith(issuer)


def test_staff_token_carries_audience_roles_and_service_area(
        issuer: str, tokens: TokenSource) -> None:
    token = tokens.token("balie.els")
    got = claims(token)
    assert got["iss"] == issuer
    assert "loket" in audiences(got)
    assert "loket_staff" in got["roles"]
    assert got["service_area"] == "kempen-gml"
    assert tokens.token("balie.els") == token, "cached until shortly before expiry"


def test_system_token_via_client_credentials(tokens: TokenSource) -> None:
    got = claims(tokens.token("organiser-zonneke"))
    assert "loket" in audiences(got)
    assert "organiser" in got["roles"]
    assert got["organiser_id"] == "org-zonneke"
    partner = claims(tokens.token("partner-ocmw-geel"))
    assert "partner" in partner["roles"] and partner["service_area"] == "kempen-gml"


def test_municipality_token_has_nis_code(tokens: TokenSource) -> None:
    got = claims(tokens.token("gemeente.geel"))
    assert "municipality" in got["roles"]
    assert got["nis_code"] == "13008"
    assert got["service_area"] == "kempen-gml"


def test_wrong_password_names_the_account_not_the_password(issuer: str) -> None:
    wrong = TokenSource(issuer, people={"balie.els": "not-the-password"}, systems={})
    with pytest.raises(RuntimeError) as failure:
        wrong.token("balie.els")
    message = str(failure.value)
    assert "balie.els" in message and "invalid_grant" in message
    assert "not-the-password" not in message


def test_unknown_account_is_a_value_error(tokens: TokenSource) -> None:
    with pytest.raises(ValueError, match="nobody"):
        tokens.token("nobody")


async def test_the_services_verifier_accepts_its_tokens_and_reads_the_tenant(
        issuer: str, tokens: TokenSource) -> None:
    """Discovery, JWKS and the checks the services run, against the real provider."""
    verifier = OidcVerifier(issuer, "loket")
    staff = await verifier.verify(tokens.token("balie.els"))
    assert (staff.name, staff.service_area, sorted(staff.roles)) == (
        "balie.els", "kempen-gml", ["loket_staff"])
    system = await verifier.verify(tokens.token("organiser-zonneke"))
    assert (system.organiser_id, sorted(system.roles)) == ("org-zonneke", ["organiser"])
    with pytest.raises(jwt.InvalidAudienceError):
        await OidcVerifier(issuer, "another-api").verify(tokens.token("balie.els"))
