"""No personal data in logs, ever: database errors on the HTTP path and on the consumer
path, with distinctive personal data in the refused rows, leave none of it in any service
log nor in any dead letter."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from contracts.topics import DEAD_LETTER
from tests.e2e.conftest import LOG_DIR
from tests.e2e.support import (
    close_location,
    eventually,
    free_places,
    open_offer,
    register_location,
    request_body,
    request_status,
    submit_request,
    topic,
)
from tests.kafka_helpers import Record, collect
from tools.infra import Infra
from tools.processes import ServiceProcess

System = dict[str, ServiceProcess]


@dataclass(frozen=True)
class Family:
    """Personal data no log line could hold by chance."""

    first_name: str
    last_name: str
    national_number: str
    parent_name: str
    email: str
    phone: str
    street: str

    @classmethod
    def planted(cls) -> Family:
        tag = "".join(random.choices("bcdfghjklmnpqrstvwxz", k=8))
        digits = [str(random.randint(0, 9)) for _ in range(10)]
        return cls(
            first_name=f"Zelvira{tag}", last_name=f"Oosterwyck{tag}",
            national_number="9" + "".join(digits),
            parent_name=f"Quirina{tag} Oosterwyck{tag}", email=f"quirina.{tag}@example.be",
            phone=f"+32 4{digits[0]}{digits[1]} {digits[2]}{digits[3]} {digits[4]}{digits[5]} "
                  f"{digits[6]}{digits[7]}",
            street=f"Plantedreef {tag} {digits[8]}{digits[9]}",
        )

    @property
    def values(self) -> list[str]:
        return [self.first_name, self.last_name, self.national_number, self.parent_name,
                self.email, self.phone, self.street]

    def body(self, location_ids: list[str]) -> dict[str, Any]:
        body = request_body(location_ids)
        body["child"] |= {"first_name": self.first_name, "last_name": self.last_name,
                          "national_number": self.national_number}
        body["parent"] |= {"name": self.parent_name, "email": self.email, "phone": self.phone,
                           "street": self.street}
        return body


@pytest.fixture
async def intake_db(e2e_infra: Infra) -> AsyncIterator[asyncpg.Connection]:
    """Intake's database, as its administrator: to make it refuse the planted rows."""
    url = e2e_infra.database_urls["intake"].replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    yield connection
    await connection.close()


async def refuse_rows(db: asyncpg.Connection, name: str, condition: str) -> None:
    """Make intake's database refuse matching new requests with an error whose message
    quotes the row, as PostgreSQL's own "DETAIL: Failing row contains (...)" does."""
    await db.execute(f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {condition} THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation',
                    MESSAGE = format('new row refused: Failing row contains (%s)', NEW),
                    DETAIL = format('Failing row contains (%s)', NEW);
            END IF;
            RETURN NEW;
        END $$""")
    await db.execute(f"CREATE TRIGGER {name} BEFORE INSERT ON requests "
                     f"FOR EACH ROW EXECUTE FUNCTION {name}()")


def leaks(values: list[str], text: str) -> list[str]:
    return [value for value in values if value in text]


def service_logs() -> dict[str, str]:
    return {path.name: path.read_text(errors="replace") for path in LOG_DIR.glob("*.log")}


async def test_database_errors_leave_no_personal_data_in_logs_or_dead_letters(
    system: System, http: httpx.Client, e2e_infra: Infra, intake_db: asyncpg.Connection
) -> None:
    on_http, on_consumer = Family.planted(), Family.planted()
    planted = on_http.values + on_consumer.values
    refusals = [f"privacy_http_{uuid.uuid4().hex[:8]}",
                f"privacy_crisis_{uuid.uuid4().hex[:8]}"]

    async def post(url: str, json: dict[str, Any]) -> httpx.Response:
        return await asyncio.to_thread(http.post, url, json=json)

    closing = register_location(http, system, municipality_nis="13021", postcode="2450")
    elsewhere = register_location(http, system)
    try:
        # The consumer path: a family offered a place at a location that closes; intake's crisis
        # handler cannot store the family's new crisis request and dead-letters the closure.
        response = await post(f"{system['intake'].url}/requests",
                              json=on_consumer.body([closing, elsewhere]))
        assert response.status_code == 201, response.text
        request_id = response.json()["request_id"]
        free_places(http, system, closing)
        open_offer(http, system, request_id)
        await refuse_rows(intake_db, refusals[1],
                          f"NEW.urgency = 'crisis' AND NEW.child_first_name = "
                          f"'{on_consumer.first_name}'")
        close_location(http, system, closing)
        [dead] = await collect(
            e2e_infra.bootstrap_servers, topic(DEAD_LETTER),
            match=lambda r: r.headers.get("dlq_service") == "intake"
            and closing.encode() in (r.value or b""),
            until=lambda found: len(found) >= 1, settle=1.0)
        assert request_status(http, system, request_id)["status"] == "waiting"

        # The HTTP path: the INSERT of the planted family is refused -> a plain 500.
        await refuse_rows(intake_db, refusals[0],
                          f"NEW.child_first_name = '{on_http.first_name}'")
        response = await post(f"{system['intake'].url}/requests",
                              json=on_http.body([elsewhere]))
        assert response.status_code == 500, response.text
        assert leaks(planted, response.text) == []
    finally:
        for name in refusals:
            await intake_db.execute(f"DROP TRIGGER IF EXISTS {name} ON requests")
            await intake_db.execute(f"DROP FUNCTION IF EXISTS {name}()")

    assert_no_leak_in_dead_letter(dead, planted)
    # The failures were logged, by kind (the check violation's SQLSTATE), with no values.
    eventually(lambda: "23514" in service_logs().get("intake.log", ""), timeout=10,
               what="intake logs the refused INSERT")
    for name, text in service_logs().items():
        assert leaks(planted, text) == [], f"{name} holds personal data"
    # Once the database takes the row again, the same family is accepted.
    accepted = on_http.body([elsewhere])
    submit_request(http, system, [elsewhere], child=accepted["child"], parent=accepted["parent"])


def assert_no_leak_in_dead_letter(dead: Record, planted: list[str]) -> None:
    assert dead.headers["dlq_original_topic"].endswith("loket.capacity.v1")
    assert dead.headers["dlq_reason"]
    assert leaks(planted, (dead.value or b"").decode(errors="replace")) == []
    for name, value in dead.headers.items():
        assert leaks(planted, f"{name}={value}") == [], f"dead-letter header {name}"
