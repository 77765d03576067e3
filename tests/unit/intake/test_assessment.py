"""What needs a judgement is the loket's: a family declares its facts under a sworn
statement and may ask for urgency with a reason; loket staff of the request's area
assess vulnerability and grant or refuse urgency (audited). Other services learn only
the outcome (RequestAssessed), never a characteristic or a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.events import RequestAssessed, RequestSubmitted
from services.intake.domain.model import Vulnerability
from tests.personas import headers
from tests.unit.intake.harness import AREA, NOW, REQUEST, Intake, closure, fields, proposal

FAMILY_REASON = "Mama start dringend opnieuw met werken na ziekte"
STAFF_REASON = "Bevestigd door maatschappelijk werker OCMW"
NONE_OF_FIVE = {"low_income": False, "low_parental_education": False,
                "parents_without_work": False, "poor_housing": False, "health_problems": False}
VULNERABLE = NONE_OF_FIVE | {"low_income": True, "poor_housing": True}


def assessment(vulnerability: dict[str, bool] = NONE_OF_FIVE, decision: str | None = None,
               reason: str | None = STAFF_REASON) -> dict[str, object]:
    body: dict[str, object] = {"vulnerability": vulnerability, "urgency": None}
    if decision is not None:
        body["urgency"] = {"decision": decision} | ({"reason": reason} if reason else {})
    return body


def assessed(intake: Intake) -> list[RequestAssessed]:
    return [e for e in intake.uow.published_data() if isinstance(e, RequestAssessed)]


async def registered(intake: Intake, **changes: object) -> str:
    await intake.register("loc-a")
    created = await intake.submit(**changes)
    assert created.status_code == 201, created.json()
    return str(created.json()["request_id"])


# --- the family asks, under a sworn statement ----------------------------------------


async def test_asking_urgency_keeps_the_request_normal_and_stores_the_reason(
    intake: Intake,
) -> None:
    request_id = await registered(intake, urgency_reason=f"  {FAMILY_REASON} ")
    [event] = [e for e in intake.uow.published_data() if isinstance(e, RequestSubmitted)]
    assert event.urgency == "normal"
    followed = await intake.follow(request_id)
    assert (followed["urgency"], followed["urgency_status"], followed["urgency_reason"]) == (
        "normal", "asked", FAMILY_REASON)
    assert followed["vulnerable"] is False and followed["assessed_at"] is None
    # the loket's worklist of families asking for urgency
    asked = await intake.client.get("/requests", params={"urgency_status": "asked"})
    assert [r["request_id"] for r in asked.json()] == [request_id]
    granted = await intake.client.get("/requests", params={"urgency_status": "granted"})
    assert granted.json() == []


async def test_the_family_reads_its_own_reason(intake: Intake) -> None:
    await intake.register("loc-a")
    mine = await intake.client.post("/requests", headers=headers("parent"),
                                    json=REQUEST | {"urgency_reason": FAMILY_REASON})
    assert mine.status_code == 201
    own = await intake.client.get(f"/requests/{mine.json()['request_id']}",
                                  headers=headers("parent"))
    assert own.json()["urgency_reason"] == FAMILY_REASON


@pytest.mark.parametrize("urgency", ["urgent", "normal"])
async def test_a_family_cannot_set_urgency_itself(intake: Intake, urgency: str) -> None:
    await intake.register("loc-a")
    refused = await intake.submit(urgency=urgency)
    assert refused.status_code == 422 and fields(refused) == ["urgency"]
    message = refused.json()["fields"][0]["message"]
    assert "loket staff" in message and "urgency_reason" in message
    assert intake.uow.published == [] and intake.uow.requests.rows == {}


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001, "reden\u0000"])
async def test_an_empty_oversized_or_unclean_reason_is_refused(
    intake: Intake, reason: str
) -> None:
    await intake.register("loc-a")
    refused = await intake.submit(urgency_reason=reason)
    assert refused.status_code == 422 and fields(refused) == ["urgency_reason"]


@pytest.mark.parametrize("facts", [
    {"parents_working_or_training": True},
    {"works_at_least_four_fifths": True},
    {"single_parent": True},
    {"low_income": True},
    {"foster_child": True},
    {"sibling_location_ids": ["loc-a"]},
])
async def test_declared_facts_need_a_sworn_statement(
    intake: Intake, facts: dict[str, object]
) -> None:
    await intake.register("loc-a")
    refused = await intake.submit(priority=facts, sworn_statement=False)
    assert refused.status_code == 422 and fields(refused) == ["sworn_statement"]
    assert intake.uow.published == [] and intake.uow.requests.rows == {}
    sworn = await intake.submit(priority=facts, sworn_statement=True)
    assert sworn.status_code == 201
    assert sworn.json()["sworn_statement_at"] == NOW.isoformat().replace("+00:00", "Z")


async def test_no_facts_need_no_sworn_statement(intake: Intake) -> None:
    request_id = await registered(intake, priority={}, sworn_statement=False)
    assert (await intake.follow(request_id))["sworn_statement_at"] is None


async def test_the_2024_fact_is_published(intake: Intake) -> None:
    await registered(intake, priority={"works_at_least_four_fifths": True})
    [event] = intake.uow.published_data()
    assert isinstance(event, RequestSubmitted)
    assert event.priority.works_at_least_four_fifths
    assert not event.priority.parents_working_or_training


# --- staff assess ------------------------------------------------------------------------


async def test_staff_grant_urgency_announced_and_audited(intake: Intake) -> None:
    request_id = await registered(intake, urgency_reason=FAMILY_REASON)
    intake.clock.now = NOW + timedelta(days=2)
    answer = await intake.client.put(f"/requests/{request_id}/assessment",
                                     json=assessment(decision="granted"))
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["urgency"], body["urgency_status"], body["urgency_reason"],
            body["urgency_decision_reason"]) == ("urgent", "granted", FAMILY_REASON,
                                                 STAFF_REASON)
    [event] = assessed(intake)
    assert (event.request_id, event.urgent, event.vulnerable, event.assessed_at,
            event.service_area, event.municipality_nis) == (
        request_id, True, False, intake.clock.now, AREA, "13008")
    # the audit trail: who, what, which object (never the values)
    assert [(r.subject, r.role, r.action, r.object_type, r.object_id)
            for r in intake.uow.audit_trail.rows][-1] == (
        "balie-els", "loket_staff", "AssessRequest", "request", request_id)
    assert not any(STAFF_REASON in repr(r) or FAMILY_REASON in repr(r)
                   for r in intake.uow.audit_trail.rows)
    # ...and the request's own audit log, for staff
    log = await intake.client.get(f"/requests/{request_id}/audit")
    assert [(e["action"], e["actor"], e["staff_member"]) for e in log.json()] == [
        ("assessed_urgency_granted", "loket_staff", "balie-els")]


async def test_a_refusal_keeps_the_request_normal_and_revokes_a_grant(intake: Intake) -> None:
    request_id = await registered(intake, urgency_reason=FAMILY_REASON)
    url = f"/requests/{request_id}/assessment"
    refused = await intake.client.put(url, json=assessment(decision="refused"))
    assert (refused.json()["urgency"], refused.json()["urgency_status"]) == ("normal",
                                                                            "refused")
    assert assessed(intake) == []  # nothing others see changed
    await intake.client.put(url, json=assessment(decision="granted"))
    revoked = await intake.client.put(url, json=assessment(decision="refused"))
    assert revoked.json()["urgency"] == "normal"
    assert [(e.urgent, e.vulnerable) for e in assessed(intake)] == [(True, False),
                                                                     (False, False)]


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 1001])
async def test_an_urgency_decision_needs_a_reason(intake: Intake, reason: str | None) -> None:
    request_id = await registered(intake)
    for decision in ("refused", "granted"):
        refused = await intake.client.put(f"/requests/{request_id}/assessment",
                                          json=assessment(decision=decision, reason=reason))
        assert refused.status_code == 422 and fields(refused) == ["urgency.reason"]
    assert assessed(intake) == [] and intake.uow.audit.rows == []


async def test_no_urgency_leaves_urgency_as_it_is_and_vulnerability_is_announced(
    intake: Intake,
) -> None:
    request_id = await registered(intake, urgency_reason=FAMILY_REASON)
    url = f"/requests/{request_id}/assessment"
    await intake.client.put(url, json=assessment(decision="granted"))
    answer = await intake.client.put(url, json=assessment(VULNERABLE))
    assert (answer.json()["urgency"], answer.json()["vulnerable"]) == ("urgent", True)
    assert [(e.urgent, e.vulnerable) for e in assessed(intake)] == [(True, False),
                                                                     (True, True)]
    again = await intake.client.put(url, json=assessment(VULNERABLE))  # same outcome
    assert again.status_code == 200 and len(assessed(intake)) == 2
    # still audited, though nothing was published
    assert [r.action for r in intake.uow.audit_trail.rows].count("AssessRequest") == 3


async def test_every_characteristic_must_be_judged(intake: Intake) -> None:
    request_id = await registered(intake)
    partial = {"low_income": True, "poor_housing": True}
    refused = await intake.client.put(f"/requests/{request_id}/assessment",
                                      json={"vulnerability": partial})
    assert refused.status_code == 422
    assert set(fields(refused)) == {"vulnerability.low_parental_education",
                                    "vulnerability.parents_without_work",
                                    "vulnerability.health_problems"}


async def test_reasons_never_leave_intake(intake: Intake) -> None:
    request_id = await registered(intake, urgency_reason=FAMILY_REASON)
    url = f"/requests/{request_id}/assessment"
    await intake.client.put(url, json=assessment(VULNERABLE, "granted"))
    await intake.client.put(url, json=assessment(NONE_OF_FIVE, "refused", "Geen urgentie: "
                                                 "werkhervatting pas over een jaar"))
    assert len(assessed(intake)) == 2
    wire = " ".join(event.model_dump_json() for event in intake.uow.published)
    for secret in (FAMILY_REASON, STAFF_REASON, "werkhervatting", "poor_housing",
                   "low_parental_education"):
        assert secret not in wire


async def test_another_areas_staff_find_nothing_and_a_parent_may_not(intake: Intake) -> None:
    request_id = await registered(intake)
    url = f"/requests/{request_id}/assessment"
    body = assessment(VULNERABLE, "granted")
    for persona in ("staff_other_area", "coordinator_other_area"):
        hidden = await intake.client.put(url, json=body, headers=headers(persona))
        assert hidden.status_code == 404 and fields(hidden) == ["request_id"]
    forbidden = await intake.client.put(url, json=body, headers=headers("parent"))
    assert forbidden.status_code == 403
    missing = await intake.client.put("/requests/req-404/assessment", json=body)
    assert missing.status_code == 404
    assert assessed(intake) == []
    coordinator = await intake.client.put(url, json=body, headers=headers("coordinator"))
    assert coordinator.status_code == 200 and len(assessed(intake)) == 1


async def test_a_closed_request_is_not_assessed(intake: Intake) -> None:
    request_id = await registered(intake)
    await intake.client.post(f"/requests/{request_id}/withdraw")
    closed = await intake.client.put(f"/requests/{request_id}/assessment",
                                     json=assessment(VULNERABLE))
    assert closed.status_code == 409 and fields(closed) == ["request_id"]


async def test_a_crisis_request_stays_crisis_and_keeps_the_assessment(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b"):
        await intake.register(location_id)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])
    await intake.client.put("/requests/req-1/assessment", json=assessment(VULNERABLE))
    await intake.deliver(proposal("req-1"))
    await intake.deliver(closure("loc-a"))
    crisis = await intake.uow.requests.get("req-2")
    assert crisis and crisis.urgency == "crisis" and crisis.replaces_request_id == "req-1"
    # the new request's assessment follows the family
    assert [(e.request_id, e.vulnerable) for e in assessed(intake)] == [
        ("req-1", True), ("req-2", True)]
    for decision in ("granted", "refused"):
        answer = await intake.client.put("/requests/req-2/assessment",
                                         json=assessment(VULNERABLE, decision))
        assert (answer.json()["urgency"], answer.json()["urgency_status"]) == (
            "crisis", decision)
    assert [(e.urgent, e.vulnerable) for e in assessed(intake)][-2:] == [(True, True),
                                                                         (False, True)]


async def test_erasure_removes_the_reasons(intake: Intake) -> None:
    request_id = await registered(intake, urgency_reason=FAMILY_REASON)
    await intake.client.put(f"/requests/{request_id}/assessment",
                            json=assessment(decision="granted"))
    erased = (await intake.client.delete(f"/requests/{request_id}/personal-data")).json()
    assert FAMILY_REASON not in str(erased) and STAFF_REASON not in str(erased)
    stored = await intake.uow.requests.get(request_id)
    assert stored and FAMILY_REASON not in repr(stored) and STAFF_REASON not in repr(stored)


# --- the rule --------------------------------------------------------------------------


@pytest.mark.parametrize(("met", "vulnerable"), [
    ((), False),
    (("low_income",), False),  # one is not enough
    (("low_income", "low_parental_education"), True),
    (("parents_without_work", "health_problems"), True),
    (("low_parental_education", "poor_housing"), True),
    (("poor_housing", "health_problems"), False),  # two, but none of the first three
    (("low_income", "low_parental_education", "parents_without_work", "poor_housing",
      "health_problems"), True),
])
def test_vulnerable_is_two_of_five_with_one_of_the_first_three(
    met: tuple[str, ...], vulnerable: bool
) -> None:
    assert Vulnerability(**dict.fromkeys(met, True)).vulnerable is vulnerable
