"""Families without an account: register anonymously (rate-limited), then follow and
change their own request with the personal link they were mailed; the link opens
that one request, expires, and can be revoked or replaced by loket staff."""

from __future__ import annotations

from datetime import timedelta

import httpx

from services.intake.personal_links import new_link, sign
from tests.personas import headers
from tests.unit.intake.harness import NOW, REQUEST, Intake, closure, proposal

NO_TOKEN = {"Authorization": ""}  # the test client signs in otherwise


def link(token: str) -> dict[str, str]:
    return NO_TOKEN | {"X-Personal-Link": token}


async def register_anonymously(intake: Intake) -> str:
    made = await intake.client.post("/requests", json=REQUEST, headers=NO_TOKEN)
    assert made.status_code == 201, made.text
    token: str = made.json()["personal_link"]
    return token


async def test_the_link_opens_the_familys_own_request_and_nothing_else(intake: Intake) -> None:
    await intake.register("loc-a")
    token = await register_anonymously(intake)
    assert (await intake.submit()).status_code == 201  # req-2, another family's
    await intake.deliver(proposal("req-1"))
    assert (await intake.client.get("/requests/req-1", headers=link(token))).status_code == 200
    changed = await intake.client.patch("/requests/req-1", headers=link(token),
                                        json={"day_parts": ["mon_am", "mon_pm"]})
    assert changed.status_code == 200
    accepted = await intake.client.post("/requests/req-1/offers/m-req-1-loc-a/accept",
                                        headers=link(token))
    assert accepted.status_code == 200
    assert (await intake.client.get("/requests/req-2", headers=link(token))).status_code == 404
    listed = await intake.client.get("/requests", headers=link(token))
    assert (listed.status_code, listed.json()) == (200, [])
    assert (await intake.client.get("/requests/req-1", headers=NO_TOKEN)).status_code == 401


async def test_the_link_is_mailed_with_the_confirmation(intake: Intake) -> None:
    await intake.register("loc-a")
    token = await register_anonymously(intake)
    [notice] = intake.uow.notices.rows
    assert notice.kind == "personal_link" and notice.recipient == "an@example.be"
    assert f"/mijn-aanvraag#{token}" in notice.body
    assert "Lotte" not in notice.subject  # subjects travel further than bodies


async def test_a_revoked_or_replaced_link_stops_working(intake: Intake) -> None:
    await intake.register("loc-a")
    first = await register_anonymously(intake)
    handed = await intake.client.post("/requests/req-1/personal-link", headers=headers("staff"))
    assert handed.status_code == 201
    second = handed.json()["personal_link"]
    old = await intake.client.get("/requests/req-1", headers=link(first))
    assert (old.status_code, old.json()["error"]) == (
        401, "the personal link is revoked or expired")
    assert (await intake.client.get("/requests/req-1", headers=link(second))).status_code == 200
    revoked = await intake.client.delete("/requests/req-1/personal-link", headers=link(second))
    assert (revoked.status_code, revoked.json()["revoked"]) == (200, 1)
    assert (await intake.client.get("/requests/req-1", headers=link(second))).status_code == 401


async def test_an_expired_or_forged_link_is_refused(intake: Intake) -> None:
    await intake.register("loc-a")
    token = await register_anonymously(intake)
    forged = sign(new_link("lnk-1", "req-1", NOW, 180), "another-key-" + "x" * 32)
    assert (await intake.client.get("/requests/req-1", headers=link(forged))).status_code == 401
    intake.clock.now = NOW + timedelta(days=181)
    expired = await intake.client.get("/requests/req-1", headers=link(token))
    assert expired.status_code == 401


async def test_anonymous_registration_is_rate_limited_per_address(intake: Intake) -> None:
    await intake.register("loc-a")
    limit = intake.app.state.context.settings.anonymous_registrations_per_minute
    answers = [(await intake.client.post("/requests", json=REQUEST, headers=NO_TOKEN))
               for _ in range(limit + 1)]
    assert [a.status_code for a in answers] == [201] * limit + [429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].json()["fields"][0]["field"] == "authorization"
    signed_in = await intake.client.post("/requests", json=REQUEST)  # loket staff
    assert signed_in.status_code == 201
    assert isinstance(signed_in, httpx.Response)


async def test_after_a_closure_the_link_opens_the_crisis_request_too(intake: Intake) -> None:
    """The child keeps its link: the family follows and answers the new request with it."""
    await intake.register("loc-a")
    await intake.register("loc-b")
    token = await register_anonymously(intake)  # req-1, choices loc-a (and more)
    assert (await intake.submit()).status_code == 201  # req-2, another family's
    await intake.deliver(proposal("req-1"))
    await intake.deliver(proposal("req-2"))
    assert await intake.deliver(closure("loc-a")) == "applied"
    old = await intake.uow.requests.get("req-1")
    other = await intake.uow.requests.get("req-2")
    assert old and old.replaced_by_request_id and other and other.replaced_by_request_id
    new = await intake.client.get(f"/requests/{old.replaced_by_request_id}",
                                  headers=link(token))
    assert (new.status_code, new.json()["urgency"]) == (200, "crisis")
    theirs = await intake.client.get(f"/requests/{other.replaced_by_request_id}",
                                     headers=link(token))
    assert theirs.status_code == 404
