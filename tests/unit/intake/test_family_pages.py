"""The family pages, in Dutch and without JavaScript: register through the form (and the
desk's same form), every error next to its field with everything typed kept, the
locations ordered from a postcode, the status page with its states and answers, the
personal link opened from a paste or a mail, and another family's request hidden."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from services.intake.domain.model import OfferStatus, Status
from tests.personas import headers
from tests.unit.intake.harness import (
    AROUND_GEEL,
    NOW,
    REQUEST,
    Intake,
    closure,
    placed,
    proposal,
    refused,
)

FORM: dict[str, str | list[str]] = {
    "child_first_name": "Lotte", "child_last_name": "Peeters", "child_birth_date": "12/10/2026",
    "parent_name": "An Peeters", "parent_email": "an@example.be", "parent_phone": "0470 12 34 56",
    "parent_postcode": "2440", "municipality_nis": "13008", "desired_start_date": "2027-09-01",
    "day_parts": ["mon_am", "mon_pm", "tue_am"], "keuze_1": "loc-a", "keuze_2": "loc-b",
    "priority_parents_working_or_training": "ja", "sworn_statement": "ja",
    "share_contact_with_organiser": "ja", "actie": "registreer",
}
NO_TOKEN = {"Authorization": ""}


@pytest.fixture
async def browser(intake: Intake) -> AsyncIterator[httpx.AsyncClient]:
    """A browser without an account: keeps its (Secure) session cookie, so https."""
    await intake.register("loc-a", name="Zonneke")
    await intake.register("loc-b", postcode="2400", name="Bolleboos")
    transport = httpx.ASGITransport(app=intake.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://intake") as client:
        yield client


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def post_form(client: httpx.AsyncClient, page: str, path: str,
                    data: dict[str, str | list[str]]) -> httpx.Response:
    """Opens `page` for its CSRF token, then posts `data` to `path` as that form does."""
    token = csrf_of(await client.get(page))
    return await client.post(path, data={**data, "csrf_token": token})


def error_at(page: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="fout-{name}"><span class="visually-hidden">'
                      rf"Fout: </span>([^<]*)</p>", page)
    return html.unescape(found.group(1)) if found else None


def value_of(page: str, name: str) -> str | None:
    found = re.search(rf'id="veld-{name}" name="{name}" type="[a-z]+" value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


def selected(page: str, name: str) -> str | None:
    select = re.search(rf'<select id="veld-{name}".*?</select>', page, re.S)
    assert select, name
    found = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return found.group(1) if found else None


def options(page: str, name: str) -> list[tuple[str, str]]:
    """(value, label) of a select's options, the blank one left out."""
    select = re.search(rf'<select id="veld-{name}".*?</select>', page, re.S)
    assert select, name
    return [(value, html.unescape(label)) for value, label in re.findall(
        r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select.group(0))]


def checked(page: str, name: str, value: str = "ja") -> bool:
    found = re.search(rf'name="{name}"(?: type="checkbox")? value="{value}" checked', page)
    return found is not None


async def register(browser: httpx.AsyncClient, **changes: str | list[str]) -> httpx.Response:
    return await post_form(browser, "/aanvraag", "/aanvraag", FORM | changes)


async def open_link(browser: httpx.AsyncClient, pasted: str) -> httpx.Response:
    return await post_form(browser, "/mijn-aanvraag", "/mijn-aanvraag", {"link": pasted})


