"""The figure rules, written once: facts in, figures out, repeats changing nothing.

`FigureRules` is run against the in-memory fake (test_figures.py) and against
the SQL that ships (tests/integration/test_reporting_figures.py): each runner
gives the `reporting` fixture its own storage.
"""

from __future__ import annotations

import pytest

from contracts import new_event
from loketkit.errors import Invalid
from services.reporting.domain.report import UnknownMunicipality
from tests.unit.reporting.events import (
    GEEL,
    LAAKDAL,
    MEERHOUT,
    closed,
    freed,
    proposed,
    registered,
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
