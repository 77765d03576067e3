"""From offer to placement, as a property: random sequences of free places, requests,
family and organiser answers, deadlines, ended enrolments and closures, over the real
intake, capacity and matching apps (in memory, see `lifecycle_world`), with events
arriving in any order across topics and sometimes twice.

After every step:
  1. no place has two live offers (matching's offers; intake's and capacity's copies
     too once every queue is delivered);
  2. no day-part of a location holds more children than its licence: enrolments
     present on a day plus the open free places available by then;
  3. no child holds two placements for one period (a crisis request is the same child
     as the request it replaces): capacity's enrolments always, intake's placements
     once every queue is delivered;
  and no service dead-lettered anything (in this closed world that is a bug).
Once every queue is delivered (the `settle` rule, and at the end of each example):
  4. every child a released closure reaches (enrolled there from its effective date,
     or whose offer there matching cancelled for the closure and the family did not
     decline) was replaced by a crisis request, or is on the loket's list.

Reproduce a failure: hypothesis prints the steps and the seed; run
    uv run pytest tests/unit/test_lifecycle_properties.py --hypothesis-seed=<seed>
(add `--hypothesis-show-statistics` for timings). `print_blob` also prints a
`@reproduce_failure(...)` decorator that replays the exact example. Nothing is stored
in a `.hypothesis` directory (database=None), so runs do not depend on earlier ones.
More examples: LOKET_LIFECYCLE_EXAMPLES=500 uv run pytest ... (default 100).
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from contracts.schedule import FULL_WEEK, DayPart
from services.capacity.domain.model import (
    AVAILABLE_FROM_GRACE,
    ClosureStatus,
    EnrolmentSource,
    PlaceStatus,
)
from services.capacity.domain.model import OfferStatus as CapacityOfferStatus
from services.intake.domain.model import OfferStatus, Request, Status
from tests.unit.lifecycle_world import World

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
MAX_ELAPSED = timedelta(days=80)  # below the 91 days after which families must confirm
LOCATIONS = ("loc-a", "loc-b", "loc-c")
POSTCODES = ("2440", "2450", "2430", "2260")
CHILDREN = 6
MAX_CLOSURES = 2
BIRTH = date(2026, 6, 1)
DESIRED_STARTS = (date(2027, 1, 4), date(2027, 2, 1))
AVAILABLE_FROM = (date(2026, 12, 1), date(2027, 1, 4), date(2027, 2, 1), date(2027, 3, 1))
CLOSING_FROM = (date(2026, 11, 16), date(2027, 1, 4), date(2027, 2, 15))
SOME_PARTS: tuple[DayPart, ...] = ("mon_am", "mon_pm", "tue_am", "tue_pm")
LIVE_CAPACITY = (CapacityOfferStatus.PROPOSED, CapacityOfferStatus.ACCEPTED)
LIVE_INTAKE = (OfferStatus.OPEN, OfferStatus.ACCEPTED)
ANSWERS = ("accept", "accept", "accept_keep_waiting", "decline")

# What families ask is small, what places cover often larger, so some places fit.
asked_parts = st.sets(st.sampled_from(SOME_PARTS), min_size=1, max_size=2).map(sorted)
place_parts = st.one_of(st.just(list(FULL_WEEK)),
                        st.sets(st.sampled_from(SOME_PARTS), min_size=1).map(sorted))


def overlapping(periods: list[tuple[date, date | None, str]]) -> tuple[str, str] | None:
    """Two of [start, end) periods (end None: open) that share a day, by their labels.
    An empty period (ended the day it started: the child moved first) shares none."""
    periods = [p for p in periods if p[1] is None or p[0] < p[1]]
    for i, (start, end, label) in enumerate(periods):
        for other_start, other_end, other_label in periods[i + 1:]:
            if (end is None or other_start < end) and (other_end is None or start < other_end):
                return label, other_label
    return None


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World(START)
        self.requests_of_child: dict[int, str] = {}

    def teardown(self) -> None:
        try:
            self.world.drain()
            self.check_settled()
        finally:
            self.world.close()

    # --- helpers -------------------------------------------------------------------

    @property
    def intake(self) -> dict[str, Request]:
        return self.world.intake_uow.requests.rows

    def capacity_open_locations(self) -> list[str]:
        return sorted(loc_id for loc_id, loc in
                      self.world.capacity_uow.locations.locations.items() if not loc.closed)

    def intake_open_locations(self) -> list[str]:
        return sorted(loc_id for loc_id, loc in self.world.intake_uow.locations.rows.items()
                      if not loc.closed)

    def open_offers(self) -> list[tuple[str, str]]:
        return sorted((request.request_id, offer.match_id)
                      for request in self.intake.values() if request.is_open
                      for offer in request.offers if offer.status is OfferStatus.OPEN)

    def capacity_offers(self, *statuses: CapacityOfferStatus) -> list[str]:
        return sorted(o.match_id for o in self.world.capacity_uow.offers.offers.values()
                      if o.status in statuses)

    def running_enrolments(self) -> list[str]:
        return sorted(e.enrolment_id for e in
                      self.world.capacity_uow.enrolments.enrolments.values()
                      if e.source is EnrolmentSource.LOKET and e.ends_on is None)

    def closable_locations(self) -> list[str]:
        """Open, without a closure registered (one at a time per location); at most
        MAX_CLOSURES per example, so most examples keep locations to place children at."""
        closures = self.world.capacity_uow.closures.closures.values()
        if len(closures) >= MAX_CLOSURES:
            return []
        pending = {c.location_id for c in closures if c.status is ClosureStatus.REGISTERED}
        return [loc for loc in self.capacity_open_locations() if loc not in pending]

    def registered_closures(self) -> list[str]:
        return sorted(c.closure_id for c in self.world.capacity_uow.closures.closures.values()
                      if c.status is ClosureStatus.REGISTERED)

    def child_of(self, request_id: str) -> str:
        """The first request of the chain a crisis request continues: the child."""
        request = self.intake.get(request_id)
        while request is not None and request.replaces_request_id:
            request = self.intake.get(request.replaces_request_id)
        return request.request_id if request else request_id

    def call(self, service: str, method: str, path: str, body: dict[str, Any] | None,
             allowed: tuple[int, ...]) -> Any:
        response = self.world.http(service, method, path, body)
        assert response.status_code in allowed, (
            f"{service} {method} {path} {body} answered {response.status_code}: "
            f"{response.text}")
        return response.json()

    # --- organisers and coordinators (capacity) -------------------------------------

    @initialize(licences=st.lists(st.integers(2, 3), min_size=2, max_size=2),
                postcodes=st.lists(st.sampled_from(POSTCODES), min_size=2, max_size=2))
    def first_locations(self, licences: list[int], postcodes: list[str]) -> None:
        """Two locations every family can choose from the start; a third may come later."""
        for number, (licence, postcode) in enumerate(zip(licences, postcodes, strict=True)):
            self.register_location(number, licence, postcode)
        self.world.drain()

    def register_location(self, number: int, licence: int, postcode: str) -> None:
        self.call("capacity", "POST", "/locations", {
            "location_id": LOCATIONS[number], "name": f"KDV {LOCATIONS[number]}",
            "municipality_nis": "13008", "postcode": postcode, "capacity": licence,
            "subsidy_tier": "basic"}, (201,))

    @precondition(lambda self: len(self.world.capacity_uow.locations.locations) < len(LOCATIONS))
    @rule(licence=st.integers(1, 3), postcode=st.sampled_from(POSTCODES))
    def register_late_location(self, licence: int, postcode: str) -> None:
        self.register_location(len(self.world.capacity_uow.locations.locations), licence,
                               postcode)

    @precondition(lambda self: self.capacity_open_locations())
    @rule(data=st.data(), parts=place_parts)
    def announce_free_place(self, data: st.DataObject, parts: list[DayPart]) -> None:
        location_id = data.draw(st.sampled_from(self.capacity_open_locations()))
        earliest = self.world.now.date() - AVAILABLE_FROM_GRACE
        available_from = data.draw(st.sampled_from(
            [day for day in AVAILABLE_FROM if day >= earliest]))
        # 409: the licence has no room for it in a day-part it covers
        self.call("capacity", "POST", f"/locations/{location_id}/free-places",
                  {"available_from": available_from.isoformat(), "day_parts": parts},
                  (201, 409))

    @precondition(lambda self: self.capacity_offers(*LIVE_CAPACITY))
    @rule(data=st.data(), confirm=st.sampled_from((True, True, True, False)))
    def organiser_answers(self, data: st.DataObject, confirm: bool) -> None:
        """Mostly confirms what the family accepted; sometimes refuses a live offer."""
        accepted = self.capacity_offers(CapacityOfferStatus.ACCEPTED)
        if confirm:
            if accepted:  # else the organiser waits for the family
                match_id = data.draw(st.sampled_from(accepted))
                # 409: the place is no longer open, or the location closed
                self.call("capacity", "POST", f"/offers/{match_id}/confirm", {}, (201, 409))
            return
        match_id = data.draw(st.sampled_from(self.capacity_offers(*LIVE_CAPACITY)))
        self.call("capacity", "POST", f"/offers/{match_id}/refuse",
                  {"reason": "age_group_full"}, (200,))

    @precondition(lambda self: self.running_enrolments())
    @rule(data=st.data(), after=st.sampled_from((0, 14, 45)))
    def end_enrolment(self, data: st.DataObject, after: int) -> None:
        enrolment_id = data.draw(st.sampled_from(self.running_enrolments()))
        enrolment = self.world.capacity_uow.enrolments.enrolments[enrolment_id]
        ended_on = enrolment.start_date + timedelta(days=after)
        self.call("capacity", "POST", f"/enrolments/{enrolment_id}/end",
                  {"ended_on": ended_on.isoformat(), "reason": "left"}, (200,))

    @precondition(lambda self: self.closable_locations())
    @rule(data=st.data(), effective_from=st.sampled_from(CLOSING_FROM))
    def register_closure(self, data: st.DataObject, effective_from: date) -> None:
        location_id = data.draw(st.sampled_from(self.closable_locations()))
        self.call("capacity", "POST", f"/locations/{location_id}/closures",
                  {"reason": "licence_revoked", "effective_from": effective_from.isoformat()},
                  (201,))

    @precondition(lambda self: self.registered_closures())
    @rule(data=st.data())
    def release_closure(self, data: st.DataObject) -> None:
        closure_id = data.draw(st.sampled_from(self.registered_closures()))
        self.call("capacity", "POST", f"/closures/{closure_id}/release", None, (200,))

    # --- families (intake) ----------------------------------------------------------

    @precondition(lambda self: len(self.requests_of_child) < CHILDREN
                  and self.intake_open_locations())
    @rule(data=st.data(), parts=asked_parts, start=st.sampled_from(DESIRED_STARTS),
          postcode=st.sampled_from(POSTCODES), working=st.booleans())
    def submit_request(self, data: st.DataObject, parts: list[DayPart], start: date,
                       postcode: str, working: bool) -> None:
        child = data.draw(st.sampled_from(
            [n for n in range(CHILDREN) if n not in self.requests_of_child]))
        choices = data.draw(st.lists(st.sampled_from(self.intake_open_locations()),
                                     min_size=1, max_size=3, unique=True))
        body = {
            "child": {"first_name": f"Kind{child}", "last_name": "Peeters",
                      "birth_date": BIRTH.isoformat(), "national_number": f"2606010000{child}"},
            "parent": {"name": f"Ouder {child}", "email": f"ouder{child}@example.be",
                       "postcode": postcode},
            "municipality_nis": "13008", "desired_start_date": start.isoformat(),
            "day_parts": parts, "preferred_location_ids": choices,
            "priority": {"parents_working_or_training": working},
            "sworn_statement": working,
        }
        created = self.call("intake", "POST", "/requests", body, (201,))
        self.requests_of_child[child] = created["request_id"]

    @precondition(lambda self: self.open_offers())
    @rule(data=st.data(), answer=st.sampled_from(ANSWERS))
    def family_answers(self, data: st.DataObject, answer: str) -> None:
        request_id, match_id = data.draw(st.sampled_from(self.open_offers()))
        verb = "decline" if answer == "decline" else "accept"
        body = {"keep_waiting_for_higher_choices": True} if answer.endswith("waiting") else None
        # 409: past its deadline, which the deadlines job has not fired yet
        self.call("intake", "POST", f"/requests/{request_id}/offers/{match_id}/{verb}", body,
                  (200, 409))

    # --- time and the broker ----------------------------------------------------------

    @precondition(lambda self: self.world.now - START < MAX_ELAPSED)
    @rule(days=st.integers(1, 7))
    def time_passes(self, days: int) -> None:
        self.world.now += timedelta(days=days)
        self.world.run_jobs()

    @precondition(lambda self: self.world.pending())
    @rule(data=st.data(), count=st.integers(1, 4))
    def deliver_some(self, data: st.DataObject, count: int) -> None:
        """The heads of `count` queues, one at a time, each queue chosen at random."""
        for _ in range(count):
            pending = self.world.pending()
            if pending:
                self.world.deliver_one(data.draw(st.sampled_from(pending)))

    @precondition(lambda self: self.world.delivered)
    @rule(data=st.data())
    def deliver_again(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.world.delivered) - 1))
        outcome = self.world.deliver_again(index)
        assert outcome in ("duplicate", "ignored"), f"a repeated event was {outcome}"

    @rule()
    def settle(self) -> None:
        self.world.drain()
        self.check_settled()

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def nothing_dead_lettered(self) -> None:
        letters = self.world.dead_letters()
        assert not letters, f"dead letters: {letters}"

    @invariant()
    def one_live_offer_per_place(self) -> None:
        live: dict[str, list[str]] = defaultdict(list)
        for match in self.world.matching_uow.matches.rows.values():
            if match.live:
                live[match.place_id].append(match.match_id)
        twice = {place: ids for place, ids in live.items() if len(ids) > 1}
        assert not twice, f"matching: places with two live offers: {twice}"

    @invariant()
    def licence_holds_in_every_day_part(self) -> None:
        uow = self.world.capacity_uow
        for location_id, location in uow.locations.locations.items():
            enrolments = [e for e in uow.enrolments.enrolments.values()
                          if e.location_id == location_id]
            places = [p for p in uow.places.places.values()
                      if p.location_id == location_id and p.status is PlaceStatus.OPEN]
            days = {self.world.now.date(), *(e.start_date for e in enrolments),
                    *(p.available_from for p in places)}
            for day in sorted(days):
                for part in FULL_WEEK:
                    present = [e.enrolment_id for e in enrolments
                               if e.active_on(day) and part in e.day_parts]
                    free = [p.place_id for p in places
                            if p.available_from <= day and part in p.day_parts]
                    assert len(present) + len(free) <= location.licensed_places, (
                        f"{location_id} on {day} {part}: enrolled {present} and free {free} "
                        f"exceed the licence of {location.licensed_places}")

    @invariant()
    def one_enrolment_per_child_and_period(self) -> None:
        periods: dict[str, list[tuple[date, date | None, str]]] = defaultdict(list)
        for e in self.world.capacity_uow.enrolments.enrolments.values():
            if e.request_id and e.source is EnrolmentSource.LOKET:
                periods[self.child_of(e.request_id)].append(
                    (e.start_date, e.ends_on, f"{e.enrolment_id} ({e.request_id} at "
                     f"{e.location_id}, {e.start_date} to {e.ends_on})"))
        for child, found in periods.items():
            both = overlapping(found)
            assert both is None, f"capacity: child {child} enrolled twice at once: {both}"

    # --- once every queue is delivered --------------------------------------------------

    def check_settled(self) -> None:
        assert not self.world.pending()
        self.copies_hold_one_live_offer_per_place()
        self.intake_places_each_child_once()
        self.every_child_of_a_closure_replaced()

    def copies_hold_one_live_offer_per_place(self) -> None:
        intake: dict[str, list[str]] = defaultdict(list)
        for request in self.intake.values():
            for offer in request.offers:
                if offer.status in LIVE_INTAKE:
                    intake[offer.place_id].append(f"{offer.match_id} ({request.request_id})")
        twice = {place: ids for place, ids in intake.items() if len(ids) > 1}
        assert not twice, f"intake, settled: places with two live offers: {twice}"
        capacity: dict[str, list[str]] = defaultdict(list)
        for o in self.world.capacity_uow.offers.offers.values():
            if o.status in LIVE_CAPACITY:
                capacity[o.place_id].append(o.match_id)
        twice = {place: ids for place, ids in capacity.items() if len(ids) > 1}
        assert not twice, f"capacity, settled: places with two live offers: {twice}"

    def intake_places_each_child_once(self) -> None:
        periods: dict[str, list[tuple[date, date | None, str]]] = defaultdict(list)
        for request in self.intake.values():
            for offer in request.offers:
                if offer.status is OfferStatus.PLACED:
                    periods[self.child_of(request.request_id)].append(
                        (offer.start_date, offer.ended_on,
                         f"{offer.match_id} ({request.request_id} at {offer.location_id}, "
                         f"{offer.start_date} to {offer.ended_on})"))
        for child, found in periods.items():
            both = overlapping(found)
            assert both is None, f"intake, settled: child {child} placed twice at once: {both}"

    def affected_requests(self) -> dict[str, set[str]]:
        """Per released closure, the requests it reaches: enrolled at the location from
        the effective date (capacity's record), or whose offer there matching cancelled
        for the closure, unless the family declined that offer first."""
        reached: dict[str, set[str]] = {}
        closures = self.world.capacity_uow.closures.closures.values()
        cancelled = [e.data for e in self.world.published("matching")
                     if e.type.endswith("MatchCancelled")
                     and e.data.get("reason") == "location_closed"]
        for closure in closures:
            if closure.status is not ClosureStatus.RELEASED:
                continue
            found = {e.request_id for e in closure.affected_enrolments if e.request_id}
            for data in cancelled:
                if data["location_id"] != closure.location_id:
                    continue
                request = self.intake[data["request_id"]]
                offer = request.offer(data["match_id"])
                if offer is None or offer.status is not OfferStatus.DECLINED:
                    found.add(request.request_id)
            reached[closure.closure_id] = found
        return reached

    def every_child_of_a_closure_replaced(self) -> None:
        for closure_id, request_ids in self.affected_requests().items():
            for request_id in sorted(request_ids):
                request = self.intake[request_id]
                if request.needs_loket_for_closure_id == closure_id:
                    continue
                successor = self.intake.get(request.replaced_by_request_id or "")
                assert request.status is Status.REPLACED and successor is not None \
                    and successor.urgency == "crisis", (
                        f"closure {closure_id}: request {request_id} (child "
                        f"{self.child_of(request_id)}) is {request.status.value}, replaced by "
                        f"{request.replaced_by_request_id}, on the loket's list for "
                        f"{request.needs_loket_for_closure_id}; its offers: "
                        f"{[(o.match_id, o.location_id, o.status.value) for o in request.offers]}")


EXAMPLES = int(os.environ.get("LOKET_LIFECYCLE_EXAMPLES", "100"))
Lifecycle.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=60, deadline=None, database=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow],
)
TestLifecycle = Lifecycle.TestCase
