"""The people and systems tests sign in as, with the claims their tokens carry (as the
demo realm in deploy/keycloak gives them), and test clients that sign each request in
as the person a real user of that route would be."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

from loketkit.testing import TestIssuer
from tools.infra.tokens import BearerFor

AREA = "kempen-gml"
OTHER_AREA = "andere-zone"
ORGANISER = "org-zonneke"
OTHER_ORGANISER = "org-bolleboos"


def _claims(subject: str, *roles: str, **tenant: str) -> dict[str, Any]:
    return {"sub": subject, "roles": list(roles), "preferred_username": subject, **tenant}


# name -> token claims; "anonymous" sends no token.
PERSONAS: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "parent": _claims("parent-an", "parent"),
    "other_parent": _claims("parent-bart", "parent"),
    "staff": _claims("balie-els", "loket_staff", service_area=AREA),
    "staff_other_area": _claims("balie-tom", "loket_staff", service_area=OTHER_AREA),
    "coordinator": _claims("coordinator-jan", "coordinator", service_area=AREA),
    "coordinator_other_area": _claims("coordinator-mia", "coordinator", service_area=OTHER_AREA),
    "organiser": _claims("organiser-zonneke", "organiser", organiser_id=ORGANISER),
    "other_organiser": _claims("organiser-bolleboos", "organiser", organiser_id=OTHER_ORGANISER),
    "partner": _claims("partner-ocmw-geel", "partner", service_area=AREA),
    "partner_other_area": _claims("partner-ocmw-mol", "partner", service_area=OTHER_AREA),
    "municipality": _claims("gemeente-geel", "municipality", nis_code="13008", service_area=AREA),
    "other_municipality": _claims("gemeente-mol", "municipality", nis_code="13025",
                                  service_area=OTHER_AREA),
    "opgroeien": _claims("opgroeien-kim", "opgroeien"),
    "admin": _claims("beheer-ria", "loket_admin", service_area=AREA),
    "admin_other_area": _claims("beheer-other", "loket_admin", service_area=OTHER_AREA),
}

ISSUER = TestIssuer()  # one key for the test run: minting RSA keys is slow


def token(persona: str) -> str | None:
    claims = PERSONAS[persona]
    return None if claims is None else ISSUER.token(claims)


def headers(persona: str) -> dict[str, str]:
    found = token(persona)
    return {"Authorization": f"Bearer {found}"} if found else {}


Rule = tuple[str, str, str]  # (method or "*", path regex, persona)


class AsPersonas(BearerFor):
    """Picks the persona per request: the first rule whose method and path match."""

    def __init__(self, rules: Sequence[Rule], default: str) -> None:
        compiled = [(method, re.compile(path), persona) for method, path, persona in rules]

        def pick(request: httpx.Request) -> str | None:
            for method, path, persona in compiled:
                if method in ("*", request.method) and path.fullmatch(request.url.path):
                    return token(persona)
            return token(default)

        super().__init__(pick)


# Who a real user of each service's routes is, for tests that are about something else.
INTAKE_USERS = AsPersonas([
    ("*", r"/offers/[^/]+/contact", "organiser"),
    ("POST", r"/service-areas/.*", "admin"),
], default="staff")
CAPACITY_USERS = AsPersonas([
    ("*", r"/closures.*|/locations/[^/]+/closures", "coordinator"),
    ("POST", r"/service-areas/.*", "admin"),
], default="organiser")
MATCHING_USERS = AsPersonas([("POST", r"/service-areas/[^/]+/settings", "admin")],
                            default="staff")
REPORTING_USERS = AsPersonas([], default="opgroeien")


def signed_in(app: Any, users: httpx.Auth) -> httpx.Auth:
    """Lets `app` trust this test run's tokens; the auth a test client signs in with."""
    app.state.verifier = ISSUER.verifier
    return users


def loket_of(area: str) -> BearerFor:
    """The loket's people of one (test-made) area at once: staff, coordinator and
    administrator, for tests about something else than roles."""
    claims = _claims(f"loket-{area}", "loket_staff", "coordinator", "loket_admin",
                     service_area=area)
    return BearerFor(lambda request: ISSUER.token(claims))
