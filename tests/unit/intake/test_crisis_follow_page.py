"""The follow-up of a crisis closure in intake (`/balie/sluitingen/{closure_id}`): every
child the released closure reached, its old request and the crisis request that
replaced it, and where that stands now, until each is re-placed; for the area's staff
and coordinator only."""

from __future__ import annotations

import re
from datetime import date

import httpx

from services.intake.domain.model import Status
from tests.personas import headers
from tests.unit.intake.harness import (
    CHILD,
    Intake,
    closure,
    placed,
    proposal,
)

PAGE = "/balie/sluitingen/c-1"
NAMES = {"loc-a": "De Zonnebloem", "loc-b": "Het Kabouterhuis", "loc-c": "Villa Kakelbont"}


async def locations(intake: Intake, *location_ids: str) -> None:
    for location_id in location_ids:
        await intake.register(location_id, name=NAMES[location_id])


async def child(intake: Intake, first: str, *choices: str) -> str:
    created = await intake.submit(child=CHILD | {"first_name": first},
                                  preferred_location_ids=list(choices))
    assert created.status_code == 201, created.json()
    return str(created.json()["request_id"])


async def crisis_request(intake: Intake, old_id: str) -> str:
    old = await intake.uow.requests.get(old_id)
    assert old and old.status is Status.REPLACED and old.replaced_by_request_id
    return old.replaced_by_request_id


def row(page: httpx.Response, name: str) -> str:
    """The table row of the child with this first name."""
    found = re.search(rf'<tr>\s*<th scope="row">{name}</th>(.*?)</tr>', page.text, re.S)
    assert found is not None, name
    return found[1]


async def opened(intake: Intake, path: str = PAGE, persona: str = "staff") -> httpx.Response:
    page = await intake.client.get(path, headers=headers(persona))
    assert page.status_code == 200, page.text
    return page


async def two_children_at_a_closed_location(intake: Intake) -> tuple[str, str]:
    """Lotte and Mila hold an offer at loc-a when it closes; Noor waits for loc-b only.
    Returns Lotte's and Mila's crisis requests."""
    await locations(intake, "loc-a", "loc-b", "loc-c")
    lotte = await child(intake, "Lotte", "loc-a", "loc-b")
    mila = await child(intake, "Mila", "loc-a")
    await child(intake, "Noor", "loc-b")
    for request_id in (lotte, mila):
        await intake.deliver(proposal(request_id))
    assert await intake.deliver(closure("loc-a")) == "applied"
    return await crisis_request(intake, lotte), await crisis_request(intake, mila)


async def test_the_page_follows_each_child_until_it_is_replaced(intake: Intake) -> None:
    lotte, mila = await two_children_at_a_closed_location(intake)

    page = await opened(intake)
    assert "<h1>Sluiting van De Zonnebloem vanaf 01/12/2026</h1>" in page.text
    assert "0 van 2 kinderen herplaatst" in page.text
    assert "Noor" not in page.text  # not affected by the closure
    first = row(page, "Lotte")
    assert "req-1" in first and f'href="/balie/aanvragen/{lotte}"' in first
    assert "Geel" in first and "maandag" in first and "wacht op een plaats" in first
    assert f'href="/balie/aanvragen/{mila}"' in row(page, "Mila")
    assert "wacht op een plaats" in row(page, "Mila")

    # matching offers Lotte a place at loc-b
    await intake.deliver(proposal(lotte, "loc-b"))
    offered = row(await opened(intake), "Lotte")
    assert "aanbod bij Het Kabouterhuis tot 30/11/2026 om 10:00" in offered

    # the family accepts: the organiser must confirm
    accepted = await intake.client.post(f"/requests/{lotte}/offers/m-{lotte}-loc-b/accept")
    assert accepted.status_code == 200
    assert "aanvaard, wacht op de organisator (Het Kabouterhuis)" in row(
        await opened(intake), "Lotte")

    # the organiser confirms: re-placed
    await intake.deliver(placed(lotte, "loc-b"))
    page = await opened(intake)
    assert "herplaatst bij Het Kabouterhuis vanaf 01/09/2027" in row(page, "Lotte")
    assert "wacht op een plaats" in row(page, "Mila")
    assert "1 van 2 kinderen herplaatst" in page.text
    # the children still to help come first
    assert page.text.index("Mila") < page.text.index("Lotte")

    # Mila's family withdraws
    assert (await intake.client.post(f"/requests/{mila}/withdraw")).status_code == 200
    page = await opened(intake)
    assert "ingetrokken" in row(page, "Mila")
    assert "1 van 2 kinderen herplaatst" in page.text


