"""Loket staff's pages in intake: the worklist sorts the area's requests into what staff
must do; staff search the area's requests, open one (never another area's), assess
vulnerability and decide urgency (with a reason, errors next to the fields), answer an
offer for a family without e-mail and hand over a new personal link. A form posted from
a browser session needs its CSRF token. An organiser sees the contact of a family that
accepted an offer at its own location, as the API decides."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx

from contracts.events import MatchProposed
from loketkit.web.signin import ProviderEndpoints
from tests.personas import ISSUER, PERSONAS, headers
from tests.unit.intake.harness import (
    CHILD,
    NOW,
    PARENT,
    Intake,
    closure,
    proposal,
)

AUTHORIZE = "https://login.test/auth"
TOKEN = "https://login.test/token"
NO_EMAIL = PARENT | {"email": None}
REASON = "Mama is ernstig ziek, bevestigd door het OCMW"


def section(page: httpx.Response, key: str) -> str:
    """One worklist section's HTML."""
    found = re.search(rf'<section aria-labelledby="{key}">(.*?)</section>', page.text, re.S)
    assert found is not None, key
    return found[1]


async def child(intake: Intake, first: str, last: str, **changes: object) -> str:
    created = await intake.submit(child=CHILD | {"first_name": first, "last_name": last},
                                  **changes)
    assert created.status_code == 201, created.json()
    return str(created.json()["request_id"])


