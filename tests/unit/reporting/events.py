"""Event payloads for reporting's tests: the Kempen area Geel, Laakdal, Meerhout."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from contracts.events import (
    CrisisClosure,
    LocationRegistered,
    MatchProposed,
    PlaceFreed,
    RequestSubmitted,
    RequestWithdrawn,
)
from contracts.events.requests import Urgency

WithdrawalReason = Literal["by_family", "by_loket", "replaced_after_closure"]
AREA = "kempen-gml"
GEEL, LAAKDAL, MEERHOUT = "13008", "13053", "13021"
NOW = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
START = date(2026, 1, 5)


def submitted(request_id: str, nis: str = GEEL, urgency: Urgency = "normal",
              replaces: str | None = None, area: str = AREA) -> RequestSubmitted:
    return RequestSubmitted(
        service_area=area, request_id=request_id, child_ref=f"child-ref-{request_id:0>8}",
        municipality_nis=nis, birth_month="2025-06", desired_start_date=START,
        days_per_week=4, preferred_location_ids=["loc-a"], urgency=urgency,
        replaces_request_id=replaces, submitted_at=NOW,
    )


def withdrawn(request_id: str, nis: str = GEEL, reason: WithdrawalReason = "by_family"
              ) -> RequestWithdrawn:
    return RequestWithdrawn(service_area=AREA, request_id=request_id, municipality_nis=nis,
                            reason=reason, withdrawn_at=NOW)


def proposed(match_id: str, request_id: str, place_id: str, location_id: str = "loc-a",
             location_nis: str = LAAKDAL, request_nis: str = GEEL, minutes: int = 0
             ) -> MatchProposed:
    return MatchProposed(
        service_area=AREA, match_id=match_id, request_id=request_id, place_id=place_id,
        location_id=location_id, location_municipality_nis=location_nis,
        request_municipality_nis=request_nis, urgency="normal", ordering="test",
        proposed_at=NOW + timedelta(minutes=minutes),
    )


def freed(place_id: str, location_id: str = "loc-a", nis: str = LAAKDAL) -> PlaceFreed:
    return PlaceFreed(service_area=AREA, place_id=place_id, location_id=location_id,
                      municipality_nis=nis, available_from=START, min_age_months=0,
                      max_age_months=36, freed_at=NOW)


def registered(location_id: str = "loc-a", nis: str = LAAKDAL) -> LocationRegistered:
    return LocationRegistered(service_area=AREA, location_id=location_id,
                              name="Kinderdagverblijf De Bolleboos", municipality_nis=nis,
                              postcode="2430", capacity=14, subsidy_tier="income_related",
                              registered_at=NOW)


def closed(closure_id: str, location_id: str = "loc-a", nis: str = LAAKDAL) -> CrisisClosure:
    return CrisisClosure(service_area=AREA, closure_id=closure_id, location_id=location_id,
                         municipality_nis=nis, reason="licence_suspended",
                         effective_from=START, announced_at=NOW)