async def test_a_child_left_without_an_open_location_is_the_lokets(intake: Intake) -> None:
    await locations(intake, "loc-a")
    lotte = await child(intake, "Lotte", "loc-a")
    await intake.deliver(proposal(lotte))
    await intake.deliver(closure("loc-a"))

    page = await opened(intake)
    lotte_row = row(page, "Lotte")
    assert "geen open locatie: loket neemt contact op" in lotte_row
    assert f'href="/balie/aanvragen/{lotte}"' in lotte_row  # no crisis request: the old one
    assert "0 van 1 kind herplaatst" in page.text


async def test_a_crisis_request_replaced_after_a_later_closure_is_followed(
    intake: Intake,
) -> None:
    lotte, _ = await two_children_at_a_closed_location(intake)
    await intake.deliver(proposal(lotte, "loc-b"))
    await intake.client.post(f"/requests/{lotte}/offers/m-{lotte}-loc-b/accept")
    await intake.deliver(placed(lotte, "loc-b"))
    # loc-b closes too: Lotte gets yet another crisis request
    await intake.deliver(closure("loc-b", date(2027, 10, 1), closure_id="c-2"))
    again = await crisis_request(intake, lotte)

    first = row(await opened(intake), "Lotte")
    assert f'href="/balie/aanvragen/{lotte}"' in first
    assert f'daarna <a href="/balie/aanvragen/{again}"' in first
    assert "wacht op een plaats" in first
    # and the second closure's page has her, from her first crisis request on
    second = await opened(intake, "/balie/sluitingen/c-2")
    assert "<h1>Sluiting van Het Kabouterhuis vanaf 01/10/2027</h1>" in second.text
    assert lotte in row(second, "Lotte") and "Mila" not in second.text


async def test_a_closure_intake_has_not_heard_of_has_no_children_yet(intake: Intake) -> None:
    await two_children_at_a_closed_location(intake)
    page = await opened(intake, "/balie/sluitingen/c-unknown")
    assert "Nog geen kinderen: de sluiting is nog vertrouwelijk of raakte geen kinderen" \
        in page.text
    assert "Lotte" not in page.text and "herplaatst." not in page.text


async def test_the_coordinator_sees_it_and_finds_the_closure_in_capacity(
    intake: Intake,
) -> None:
    await two_children_at_a_closed_location(intake)
    page = await opened(intake, persona="coordinator")
    assert "Lotte" in page.text and "/crisis/sluitingen/c-1" in page.text
    assert "/crisis/sluitingen/" not in (await opened(intake)).text  # not for staff


async def test_only_the_areas_staff_and_coordinator_see_it(intake: Intake) -> None:
    await two_children_at_a_closed_location(intake)
    for persona in ("staff_other_area", "coordinator_other_area"):
        hidden = await intake.client.get(PAGE, headers=headers(persona))
        assert hidden.status_code == 404 and "Lotte" not in hidden.text
    parent = await intake.client.get(PAGE, headers=headers("parent"))
    assert parent.status_code == 403 and "Lotte" not in parent.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=intake.app),
                                 base_url="http://intake") as anonymous:
        signin = await anonymous.get(PAGE)
    assert signin.status_code == 303 and "/aanmelden" in signin.headers["location"]
