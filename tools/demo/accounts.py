"""Who the demo acts as, signed in at the real identity provider like everyone else:
the OCMW's partner system registers the families' requests, loket staff assess urgency
and vulnerability and answer offers for families at the desk, and each organiser's own
system runs its own locations
(its locations, free places, enrolments and answers to offers)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

from tools.infra.tokens import TokenSource

PARTNER = "partner-ocmw-geel"
STAFF = "balie.els"
LOCATION_PATH = re.compile(r"/locations/([^/]+)")
OFFER_PATH = re.compile(r"/offers/([^/]+)/")

# What the demo prints: who a visitor can sign in as, and for what.
SIGN_IN = [
    ("balie.els", "loket staff, Kempen (requests, worklists)"),
    ("balie.tom", "loket staff of another area (sees none of Kempen's)"),
    ("coordinator.jan", "coordinator, Kempen (closures, audit trail)"),
    ("beheer.ria", "loket administrator, Kempen (area settings)"),
    ("organisator.lies", "organiser Het Zonneke (its own locations)"),
    ("gemeente.geel", "municipality Geel (its own figures)"),
    ("opgroeien.kim", "Opgroeien (figures of every area)"),
    ("ouder.an", "parent (their own requests)"),
]


def organiser_account(organiser_id: str) -> str:
    """org-zonneke -> organiser-zonneke: the organiser system's client."""
    return f"organiser-{organiser_id.removeprefix('org-')}"


@dataclass
class DemoAccounts:
    """Which account a seeding request signs in as (see `account`)."""

    tokens: TokenSource
    intake: str
    capacity: str
    organiser_of_location: dict[str, str] = field(default_factory=dict)
    location_of_offer: dict[str, str] = field(default_factory=dict)

    def account(self, request: httpx.Request) -> str | None:
        url = str(request.url)
        path = request.url.path
        if url.startswith(self.intake):
            if path == "/locations":
                return None  # the public directory
            return PARTNER if (request.method, path) == ("POST", "/requests") else STAFF
        location = LOCATION_PATH.match(path)
        offer = OFFER_PATH.match(path)
        location_id = (location.group(1) if location
                       else self.location_of_offer.get(offer.group(1)) if offer else None)
        organiser = self.organiser_of_location.get(location_id or "")
        return organiser_account(organiser) if organiser else STAFF

    def as_organiser(self, organiser_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.token(organiser_account(organiser_id))}"}