async def test_a_family_registers_through_the_form_and_gets_its_personal_link(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    made = await register(browser)
    assert (made.status_code, made.headers["location"]) == (303, "/aanvraag/geregistreerd")
    stored = intake.uow.requests.rows["req-1"]
    assert (stored.child.first_name, str(stored.child.birth_date), stored.day_parts) == (
        "Lotte", "2026-10-12", ("mon_am", "mon_pm", "tue_am"))
    assert stored.preferred_location_ids == ("loc-a", "loc-b")
    assert stored.priority.parents_working_or_training and stored.sworn_statement_at == NOW
    assert stored.owner_subject is None and stored.share_contact_with_organiser
    assert [type(event).__name__ for event in intake.uow.published_data()] == [
        "RequestSubmitted"]
    page = (await browser.get("/aanvraag/geregistreerd")).text
    assert "Je aanvraag is geregistreerd" in page
    token = re.search(r"/mijn-aanvraag#([\w.-]+)", page)
    assert token and token.group(1) in intake.uow.notices.rows[0].body  # the mailed link
    # The link is kept in the session: the family goes straight to its request.
    mine = await browser.get("/mijn-aanvraag")
    assert (mine.status_code, mine.headers["location"]) == (303, "/mijn-aanvraag/req-1")
    status = await browser.get("/mijn-aanvraag/req-1")
    assert status.status_code == 200 and "Aanvraag voor Lotte" in status.text


async def test_errors_come_back_next_to_their_fields_with_everything_typed(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    typed = FORM | {"child_last_name": "", "parent_email": "an-at-example", "parent_postcode": "24",
                    "day_parts": [], "keuze_2": "loc-a", "sworn_statement": "",
                    "urgency_reason": "Ik begin <dringend> te werken", "max_distance_km": "2,5"}
    answer = await register(browser, **typed)
    assert answer.status_code == 422
    page = answer.text
    assert error_at(page, "child_last_name") == "Vul de familienaam van het kind in."
    assert error_at(page, "parent_email") == (
        "Geef een geldig e-mailadres, zoals naam@voorbeeld.be.")
    assert error_at(page, "parent_postcode") == "Geef de postcode: 4 cijfers, zoals 2440."
    assert error_at(page, "day_parts") == "Kies minstens één dagdeel."
    assert error_at(page, "keuze_2") == (
        "Deze opvang koos je al hoger. Kies een andere of laat leeg.")
    assert (error_at(page, "sworn_statement") or "").startswith("Je gaf gegevens op voor voorrang")
    assert error_at(page, "child_first_name") is None
    assert page.count('<li><a href="#veld-') == 6  # the summary: one line per field
    # Every typed value is back in the form.
    for name in ("child_first_name", "child_birth_date", "parent_name", "parent_email",
                 "parent_phone", "parent_postcode", "desired_start_date", "max_distance_km"):
        assert value_of(page, name) == typed[name], name
    assert (selected(page, "municipality_nis"), selected(page, "keuze_1"),
            selected(page, "keuze_2")) == ("13008", "loc-a", "loc-a")
    assert checked(page, "priority_parents_working_or_training")
    assert checked(page, "share_contact_with_organiser")
    assert not checked(page, "sworn_statement")
    assert "Ik begin &lt;dringend&gt; te werken</textarea>" in page
    assert intake.uow.requests.rows == {}


async def test_the_rules_of_the_domain_speak_dutch_at_their_field(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    early = await register(browser, desired_start_date="01/01/2026")
    assert early.status_code == 422
    assert error_at(early.text, "desired_start_date") == (
        "De startdatum mag niet vóór de geboortedatum liggen.")
    nothing = await register(browser, keuze_1="", keuze_2="")
    assert error_at(nothing.text, "keuze_1") == (
        "Kies minstens één opvang, of vul een afstand in.")
    assert value_of(nothing.text, "child_first_name") == "Lotte"
    assert intake.uow.requests.rows == {}


async def test_a_form_without_its_csrf_token_is_refused(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    await browser.get("/aanvraag")  # a session, but the token is not sent
    refused_post = await browser.post("/aanvraag", data=FORM)
    assert refused_post.status_code == 403 and "Dit formulier is verlopen" in refused_post.text
    forged = await browser.post("/aanvraag", data=FORM | {"csrf_token": "raden"})
    assert forged.status_code == 403
    assert intake.uow.requests.rows == {}


async def test_the_locations_come_nearest_first_from_the_postcode(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    for location_id, postcode in AROUND_GEEL.items():
        await intake.register(location_id, postcode=postcode, name=location_id[4:].title())
    page = (await browser.get("/aanvraag")).text
    by_name = [label for _, label in options(page, "keuze_1")]
    assert by_name[:3] == ["Balen (2490)", "Bolleboos (2400)", "Brugge (8000)"]
    searched = await register(browser, actie="zoek", keuze_1="loc-mol", keuze_2="")
    assert searched.status_code == 200
    nearest = options(searched.text, "keuze_1")
    assert [value for value, _ in nearest][:5] == [
        "loc-a", "loc-meerhout", "loc-laakdal", "loc-westerlo", "loc-b"]
    assert nearest[0][1] == "Zonneke (2440) – 0,0 km"
    assert nearest[1][1] == "Meerhout (2450) – 6,9 km"
    assert nearest[-1][0] == "loc-nowhere"  # no coordinates: last, without a distance
    assert "gemeten vanaf postcode 2440" in searched.text
    assert selected(searched.text, "keuze_1") == "loc-mol"  # what was picked stays picked
    assert value_of(searched.text, "child_first_name") == "Lotte"
    assert intake.uow.requests.rows == {}  # searching sends nothing
    unknown = await register(browser, actie="zoek", parent_postcode="")
    assert unknown.status_code == 422
    assert (error_at(unknown.text, "parent_postcode") or "").startswith("Vul eerst je postcode in")


async def test_the_status_page_follows_offers_to_the_placement(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    await register(browser)
    page = (await browser.get("/mijn-aanvraag/req-1")).text
    assert "Loopt: we zoeken een plaats" in page and "Nog geen aanbod" in page
    await intake.deliver(proposal("req-1", "loc-b"))
    page = (await browser.get("/mijn-aanvraag/req-1")).text
    assert "Aanbod: antwoord vóór 30/11/2026 om 10:00" in page
    assert "/aanbod/m-req-1-loc-b/aanvaarden" in page and "/aanbod/m-req-1-loc-b/weigeren" in page
    assert "Aanvaarden en blijven wachten op mijn hogere keuzes" in page  # loc-a ranks higher

    accepted = await post_form(browser, "/mijn-aanvraag/req-1",
                               "/mijn-aanvraag/req-1/aanbod/m-req-1-loc-b/aanvaarden",
                               {"blijf_wachten": "ja"})
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/mijn-aanvraag/req-1")
    offer = intake.uow.requests.rows["req-1"].offers[0]
    assert offer.status is OfferStatus.ACCEPTED and offer.keep_waiting_for_higher_choices
    page = (await browser.get("/mijn-aanvraag/req-1")).text
    assert "Je aanvaardde de plaats in Bolleboos" in page  # the notice, once
    assert "Aanvaard, wachten op de opvang" in page and "hogere keuzes" in page
    assert "/aanvaarden" not in page  # answered: no more forms

    await intake.deliver(placed("req-1", "loc-b"))
    page = (await browser.get("/mijn-aanvraag/req-1")).text
    assert intake.uow.requests.rows["req-1"].status is Status.PLACED
    assert '<span class="status good">Geplaatst</span>' in page
    assert "Je kind is geplaatst: Bolleboos, vanaf 01/09/2027" in page
    assert "Je aanvaardde" not in page


async def test_a_family_declines_and_sees_a_refusal(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    await register(browser)
    await intake.deliver(proposal("req-1", "loc-a"))
    await intake.deliver(proposal("req-1", "loc-b"))
    declined = await post_form(browser, "/mijn-aanvraag/req-1",
                               "/mijn-aanvraag/req-1/aanbod/m-req-1-loc-a/weigeren", {})
    assert declined.status_code == 303
    await post_form(browser, "/mijn-aanvraag/req-1",
                    "/mijn-aanvraag/req-1/aanbod/m-req-1-loc-b/aanvaarden", {})
    await intake.deliver(refused("req-1", "loc-b"))
    page = (await browser.get("/mijn-aanvraag/req-1")).text
    assert "Geweigerd door jou" in page
    assert "De opvang kon je kind niet opnemen" in page and "de leeftijdsgroep is vol" in page
    again = await post_form(browser, "/mijn-aanvraag/req-1",
                            "/mijn-aanvraag/req-1/aanbod/m-req-1-loc-a/aanvaarden", {})
    assert again.status_code == 303  # too late: said on the page, nothing changes
    assert "kan je niet meer beantwoorden" in (await browser.get("/mijn-aanvraag/req-1")).text
    assert intake.uow.requests.rows["req-1"].offers[0].status is OfferStatus.DECLINED


async def test_a_pasted_or_mailed_link_opens_the_familys_request_only(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    made = await intake.client.post("/requests", json=REQUEST, headers=NO_TOKEN)
    token = made.json()["personal_link"]
    assert (await intake.submit()).status_code == 201  # req-2: another family's
    start = await browser.get("/mijn-aanvraag")
    assert start.status_code == 200 and "Open de link uit je e-mail" in start.text
    assert "location.hash" in start.text  # the mailed /mijn-aanvraag#<token> opens itself
    assert (await browser.get("/mijn-aanvraag/req-1")).headers["location"] == "/mijn-aanvraag"

    wrong = await open_link(browser, "https://loket.example/mijn-aanvraag#niet-een-echte-link")
    assert wrong.status_code == 422
    assert (error_at(wrong.text, "link") or "").startswith("Deze link werkt niet (meer)")
    assert value_of(wrong.text, "link") == "https://loket.example/mijn-aanvraag#niet-een-echte-link"
    empty = await open_link(browser, " ")
    assert (error_at(empty.text, "link") or "").startswith("Plak hier de link")

    opened = await open_link(browser, f"http://127.0.0.1:8001/mijn-aanvraag#{token}")
    assert (opened.status_code, opened.headers["location"]) == (303, "/mijn-aanvraag/req-1")
    assert (await browser.get("/mijn-aanvraag/req-1")).status_code == 200
    other = await browser.get("/mijn-aanvraag/req-2")
    assert other.status_code == 404 and "horen niet bij jou" in other.text
    sneaky = await post_form(browser, "/mijn-aanvraag/req-1",
                             "/mijn-aanvraag/req-2/intrekken", {})
    assert sneaky.status_code == 404
    assert intake.uow.requests.rows["req-2"].status is Status.WAITING

    # Staff hand over a new link: the old one in the session stops working at once.
    assert (await intake.client.post("/requests/req-1/personal-link")).status_code == 201
    gone = await browser.get("/mijn-aanvraag/req-1")
    assert (gone.status_code, gone.headers["location"]) == (303, "/mijn-aanvraag")


async def test_a_signed_in_parent_registers_and_follows_its_own(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    parent = headers("parent")  # a bearer token: no CSRF token needed
    made = await browser.post("/aanvraag", data=FORM, headers=parent)
    assert made.status_code == 303
    assert intake.uow.requests.rows["req-1"].owner_subject == "parent-an"
    done = await browser.get("/aanvraag/geregistreerd", headers=parent)
    assert "Je aanvraag is geregistreerd" in done.text and "/mijn-aanvraag#" not in done.text
    listed = await browser.get("/mijn-aanvraag", headers=parent)
    assert listed.status_code == 200 and 'href="/mijn-aanvraag/req-1">Lotte</a>' in listed.text
    assert (await browser.get("/mijn-aanvraag/req-1", headers=parent)).status_code == 200
    other = await browser.get("/mijn-aanvraag/req-1", headers=headers("other_parent"))
    assert other.status_code == 404
    staff = await browser.get("/mijn-aanvraag/req-1", headers=headers("staff"))
    assert staff.status_code == 403


async def test_loket_staff_register_a_family_without_email_at_the_desk(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    staff = headers("staff")
    form = (await browser.get("/balie/aanvragen/nieuw", headers=staff)).text
    assert "<h1>Aanvraag voor een gezin</h1>" in form and 'action="/balie/aanvragen/nieuw"' in form
    made = await browser.post("/balie/aanvragen/nieuw", headers=staff,
                              data=FORM | {"parent_email": ""})
    assert (made.status_code, made.headers["location"]) == (303, "/balie/aanvragen/req-1")
    stored = intake.uow.requests.rows["req-1"]
    assert stored.contact.email is None and stored.owner_subject is None
    assert stored.service_area == "kempen-gml"
    assert intake.uow.notices.rows == []  # no e-mail: staff hand the link over
    elsewhere = await browser.get("/balie/aanvragen/nieuw", headers=headers("staff_other_area"))
    assert elsewhere.status_code == 403


async def test_a_family_changes_confirms_and_withdraws(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    await register(browser)
    form = await browser.get("/mijn-aanvraag/req-1/wijzigen")
    assert (selected(form.text, "keuze_1"), selected(form.text, "keuze_2")) == ("loc-a", "loc-b")
    assert checked(form.text, "day_parts", "tue_am")
    assert options(form.text, "keuze_1")[0] == ("loc-a", "Zonneke (2440) – 0,0 km")
    wrong = await post_form(browser, "/mijn-aanvraag/req-1/wijzigen",
                            "/mijn-aanvraag/req-1/wijzigen",
                            {"desired_start_date": "2027-10-01", "keuze_1": "loc-b"})
    assert wrong.status_code == 422
    assert error_at(wrong.text, "day_parts") == "Kies minstens één dagdeel."
    assert selected(wrong.text, "keuze_1") == "loc-b"
    changed = await post_form(browser, "/mijn-aanvraag/req-1/wijzigen",
                              "/mijn-aanvraag/req-1/wijzigen",
                              {"desired_start_date": "01/10/2027", "day_parts": ["fri_am"],
                               "keuze_1": "loc-b", "accepts_partial_fit": "ja"})
    assert changed.status_code == 303
    stored = intake.uow.requests.rows["req-1"]
    assert (str(stored.desired_start_date), stored.day_parts, stored.preferred_location_ids,
            stored.accepts_partial_fit) == ("2027-10-01", ("fri_am",), ("loc-b",), True)

    stored.confirmation_asked_at = NOW + timedelta(days=1)  # the confirmation job asked
    page = (await browser.get("/mijn-aanvraag/req-1")).text
    assert "Zoek je nog opvang?" in page and "/mijn-aanvraag/req-1/bevestigen" in page
    confirmed = await post_form(browser, "/mijn-aanvraag/req-1",
                                "/mijn-aanvraag/req-1/bevestigen", {})
    assert confirmed.status_code == 303
    assert intake.uow.requests.rows["req-1"].confirmation_asked_at is None

    asked = await browser.get("/mijn-aanvraag/req-1/intrekken")
    assert "Ja, trek mijn aanvraag in" in asked.text
    withdrawn = await post_form(browser, "/mijn-aanvraag/req-1/intrekken",
                                "/mijn-aanvraag/req-1/intrekken", {})
    assert withdrawn.status_code == 303
    page = (await browser.get("/mijn-aanvraag/req-1")).text
    assert "Ingetrokken" in page and "/wijzigen" not in page
    assert intake.uow.requests.rows["req-1"].status is Status.WITHDRAWN



async def test_after_a_closure_the_page_points_to_the_new_request(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    parent = headers("parent")
    assert (await browser.post("/aanvraag", data=FORM, headers=parent)).status_code == 303
    await intake.deliver(proposal("req-1", "loc-a"))
    intake.clock.now = NOW + timedelta(days=3)
    assert await intake.deliver(closure("loc-a")) == "applied"
    old = await browser.get("/mijn-aanvraag/req-1", headers=parent)
    assert "Vervangen door een nieuwe aanvraag" in old.text
    assert 'href="/mijn-aanvraag/req-2">Bekijk je nieuwe aanvraag</a>' in old.text
    new = (await browser.get("/mijn-aanvraag/req-2", headers=parent)).text
    assert "Bolleboos" in new and "Wachten op een plaats" in new


async def test_a_family_with_only_its_link_follows_the_new_request_after_a_closure(
    intake: Intake, browser: httpx.AsyncClient
) -> None:
    assert (await register(browser)).status_code == 303  # anonymous: the link in the session
    await intake.deliver(proposal("req-1", "loc-a"))
    intake.clock.now = NOW + timedelta(days=3)
    assert await intake.deliver(closure("loc-a")) == "applied"
    old = await browser.get("/mijn-aanvraag/req-1")
    assert 'href="/mijn-aanvraag/req-2">Bekijk je nieuwe aanvraag</a>' in old.text
    new = await browser.get("/mijn-aanvraag/req-2")
    assert new.status_code == 200 and "Wachten op een plaats" in new.text
