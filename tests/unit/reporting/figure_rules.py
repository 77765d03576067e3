"""The figure rules, written once: facts in, figures out, repeats changing nothing.

`FigureRules` is run against the in-memory fake (test_figures.py) and against
the SQL that ships (tests/integration/test_reporting_figures.py): each runner
gives the `reporting` fixture its own storage.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts import new_event
from loketkit.errors import Invalid
from services.reporting.domain.report import UnknownMunicipality
from tests.unit.reporting.events import (
    AFTER_START,
    GEEL,
    LAAKDAL,
    MEERHOUT,
    MON_TUE,
    START,
    WEEK,
    accepted,
    cancelled,
    capacity_declared,
    closed,
    declined,
    enrolment,
    enrolment_ended,
    enrolments_declared,
    freed,
    offer_expired,
    place_withdrawn,
    placed,
    proposed,
    refused,
    registered,
    request_expired,
    submitted,
    withdrawn,
)
from tests.unit.reporting.harness import Reporting


class FigureRules:
    async def test_a_request_then_a_proposal_counts_for_the_family_and_the_location(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(submitted("req-1", nis=GEEL), freed("place-1", nis=LAAKDAL),
                              proposed("match-1", "req-1", "place-1", location_nis=LAAKDAL))

        geel, laakdal = await reporting.figures(GEEL), await reporting.figures(LAAKDAL)
        assert (geel.requests_submitted, geel.requests_open, geel.proposals) == (1, 0, 0)
        assert (laakdal.requests_submitted, laakdal.proposals) == (0, 1)
        assert (laakdal.free_places, laakdal.free_places_open) == (1, 0)

    async def test_a_proposal_before_its_request_still_closes_it(
        self, reporting: Reporting
    ) -> None:
        # matches and requests are different topics: any order
        await reporting.apply(proposed("match-1", "req-1", "place-1"), submitted("req-1"))
        assert (await reporting.figures(GEEL)).requests_open == 0

    async def test_a_repeated_fact_under_a_new_event_id_changes_nothing(
        self, reporting: Reporting
    ) -> None:
        outcomes = await reporting.apply(
            submitted("req-1"), submitted("req-1"), freed("place-1"), freed("place-1"),
            proposed("match-1", "req-1", "place-1"), proposed("match-1", "req-1", "place-1"),
            registered(), registered(), closed("closure-1"), closed("closure-1"),
        )
        assert outcomes == ["applied"] * 10  # new envelopes: only the natural id catches them
        geel, laakdal = await reporting.figures(GEEL), await reporting.figures(LAAKDAL)
        assert (geel.requests_submitted, laakdal.proposals, laakdal.free_places) == (1, 1, 1)
        assert (laakdal.locations, laakdal.closures) == (1, 1)

    async def test_a_batch_records_each_fact_once_even_when_it_repeats_inside(
        self, reporting: Reporting
    ) -> None:
        outcomes = await reporting.apply_batch(
            submitted("req-1"), freed("place-1"), submitted("req-1"),
            proposed("match-1", "req-1", "place-1"), freed("place-1"), submitted("req-2"))
        assert outcomes == ["applied"] * 6
        geel, laakdal = await reporting.figures(GEEL), await reporting.figures(LAAKDAL)
        assert (geel.requests_submitted, geel.requests_open) == (2, 1)
        assert (laakdal.proposals, laakdal.free_places) == (1, 1)

    async def test_the_first_arrival_of_a_fact_wins(self, reporting: Reporting) -> None:
        # The same request id again, from another municipality: still counted where it came first.
        await reporting.apply(submitted("req-1", GEEL), submitted("req-1", LAAKDAL))
        geel, laakdal = await reporting.figures(GEEL), await reporting.figures(LAAKDAL)
        assert (geel.requests_submitted, laakdal.requests_submitted) == (1, 0)

    async def test_a_redelivered_event_is_skipped_by_the_inbox(self, reporting: Reporting) -> None:
        event = new_event(submitted("req-1"), source="/test")
        assert [await reporting.deliver(event) for _ in range(3)] == ["applied", "duplicate",
                                                                      "duplicate"]
        assert (await reporting.figures(GEEL)).requests_submitted == 1
        assert reporting.dead_letters.sent == []

    async def test_a_withdrawn_request_is_no_longer_open(self, reporting: Reporting) -> None:
        await reporting.apply(submitted("req-1"), submitted("req-2"), withdrawn("req-1"),
                              withdrawn("req-1"))
        geel = await reporting.figures(GEEL)
        assert (geel.requests_submitted, geel.requests_open, geel.requests_withdrawn) == (2, 1, 1)

    async def test_free_places_and_closures_count_per_location_municipality(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(
            registered("loc-l", LAAKDAL), registered("loc-m", MEERHOUT),
            freed("place-1", "loc-l", LAAKDAL), freed("place-2", "loc-l", LAAKDAL),
            freed("place-3", "loc-m", MEERHOUT), closed("closure-1", "loc-m", MEERHOUT),
        )
        laakdal, meerhout = await reporting.figures(LAAKDAL), await reporting.figures(MEERHOUT)
        assert (laakdal.locations, laakdal.free_places, laakdal.free_places_open) == (1, 2, 2)
        assert laakdal.closures == 0
        # A closed location's place no longer counts as free for a family.
        assert (meerhout.free_places, meerhout.free_places_open, meerhout.closures) == (1, 0, 1)

    async def test_a_crisis_request_counts_where_the_location_closed(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(
            submitted("req-1", GEEL), proposed("match-1", "req-1", "place-1", "loc-m", MEERHOUT),
            closed("closure-1", "loc-m", MEERHOUT),
            withdrawn("req-1", GEEL, reason="replaced_after_closure"),
            submitted("req-2", GEEL, urgency="crisis", replaces="req-1"),
        )
        geel, meerhout = await reporting.figures(GEEL), await reporting.figures(MEERHOUT)
        assert (meerhout.crisis_requests, meerhout.closures) == (1, 1)
        # The family's new request is open; the replaced one is no family's withdrawal.
        assert (geel.requests_submitted, geel.requests_open, geel.requests_withdrawn) == (2, 1, 0)

    async def test_a_crisis_request_counts_at_the_latest_proposal_of_the_replaced_request(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(
            proposed("match-1", "req-1", "place-1", "loc-l", LAAKDAL, minutes=0),
            proposed("match-2", "req-1", "place-2", "loc-m", MEERHOUT, minutes=5),
            submitted("req-2", GEEL, urgency="crisis", replaces="req-1"),
            submitted("req-3", GEEL, urgency="crisis"),  # nothing replaced: the family's own
        )
        crisis = {nis: (await reporting.figures(nis)).crisis_requests
                  for nis in (GEEL, LAAKDAL, MEERHOUT)}
        assert crisis == {GEEL: 1, LAAKDAL: 0, MEERHOUT: 1}

    async def test_shortage_is_open_requests_minus_open_places_and_never_negative(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(
            submitted("req-1", GEEL), submitted("req-2", GEEL), submitted("req-3", GEEL),
            freed("place-g", "loc-g", GEEL),
            freed("place-1", "loc-l", LAAKDAL), freed("place-2", "loc-l", LAAKDAL),
        )
        report = await reporting.report()
        shortages = {row.municipality.nis: row.figures.shortage for row in report.municipalities}
        assert shortages == {GEEL: 2, LAAKDAL: 0}  # Laakdal's surplus is no negative shortage
        assert report.totals.shortage == 2  # the sum of the municipalities' shortages
        assert report.totals.free_places_open == 3

    async def test_municipalities_are_named_from_the_reference_file(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(submitted("req-1", GEEL), submitted("req-2", "21004"),
                              freed("place-1", nis=LAAKDAL))
        report = await reporting.report()
        names = [(row.municipality.nis, row.municipality.name, row.municipality.inhabitants)
                 for row in report.municipalities]
        # Brussels (21004) is not Flemish: still counted, named "onbekend", listed last.
        assert names == [(GEEL, "Geel", 40709), (LAAKDAL, "Laakdal", 16186),
                         ("21004", "onbekend", None)]
        assert [area.service_area for area in report.service_areas] == ["kempen-gml"]
        assert report.service_areas[0].figures.requests_submitted == 2

    async def test_service_areas_are_counted_apart(self, reporting: Reporting) -> None:
        await reporting.apply(submitted("req-1", GEEL), submitted("req-2", GEEL, area="other"))
        report = await reporting.report()
        assert [(area.service_area, area.figures.requests_submitted)
                for area in report.service_areas] == [("kempen-gml", 1), ("other", 1)]
        assert (await reporting.figures(GEEL)).requests_submitted == 2

    async def test_one_municipality_only_and_unknown_codes_are_refused(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(submitted("req-1", GEEL), submitted("req-2", LAAKDAL))
        only_geel = await reporting.report(GEEL)
        assert [row.municipality.name for row in only_geel.municipalities] == ["Geel"]
        assert only_geel.totals.requests_submitted == 1
        quiet = await reporting.report(MEERHOUT)  # known, nothing yet: a row of zeros
        assert [(row.municipality.name, row.figures.requests_submitted)
                for row in quiet.municipalities] == [("Meerhout", 0)]
        with pytest.raises(UnknownMunicipality) as refused:
            await reporting.report("99999")
        assert isinstance(refused.value, Invalid)  # a 422 wherever it surfaces
        assert refused.value.field == "municipality_nis"

    async def test_a_code_outside_the_list_with_facts_is_reported(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(submitted("req-1", "21004"))
        brussels = await reporting.report("21004")
        assert [(row.municipality.name, row.figures.requests_submitted)
                for row in brussels.municipalities] == [("onbekend", 1)]


class LifecycleRules:
    """Issue 6: answers, placements, enrolments, occupancy and waiting times."""

    async def test_a_placement_counts_at_the_location_and_at_the_family(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(
            submitted("req-1", GEEL), freed("place-1"), proposed("match-1", "req-1", "place-1"),
            accepted("match-1", "req-1", "place-1"), placed("match-1", "req-1", "place-1"),
        )
        geel, laakdal = await reporting.figures(GEEL), await reporting.figures(LAAKDAL)
        assert (laakdal.placed, laakdal.placed_family, laakdal.offers_accepted) == (1, 0, 1)
        assert (geel.placed, geel.placed_family) == (0, 1)
        # Placed: neither waiting nor a free place any more.
        assert (geel.requests_open, laakdal.free_places_open) == (0, 0)

    async def test_a_placement_before_its_proposal_and_request_counts_the_same(
        self, reporting: Reporting
    ) -> None:
        in_order = [submitted("req-1", GEEL), proposed("match-1", "req-1", "place-1"),
                    placed("match-1", "req-1", "place-1")]
        await reporting.apply(*reversed(in_order))
        geel, laakdal = await reporting.figures(GEEL), await reporting.figures(LAAKDAL)
        assert (laakdal.placed, laakdal.proposals, geel.placed_family) == (1, 1, 1)
        assert geel.requests_open == 0
        report = await reporting.report()
        assert report.total_durations.median_days_to_placement == 0.0

    async def test_the_family_municipality_of_a_placement_comes_from_the_proposal_too(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(placed("match-1", "req-1", "place-1"))  # nothing else yet
        assert (await reporting.report()).totals.placed_family == 0
        await reporting.apply(proposed("match-1", "req-1", "place-1", request_nis=MEERHOUT))
        assert (await reporting.figures(MEERHOUT)).placed_family == 1

    async def test_answers_expiries_and_cancellations_count_at_the_location(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(
            proposed("match-1", "req-1", "place-1"), declined("match-1", "req-1", "place-1"),
            proposed("match-2", "req-2", "place-1"), refused("match-2", "req-2", "place-1",
                                                           "age_group_full"),
            proposed("match-3", "req-3", "place-1"), refused("match-3", "req-3", "place-1",
                                                           "day_parts_not_available"),
            proposed("match-4", "req-4", "place-1"), refused("match-4", "req-4", "place-1",
                                                           "care_need_not_met"),
            proposed("match-5", "req-5", "place-1"), refused("match-5", "req-5", "place-1"),
            proposed("match-6", "req-6", "place-1"),
            offer_expired("match-6", "req-6", "place-1"),
            proposed("match-7", "req-7", "place-1"), cancelled("match-7", "req-7", "place-1"),
            request_expired("req-8", GEEL),
        )
        laakdal, geel = await reporting.figures(LAAKDAL), await reporting.figures(GEEL)
        # MatchDeclined names the family's municipality: it counts where the offer was.
        assert (laakdal.declined_by_family, geel.declined_by_family) == (1, 0)
        assert (laakdal.refused_age_group_full, laakdal.refused_day_parts_not_available,
                laakdal.refused_care_need_not_met, laakdal.refused_other) == (1, 1, 1, 1)
        assert (laakdal.offers_expired, laakdal.offers_cancelled) == (1, 1)
        assert geel.requests_expired == 1

    async def test_a_decline_before_its_proposal_moves_to_the_location_once_known(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(declined("match-1", "req-1", "place-1", nis=GEEL))
        assert (await reporting.figures(GEEL)).declined_by_family == 1
        await reporting.apply(proposed("match-1", "req-1", "place-1", location_nis=MEERHOUT))
        geel, meerhout = await reporting.figures(GEEL), await reporting.figures(MEERHOUT)
        assert (geel.declined_by_family, meerhout.declined_by_family) == (0, 1)

    async def test_an_ended_offer_sets_the_request_waiting_and_frees_the_place_again(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(submitted("req-1"), freed("place-1"),
                              proposed("match-1", "req-1", "place-1"))
        assert ((await reporting.figures(GEEL)).requests_open,
                (await reporting.figures(LAAKDAL)).free_places_open) == (0, 0)
        await reporting.apply(declined("match-1", "req-1", "place-1"))
        assert ((await reporting.figures(GEEL)).requests_open,
                (await reporting.figures(LAAKDAL)).free_places_open) == (1, 1)
        await reporting.apply(place_withdrawn("place-1"), request_expired("req-1"))
        geel, laakdal = await reporting.figures(GEEL), await reporting.figures(LAAKDAL)
        assert (geel.requests_open, laakdal.free_places_open, laakdal.places_withdrawn) == (
            0, 0, 1)

    async def test_repeats_of_the_new_facts_change_nothing(self, reporting: Reporting) -> None:
        once = [proposed("match-1", "req-1", "place-1"), placed("match-1", "req-1", "place-1"),
                declined("match-2", "req-2", "place-2"), refused("match-3", "req-3", "place-3"),
                offer_expired("match-4", "req-4", "place-4"), request_expired("req-5"),
                enrolment_ended("enr-x"), registered(), capacity_declared(20),
                enrolments_declared(enrolment("e-1", MON_TUE))]
        outcomes = await reporting.apply(*once, *once)
        assert outcomes == ["applied"] * 20
        laakdal = await reporting.figures(LAAKDAL, on=AFTER_START)
        assert (laakdal.placed, laakdal.declined_by_family, laakdal.refused_other,
                laakdal.offers_expired, laakdal.enrolments_ended) == (1, 1, 1, 1, 1)
        assert (await reporting.figures(GEEL)).requests_expired == 1
        assert (laakdal.licensed_places, laakdal.enrolled_mon_am) == (20, 2)

    async def test_occupancy_per_day_part_from_placements_declarations_and_ends(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(
            registered("loc-a", LAAKDAL, capacity=14),
            placed("match-1", "req-1", "place-1", day_parts=MON_TUE),
            placed("match-2", "req-2", "place-2", day_parts=["fri_am"]),
            enrolments_declared(enrolment("e-1", WEEK), enrolment("e-2", ["mon_am"]), hours=0),
        )
        laakdal = await reporting.figures(LAAKDAL, on=AFTER_START)
        assert laakdal.licensed_places == 14
        assert laakdal.enrolled() == {
            "mon_am": 3, "mon_pm": 2, "tue_am": 2, "tue_pm": 2, "wed_am": 1, "wed_pm": 1,
            "thu_am": 1, "thu_pm": 1, "fri_am": 2, "fri_pm": 1}
        # Before the start date nobody is there yet.
        assert (await reporting.figures(LAAKDAL, on=START - timedelta(days=1))).enrolled() == (
            dict.fromkeys(laakdal.enrolled(), 0))
        # The organiser declares again (e-2 left), a placed child leaves, the licence grows.
        await reporting.apply(
            enrolments_declared(enrolment("e-1", WEEK), hours=1),
            enrolment_ended("enr-match-1", ended_on=AFTER_START),
            capacity_declared(20, hours=2), capacity_declared(16, hours=1),
        )
        laakdal = await reporting.figures(LAAKDAL, on=AFTER_START)
        assert (laakdal.licensed_places, laakdal.enrolments_ended) == (20, 1)
        assert (laakdal.enrolled()["mon_am"], laakdal.enrolled()["fri_am"]) == (1, 2)

    async def test_an_empty_declaration_replaces_the_earlier_one(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(enrolments_declared(enrolment("e-1", WEEK), hours=0),
                              enrolments_declared(hours=1))
        assert (await reporting.figures(LAAKDAL, on=AFTER_START)).enrolled_mon_am == 0
        # An older declaration arriving late does not win either.
        await reporting.apply(enrolments_declared(enrolment("e-9", WEEK), hours=-1))
        assert (await reporting.figures(LAAKDAL, on=AFTER_START)).enrolled_mon_am == 0

    async def test_a_declared_end_date_and_a_closed_location_count_no_more(
        self, reporting: Reporting
    ) -> None:
        await reporting.apply(
            registered("loc-a", LAAKDAL, capacity=14), registered("loc-m", MEERHOUT, capacity=9),
            enrolments_declared(enrolment("e-1", WEEK, end=AFTER_START - timedelta(days=1)),
                                enrolment("e-2", WEEK, end=AFTER_START)),
            capacity_declared(7, location_id="loc-x", nis=MEERHOUT),  # registered later
            closed("closure-1", "loc-m", MEERHOUT, effective_from=AFTER_START),
        )
        laakdal = await reporting.figures(LAAKDAL, on=AFTER_START)
        meerhout = await reporting.figures(MEERHOUT, on=AFTER_START)
        assert (laakdal.enrolled_mon_am, laakdal.licensed_places) == (1, 14)
        assert meerhout.licensed_places == 7  # loc-m closed, loc-x by its declaration
        before = await reporting.figures(MEERHOUT, on=START)
        assert before.licensed_places == 16

    async def test_waiting_times_per_family_municipality(self, reporting: Reporting) -> None:
        # Geel: first offers after 10, 20 and 40 days (a second offer does not count);
        # placements after 30 and 50 days. Laakdal: one offer after 4 days.
        await reporting.apply(
            submitted("req-1", GEEL, days_ago=10), proposed("m-1", "req-1", "p-1"),
            proposed("m-1b", "req-1", "p-9", days=5),
            submitted("req-2", GEEL, days_ago=20), proposed("m-2", "req-2", "p-2"),
            placed("m-2", "req-2", "p-2", days=10),
            submitted("req-3", GEEL, days_ago=40), proposed("m-3", "req-3", "p-3"),
            placed("m-3", "req-3", "p-3", days=10),
            submitted("req-4", LAAKDAL, days_ago=4), proposed("m-4", "req-4", "p-4"),
            submitted("req-5", GEEL, urgency="crisis", days_ago=400),  # left out
            proposed("m-5", "req-5", "p-5"),
            submitted("req-6", MEERHOUT),  # no offer yet: no waiting time
        )
        report = await reporting.report()
        by_nis = {row.municipality.nis: row.durations for row in report.municipalities}
        geel = by_nis[GEEL]
        assert (geel.median_days_to_first_offer, geel.p90_days_to_first_offer) == (20.0, 36.0)
        assert (geel.median_days_to_placement, geel.p90_days_to_placement) == (40.0, 48.0)
        assert by_nis[LAAKDAL].median_days_to_first_offer == 4.0
        assert by_nis[LAAKDAL].median_days_to_placement is None
        assert by_nis[MEERHOUT].median_days_to_first_offer is None
        total = report.total_durations
        assert (total.median_days_to_first_offer, total.p90_days_to_first_offer) == (15.0, 34.0)
        assert report.service_areas[0].durations == total
        only_laakdal = await reporting.report(LAAKDAL)
        assert only_laakdal.total_durations.median_days_to_first_offer == 4.0
