"""Bearer tokens are checked for signature, expiry, issuer and audience; a bad one is a
401 that says nothing about why; settings refuse development defaults outside
development mode."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from loketkit import auth
from loketkit.auth import NoIssuer, OidcVerifier, verifier_from_settings
from loketkit.settings import InsecureSettings
from loketkit.testing import TestIssuer
from services.intake.settings import IntakeSettings
from tests.personas import ISSUER, PERSONAS
from tests.unit.intake.harness import new_intake

STAFF: dict[str, Any] = PERSONAS["staff"] or {}


@pytest.mark.parametrize("token", [
    ISSUER.token(STAFF, expires_in=-120),  # expired beyond the clock skew
    ISSUER.token(STAFF, aud=["another-api"]),
    ISSUER.token(STAFF, iss="https://login.example/realms/other"),
    TestIssuer().token(STAFF),  # signed with another key
    "not-a-token",
])
async def test_a_bad_token_is_a_401_without_details(token: str) -> None:
    async with new_intake() as intake:
        response = await intake.client.get("/requests",
                                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "the access token is not valid"


async def test_a_valid_token_names_the_caller_and_its_tenant() -> None:
    caller = await ISSUER.verifier.verify(ISSUER.token(STAFF))
    assert (caller.subject, caller.service_area, sorted(caller.roles)) == (
        "balie-els", "kempen-gml", ["loket_staff"])


async def test_keycloak_realm_roles_are_read_too() -> None:
    claims = {"sub": "x", "realm_access": {"roles": ["coordinator", "offline_access"]},
              "service_area": ["kempen-gml"]}
    caller = await ISSUER.verifier.verify(ISSUER.token(claims))
    assert (sorted(caller.roles), caller.service_area) == (["coordinator"], "kempen-gml")


async def test_without_an_issuer_every_token_is_refused() -> None:
    assert isinstance(verifier_from_settings(None, "loket", None), NoIssuer)
    assert isinstance(verifier_from_settings("https://login.example/realms/loket", "loket",
                                             None), OidcVerifier)


def test_outside_development_mode_the_development_keys_and_no_issuer_are_refused() -> None:
    with pytest.raises(InsecureSettings) as refused:
        IntakeSettings(development_mode=False).require_secure()
    assert [problem.split(":")[0] for problem in refused.value.problems] == [
        "OIDC_ISSUER", "SESSION_SECRET", "CHILD_REF_KEY", "PERSONAL_LINK_KEY"]
    with pytest.raises(InsecureSettings):
        IntakeSettings(oidc_issuer="https://login.example/realms/loket",
                       child_ref_key="short").require_secure()
    IntakeSettings(oidc_issuer="https://login.example/realms/loket", session_secret="s" * 32,
                   child_ref_key="k" * 32, personal_link_key="p" * 32).require_secure()
    IntakeSettings(development_mode=True).require_secure()


async def test_a_token_checked_once_is_not_checked_again_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks: list[str] = []
    real_decode = auth.decode

    def counting_decode(token: str, *args: Any) -> tuple[auth.Caller, float]:
        checks.append(token)
        return real_decode(token, *args)

    monkeypatch.setattr(auth, "decode", counting_decode)
    issuer = TestIssuer()  # its verifier has kept no token yet
    first, second = issuer.token(STAFF), issuer.token(STAFF, jti="another")
    for token in (first, first, second, first):
        assert (await issuer.verifier.verify(token)).subject == "balie-els"
    assert checks == [first, second]

    later = time.time() + 601  # past the tokens' expiry: checked again
    monkeypatch.setattr(time, "time", lambda: later)
    await issuer.verifier.verify(first)
    assert checks == [first, second, first]


def test_the_kept_tokens_stay_bounded() -> None:
    kept = auth.VerifiedTokens()
    caller = auth.Caller("x", frozenset())
    for n in range(auth.VerifiedTokens.MAX_TOKENS + 5):
        kept.keep(f"token-{n}", caller, time.time() + 60)
    assert kept.get(f"token-{auth.VerifiedTokens.MAX_TOKENS + 4}") == caller
    assert kept.get("token-0") is None


async def test_requests_arriving_together_fetch_the_providers_keys_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a restart a partner system's requests arrive at once, each with a token not
    seen yet: one fetch of the issuer's keys serves them all."""
    issuer = TestIssuer()
    verifier = OidcVerifier(issuer.issuer, issuer.audience)
    fetches: list[str] = []

    def fetch_key(token: str) -> Any:
        time.sleep(0.05)  # the provider takes its time
        fetches.append(token)
        return issuer.public_key

    monkeypatch.setattr(verifier, "_fetch_key", fetch_key)
    tokens = [issuer.token(STAFF, jti=f"request-{n}") for n in range(16)]
    callers = await asyncio.gather(*(verifier.verify(token) for token in tokens))
    assert [caller.subject for caller in callers] == ["balie-els"] * 16
    assert len(fetches) == 1