async def test_the_worklist_shows_each_kind_of_case(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.register("loc-b")
    accepted = await child(intake, "Lotte", "Peeters")
    asking = await child(intake, "Mila", "Janssens", urgency_reason=REASON)
    assert (await intake.follow(asking))["urgency_status"] == "asked"
    urgent = await child(intake, "Noor", "Claes", urgency_reason=REASON)
    no_email = await child(intake, "Finn", "Maes", parent=NO_EMAIL,
                           preferred_location_ids=["loc-b"])
    await intake.deliver(proposal(accepted))
    assert (await intake.client.post(
        f"/requests/{accepted}/offers/m-{accepted}-loc-a/accept")).status_code == 200
    await intake.deliver(proposal(no_email, "loc-b", due=NOW + timedelta(days=100)))
    granted = await intake.client.post(
        f"/balie/aanvragen/{urgent}/beoordeling", data={"beslissing": "granted", "reden": REASON})
    assert granted.status_code == 303
    # past the organiser's deadline (7 days after the family's), and asked to confirm
    intake.clock.now = NOW + timedelta(days=92)
    assert await intake.app.state.jobs["confirmations"]() == 4

    page = await intake.client.get("/balie")
    assert page.status_code == 200
    overdue = section(page, "organisator-te-laat")
    assert "Lotte Peeters" in overdue and "KDV" in overdue and "Mila" not in overdue
    assert f'href="/balie/aanvragen/{accepted}"' in overdue
    assert "Noor Claes" in section(page, "dringend-zonder-aanbod")
    assert "Mila" not in section(page, "dringend-zonder-aanbod")
    assert "Mila Janssens" in section(page, "dringendheid-gevraagd")
    assert "Noor" not in section(page, "dringendheid-gevraagd")
    assert all(name in section(page, "te-bevestigen") for name in ("Lotte", "Mila", "Noor", "Finn"))
    without = section(page, "zonder-email")
    assert "Finn Maes" in without and "Lotte" not in without
    assert "Zonder e-mail, met een open aanbod (1)" in without
    assert "Na een sluiting zonder locatie (0)" in section(page, "na-sluiting")


async def test_a_child_a_closure_left_without_a_location_is_on_the_worklist(
    intake: Intake,
) -> None:
    await intake.register("loc-a")
    request_id = await child(intake, "Lotte", "Peeters")
    await intake.deliver(proposal(request_id))
    await intake.deliver(closure("loc-a"))
    crisis = section(await intake.client.get("/balie"), "na-sluiting")
    assert "Na een sluiting zonder locatie (1)" in crisis and "Lotte Peeters" in crisis
    assert "c-1" in crisis


async def test_search_finds_the_areas_requests_by_name_place_and_id(intake: Intake) -> None:
    await intake.register("loc-a")
    lotte = await child(intake, "Lotte", "Peeters")
    mila = await child(intake, "Mila", "Janssens", parent=PARENT | {"name": "Jan Janssens"})

    async def found(query: str) -> str:
        page = await intake.client.get("/balie/aanvragen", params={"q": query})
        assert page.status_code == 200
        return page.text.split("<h2>", 1)[1]

    by_name = await found("janssens")
    assert "Mila Janssens" in by_name and "Lotte" not in by_name
    assert f'href="/balie/aanvragen/{mila}"' in by_name
    assert "Lotte Peeters" in await found("An Peeters")  # the parent's name
    both = await found("")
    assert "Meest recente aanvragen (2)" in both
    assert both.index("Mila") < both.index("Lotte")  # most recent first
    assert "Mila" in await found("geel") and "Mila" in await found("2440")
    assert "Geen aanvragen gevonden" in await found("Vermeulen")
    # a withdrawn request is found by its exact id
    assert (await intake.client.post(f"/requests/{lotte}/withdraw")).status_code == 200
    withdrawn = await found(lotte)
    assert "Lotte Peeters" in withdrawn and "Ingetrokken" in withdrawn
    other = await intake.client.get("/balie/aanvragen", params={"q": "janssens"},
                                    headers=headers("staff_other_area"))
    assert other.status_code == 200 and "Mila" not in other.text


async def test_another_areas_staff_do_not_find_the_request(intake: Intake) -> None:
    await intake.register("loc-a")
    request_id = await child(intake, "Lotte", "Peeters")
    page = await intake.client.get(f"/balie/aanvragen/{request_id}")
    assert page.status_code == 200 and "<h1>Aanvraag van Lotte Peeters</h1>" in page.text
    for persona in ("staff_other_area", "coordinator_other_area"):
        hidden = await intake.client.get(f"/balie/aanvragen/{request_id}",
                                         headers=headers(persona))
        assert hidden.status_code == 404
        assert "Lotte" not in hidden.text and "bestaan niet" in hidden.text
    missing = await intake.client.get("/balie/aanvragen/req-999")
    assert missing.status_code == 404


async def test_staff_grant_urgency_with_a_reason(intake: Intake) -> None:
    await intake.register("loc-a")
    request_id = await child(intake, "Lotte", "Peeters", urgency_reason="Werk start")
    assessed = await intake.client.post(f"/balie/aanvragen/{request_id}/beoordeling", data={
        "kenmerken": ["low_income", "poor_housing"], "beslissing": "granted",
        "reden": f"  {REASON} "})
    assert (assessed.status_code, assessed.headers["location"]) == (
        303, f"/balie/aanvragen/{request_id}")
    followed = await intake.follow(request_id)
    assert (followed["urgency"], followed["urgency_status"]) == ("urgent", "granted")
    assert followed["urgency_decision_reason"] == REASON and followed["vulnerable"] is True
    [entry] = intake.uow.audit.rows
    assert (entry.action, entry.staff_member) == ("assessed_urgency_granted", "balie-els")
    page = await intake.client.get(f"/balie/aanvragen/{request_id}")
    assert "Toegekend door het loket" in page.text and REASON in page.text
    assert 'value="low_income" checked' in page.text  # the assessment so far


async def test_an_urgency_decision_without_a_reason_is_sent_back_with_the_values_typed(
    intake: Intake,
) -> None:
    await intake.register("loc-a")
    request_id = await child(intake, "Lotte", "Peeters", urgency_reason="Werk start")
    answer = await intake.client.post(f"/balie/aanvragen/{request_id}/beoordeling", data={
        "kenmerken": ["health_problems"], "beslissing": "granted", "reden": "  "})
    assert answer.status_code == 422
    assert re.search(r'id="fout-reden">.*Geef de reden voor je beslissing over de '
                     r"dringendheid\.</p>", answer.text)
    assert '<a href="#veld-reden">' in answer.text  # in the error summary too
    assert 'value="health_problems" checked' in answer.text
    assert 'value="granted" checked' in answer.text
    assert 'aria-invalid="true"' in answer.text
    # a reason without a decision: choose one
    undecided = await intake.client.post(f"/balie/aanvragen/{request_id}/beoordeling",
                                         data={"reden": REASON})
    assert undecided.status_code == 422 and 'id="fout-beslissing"' in undecided.text
    assert REASON in undecided.text
    followed = await intake.follow(request_id)
    assert (followed["urgency_status"], followed["assessed_at"]) == ("asked", None)
    assert intake.uow.audit.rows == []


async def test_staff_answer_an_offer_for_a_family_without_email(intake: Intake) -> None:
    await intake.register("loc-a")
    request_id = await child(intake, "Finn", "Maes", parent=NO_EMAIL)
    await intake.deliver(proposal(request_id))
    match_id = f"m-{request_id}-loc-a"
    url = f"/balie/aanvragen/{request_id}/aanbod/{match_id}"
    page = await intake.client.get(f"/balie/aanvragen/{request_id}")
    assert f'action="{url}"' in page.text and "Geen e-mail" in page.text

    empty = await intake.client.post(url, data={})
    assert empty.status_code == 422 and "Kies hoe het gezin antwoordt." in empty.text
    answered = await intake.client.post(url, data={f"antwoord-{match_id}": "accept_keep_waiting"})
    assert answered.status_code == 303
    offers = (await intake.follow(request_id))["offers"]
    assert isinstance(offers, list)
    [offer] = offers
    assert (offer["status"], offer["answered_by"], offer["keep_waiting_for_higher_choices"]) == (
        "accepted", "loket_staff", True)
    [entry] = intake.uow.audit.rows
    assert (entry.action, entry.actor, entry.staff_member) == (
        "offer_accepted", "loket_staff", "balie-els")
    again = await intake.client.post(url, data={f"antwoord-{match_id}": "decline"})
    assert again.status_code == 409 and "kan niet meer beantwoord worden" in again.text
    coordinator = await intake.client.post(url, data={f"antwoord-{match_id}": "decline"},
                                           headers=headers("coordinator"))
    assert coordinator.status_code == 403


# --- a browser session: forms need the session's CSRF token ---------------------------


def provider_for(persona: str) -> tuple[httpx.MockTransport, dict[str, str]]:
    """The provider's token endpoint: hands out the persona's token for the right
    code and PKCE verifier."""
    seen: dict[str, str] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        form = {name: values[0] for name, values in parse_qs(request.content.decode()).items()}
        made = base64.urlsafe_b64encode(
            hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(b"=").decode()
        if form.get("code") != "the-code" or made != seen.get("challenge"):
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(200, json={"access_token": ISSUER.token(PERSONAS[persona] or {}),
                                         "token_type": "Bearer"})

    return httpx.MockTransport(handle), seen


def browser(intake: Intake) -> httpx.AsyncClient:
    """A browser without a token (https: the session cookie is Secure)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=intake.app),
                             base_url="https://intake")


async def sign_in(intake: Intake, client: httpx.AsyncClient, persona: str, page: str) -> None:
    """Opens `page`, signs in through the provider and comes back to it."""
    transport, seen = provider_for(persona)
    intake.app.state.oidc_transport = transport
    intake.app.state.oidc_endpoints = ProviderEndpoints(AUTHORIZE, TOKEN, None)
    to_sign_in = await client.get(page)
    to_provider = await client.get(to_sign_in.headers["location"])
    query = {name: values[0] for name, values in
             parse_qs(urlparse(to_provider.headers["location"]).query).items()}
    seen["challenge"] = query["code_challenge"]
    back = await client.get("/aanmelden/terug", params={"code": "the-code",
                                                        "state": query["state"]})
    assert (back.status_code, back.headers["location"]) == (303, page)


async def test_a_form_from_a_session_needs_its_csrf_token(intake: Intake) -> None:
    await intake.register("loc-a")
    request_id = await child(intake, "Lotte", "Peeters")
    detail = f"/balie/aanvragen/{request_id}"
    async with browser(intake) as client:
        await sign_in(intake, client, "staff", detail)
        page = await client.get(detail)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and token is not None
        forged = await client.post(f"{detail}/beoordeling", data={"kenmerken": "low_income"})
        assert forged.status_code == 403 and "Dit formulier is verlopen" in forged.text
        assert (await intake.follow(request_id))["assessed_at"] is None

        sent = await client.post(f"{detail}/beoordeling", data={
            "kenmerken": "low_income", "csrf_token": token[1]})
        assert sent.status_code == 303
        shown = await client.get(detail)
        assert "Beoordeling bewaard." in shown.text

        link = await client.post(f"{detail}/persoonlijke-link",
                                  data={"csrf_token": token[1]})
        assert link.status_code == 303
        once = await client.get(detail)
        assert "Nieuwe persoonlijke link" in once.text and "/mijn-aanvraag#" in once.text
        assert "/mijn-aanvraag#" not in (await client.get(detail)).text  # shown once


# --- the organiser --------------------------------------------------------------------


async def test_an_organiser_sees_the_contact_of_a_family_that_accepted_its_offer(
    intake: Intake,
) -> None:
    await intake.register("loc-a")
    shared = await child(intake, "Lotte", "Peeters")
    private = await child(intake, "Mila", "Janssens", share_contact_with_organiser=False)
    for request_id in (shared, private):
        await intake.deliver(proposal(request_id))
    open_offer = await child(intake, "Noor", "Claes")
    await intake.deliver(MatchProposed.model_validate(
        proposal(open_offer).model_dump() | {"match_id": "m-open"}))
    for request_id in (shared, private):
        assert (await intake.client.post(
            f"/requests/{request_id}/offers/m-{request_id}-loc-a/accept")).status_code == 200

    page = await intake.client.get(f"/organisator/contact/m-{shared}-loc-a",
                                   headers=headers("organiser"))
    assert page.status_code == 200
    assert all(text in page.text for text in ("An Peeters", "an@example.be", "Lotte", "KDV"))
    assert "Peeters</dd>" not in page.text.split("Kind</dt>")[1]  # the first name only
    for persona, match_id in (("other_organiser", f"m-{shared}-loc-a"),
                              ("organiser", f"m-{private}-loc-a"), ("organiser", "m-open")):
        hidden = await intake.client.get(f"/organisator/contact/{match_id}",
                                         headers=headers(persona))
        assert hidden.status_code == 404 and "an@example.be" not in hidden.text
    staff = await intake.client.get(f"/organisator/contact/m-{shared}-loc-a")
    assert staff.status_code == 403
