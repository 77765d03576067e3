"""Every change by a person or system leaves an audit record: who (subject and role),
what, on which object, when; never the values, which can be personal. The area's
coordinator reads it."""

from __future__ import annotations

from loketkit.audit import AuditPublic
from tests.personas import headers
from tests.unit.intake.harness import AREA, PERSONAL, REQUEST, Intake, proposal

NO_TOKEN = {"Authorization": ""}  # the test client signs in otherwise


async def test_changes_are_recorded_with_who_what_and_which_object(intake: Intake) -> None:
    await intake.register("loc-a")
    assert (await intake.submit()).status_code == 201  # loket staff, for a family
    anonymous = await intake.client.post("/requests", json={}, headers=NO_TOKEN)
    assert anonymous.status_code == 422  # refused: no change, no record
    await intake.deliver(proposal("req-1"))
    accepted = await intake.client.post("/requests/req-1/offers/m-req-1-loc-a/accept",
                                        headers=headers("staff"))
    assert accepted.status_code == 200
    trail = [(r.subject, r.role, r.action, r.object_type, r.object_id, r.service_area)
             for r in intake.uow.audit_trail.rows]
    assert trail == [
        ("balie-els", "loket_staff", "SubmitRequest", "request", "req-1", AREA),
        ("balie-els", "loket_staff", "AnswerOffer", "match", "m-req-1-loc-a", AREA),
    ]
    recorded = repr(intake.uow.audit_trail.rows)
    assert not any(value in recorded for value in PERSONAL)


async def test_the_areas_coordinator_reads_the_trail_newest_first(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.client.post("/requests/req-1/withdraw")
    read = await intake.client.get("/audit", headers=headers("coordinator"))
    assert read.status_code == 200
    assert [AuditPublic.model_validate(r).action for r in read.json()] == [
        "WithdrawRequest", "SubmitRequest"]
    elsewhere = await intake.client.get("/audit", headers=headers("coordinator_other_area"))
    assert elsewhere.json() == []
    assert (await intake.client.get("/audit", headers=headers("staff"))).status_code == 403


async def test_an_anonymous_registration_is_recorded_as_anonymous(intake: Intake) -> None:
    await intake.register("loc-a")
    made = await intake.client.post("/requests", json=REQUEST,
                                    headers=NO_TOKEN)
    assert made.status_code == 201
    [record] = intake.uow.audit_trail.rows
    assert (record.subject, record.role, record.service_area) == ("anonymous", "anonymous", AREA)

