"""A loket going live imports its waiting list: one audited batch, all rows or none,
each request keeping its original registration date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.events import RequestSubmitted
from loketkit.errors import Invalid
from loketkit.http import MAX_BODY_BYTES
from services.intake.entrypoints.imports import MAX_BYTES, MAX_ROWS, parse_waiting_list
from tests.unit.intake.harness import Intake, fields

HEADER = ("child_first_name,child_last_name,child_birth_date,child_national_number,"
          "parent_name,email,phone,street,postcode,municipality_nis,desired_start_date,"
          "day_parts,preferred_location_ids,registered_at,parents_working_or_training,"
          "single_parent,low_income,foster_child")
ROW_1 = ("Lotte,Peeters,2026-10-12,26101212345,An Peeters,an@example.be,+32 470 00 00 00,"
         "Markt 1,2440,13008,2027-09-01,mon_am mon_pm tue_am,loc-a;loc-b,2026-03-01,ja,nee,,")
ROW_2 = ("Mats,Janssens,2026-06-01,,Bo Janssens,,,,2430,13053,2027-01-04,"
         "\"wed_am, wed_pm\",loc-b,2025-12-15T10:30:00+01:00,,,1,")


def csv_of(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


async def locations(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b"):
        await intake.register(location_id)


async def test_a_waiting_list_is_imported_with_its_original_dates(intake: Intake) -> None:
    await locations(intake)
    imported = await intake.client.post(
        "/imports?imported_by=Els", content=csv_of(ROW_1, ROW_2),
        headers={"content-type": "text/csv"})
    assert imported.status_code == 201, imported.json()
    assert (imported.json()["rows"], imported.json()["imported_by"]) == (2, "Els")
    batch_id = imported.json()["import_id"]
    assert list(intake.uow.imports.rows) == [batch_id]

    submitted = [e for e in intake.uow.published_data() if isinstance(e, RequestSubmitted)]
    assert [(e.submitted_at, e.day_parts, e.preferred_location_ids) for e in submitted] == [
        (datetime(2026, 2, 28, 23, 0, tzinfo=UTC), ["mon_am", "mon_pm", "tue_am"],
         ["loc-a", "loc-b"]),
        (datetime(2025, 12, 15, 9, 30, tzinfo=UTC), ["wed_am", "wed_pm"], ["loc-b"]),
    ]
    assert submitted[0].priority.parents_working_or_training
    assert not submitted[0].priority.single_parent and submitted[1].priority.low_income
    stored = await intake.uow.requests.get(submitted[1].request_id)
    assert stored and stored.import_id == batch_id and stored.contact.email is None
    assert "Peeters" not in intake.uow.published[0].model_dump_json()


async def test_a_waiting_list_larger_than_an_ordinary_body_is_taken(intake: Intake) -> None:
    await locations(intake)
    waiting_list = csv_of(*[ROW_1] * 1000)
    assert len(waiting_list) > MAX_BODY_BYTES
    imported = await intake.client.post("/imports", content=waiting_list,
                                        headers={"content-type": "text/csv"})
    assert imported.status_code == 201, imported.json()
    assert imported.json()["rows"] == 1000
    too_big = await intake.client.post("/imports", content="x" * (MAX_BYTES + 1),
                                       headers={"content-type": "text/csv"})
    assert too_big.status_code == 413 and fields(too_big) == ["body"]
    elsewhere = await intake.client.post("/requests", content="x" * (MAX_BODY_BYTES + 1),
                                         headers={"content-type": "application/json"})
    assert elsewhere.status_code == 413


async def test_the_csv_may_come_as_json(intake: Intake) -> None:
    await locations(intake)
    imported = await intake.client.post("/imports", json={"csv": csv_of(ROW_1),
                                                          "imported_by": "Els"})
    assert imported.status_code == 201 and imported.json()["rows"] == 1


@pytest.mark.parametrize(
    ("bad_row", "field"),
    [
        (ROW_2.replace("2430", "24300"), "line 3.postcode"),
        (ROW_2.replace("13053", "11002"), "line 3.municipality_nis"),
        (ROW_2.replace(",loc-b,", ",loc-z,"), "line 3.preferred_location_ids"),
        (ROW_2.replace("wed_am, wed_pm", "sat_am"), "line 3.day_parts.0"),
        (ROW_2.replace("2025-12-15T10:30:00+01:00", "gisteren"), "line 3.registered_at"),
        (ROW_2.replace("Mats", ""), "line 3.child_first_name"),
        (ROW_2.replace("2027-01-04", "2030-01-04"), "line 3.desired_start_date"),
        (ROW_2 + ",extra", "line 3.(extra cells)"),
    ],
)
async def test_one_bad_row_stores_nothing_and_names_line_and_field(
    intake: Intake, bad_row: str, field: str
) -> None:
    await locations(intake)
    refused = await intake.client.post("/imports", content=csv_of(ROW_1, bad_row),
                                       headers={"content-type": "text/csv"})
    assert refused.status_code == 422
    assert fields(refused) == [field]
    assert intake.uow.requests.rows == {} and intake.uow.imports.rows == {}
    assert intake.uow.published == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (HEADER + "\n", "csv"),
        ("name,colour\nx,y\n", "csv.header"),
        ("", "csv"),
    ],
)
async def test_an_empty_or_foreign_file_is_refused(intake: Intake, body: str, field: str) -> None:
    refused = await intake.client.post("/imports", content=body,
                                       headers={"content-type": "text/csv"})
    assert refused.status_code == 422 and fields(refused) == [field]


async def test_a_bad_json_body_is_a_422(intake: Intake) -> None:
    refused = await intake.client.post("/imports", json={"csv": 3})
    assert refused.status_code == 422 and fields(refused) == ["csv"]
    nul = await intake.client.post("/imports", json={"csv": csv_of(ROW_1) + "\u0000"})
    assert nul.status_code == 422 and fields(nul) == ["csv"]


def test_at_most_5000_rows_per_import() -> None:
    with pytest.raises(Invalid) as refused:
        parse_waiting_list(csv_of(*[ROW_1] * (MAX_ROWS + 1)), None)
    assert refused.value.field == "csv"
    assert len(parse_waiting_list(csv_of(*[ROW_1] * MAX_ROWS), None).rows) == MAX_ROWS


JUDGED = HEADER + ",urgency,sworn_statement"


async def test_an_urgent_row_is_urgency_granted_by_the_importing_staff(intake: Intake) -> None:
    await locations(intake)
    imported = await intake.client.post("/imports?imported_by=Els", headers={
        "content-type": "text/csv"}, content="\n".join((
            JUDGED, ROW_1 + ",urgent,", ROW_2 + ",normal,")) + "\n")
    assert imported.status_code == 201, imported.json()
    submitted = [e for e in intake.uow.published_data() if isinstance(e, RequestSubmitted)]
    assert [e.urgency for e in submitted] == ["urgent", "normal"]
    urgent = await intake.follow(submitted[0].request_id)
    assert (urgent["urgency_status"], urgent["urgency_reason"]) == ("granted", None)
    assert "imported" in str(urgent["urgency_decision_reason"])
    log = await intake.client.get(f"/requests/{submitted[0].request_id}/audit")
    assert [(e["action"], e["actor"], e["staff_member"]) for e in log.json()] == [
        ("urgency_granted_on_import", "loket_staff", "Els")]
    assert (await intake.follow(submitted[1].request_id))["urgency_status"] == "none"


async def test_declared_facts_on_an_old_list_count_as_sworn_unless_the_row_says_not(
    intake: Intake,
) -> None:
    await locations(intake)
    imported = await intake.client.post("/imports", json={"csv": csv_of(ROW_1, ROW_2)})
    assert imported.status_code == 201
    submitted = [e for e in intake.uow.published_data() if isinstance(e, RequestSubmitted)]
    sworn = await intake.follow(submitted[0].request_id)
    sworn_at = datetime.fromisoformat(str(sworn["sworn_statement_at"]))
    assert sworn_at == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # its registration
    refused = await intake.client.post("/imports", json={"csv": "\n".join((
        JUDGED, ROW_2 + ",,ja", ROW_1 + ",,nee")) + "\n"})
    assert refused.status_code == 422 and fields(refused) == ["line 3.sworn_statement"]
    assert len(intake.uow.requests.rows) == 2


async def test_a_row_may_ask_for_locations_within_a_distance(intake: Intake) -> None:
    await locations(intake)
    await intake.register("loc-laakdal", postcode="2430")  # 8.3 km from Geel (2440)
    header = HEADER.replace("preferred_location_ids,", "preferred_location_ids,max_distance_km,")
    row_1 = ROW_1.replace("loc-a;loc-b,", ",\"8,5\",")  # no own choices, a decimal comma
    row_2 = ROW_2.replace("loc-b,", "loc-b,1,")
    imported = await intake.client.post("/imports", content=f"{header}\n{row_1}\n{row_2}\n",
                                        headers={"content-type": "text/csv"})
    assert imported.status_code == 201, imported.json()
    submitted = [e for e in intake.uow.published_data() if isinstance(e, RequestSubmitted)]
    assert [e.preferred_location_ids for e in submitted] == [
        ["loc-a", "loc-b", "loc-laakdal"], ["loc-b", "loc-laakdal"]]
    far = ROW_2.replace("loc-b,", ",0.5,").replace("2430", "8000")
    refused = await intake.client.post("/imports", content=f"{header}\n{far}\n",
                                       headers={"content-type": "text/csv"})
    assert refused.status_code == 422 and fields(refused) == ["line 2.max_distance_km"]
