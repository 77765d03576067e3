"""Event payloads for reporting's tests: the Kempen area Geel, Laakdal, Meerhout."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from contracts.events import (
    CapacityDeclared,
    CrisisClosure,
    DeclaredEnrolment,
    EnrolmentEnded,
    EnrolmentsDeclared,
    LocationRegistered,
    MatchAccepted,
    MatchCancelled,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    MatchRefused,
    PlaceFreed,
    PlacementConfirmed,
    PlaceWithdrawn,
    RequestExpired,
    RequestSubmitted,
    RequestWithdrawn,
)
from contracts.events.capacity import RefusalReason
from contracts.events.requests import Urgency
from contracts.schedule import FULL_WEEK, DayPart

WithdrawalReason = Literal["by_family", "by_loket", "replaced_after_closure"]
AREA = "kempen-gml"
GEEL, LAAKDAL, MEERHOUT = "13008", "13053", "13021"
NOW = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
START = date(2026, 1, 5)
AFTER_START = date(2026, 2, 2)  # a Monday when every placement below has begun
MON_TUE: list[DayPart] = ["mon_am", "mon_pm", "tue_am", "tue_pm"]
WEEK: list[DayPart] = list(FULL_WEEK)


def submitted(request_id: str, nis: str = GEEL, urgency: Urgency = "normal",
              replaces: str | None = None, area: str = AREA, days_ago: float = 0
              ) -> RequestSubmitted:
    return RequestSubmitted(
        service_area=area, request_id=request_id, child_ref=f"child-ref-{request_id:0>8}",
        municipality_nis=nis, birth_month="2025-06", desired_start_date=START,
        day_parts=MON_TUE, preferred_location_ids=["loc-a"], urgency=urgency,
        replaces_request_id=replaces, submitted_at=NOW - timedelta(days=days_ago),
    )


def withdrawn(request_id: str, nis: str = GEEL, reason: WithdrawalReason = "by_family"
              ) -> RequestWithdrawn:
    return RequestWithdrawn(service_area=AREA, request_id=request_id, municipality_nis=nis,
                            reason=reason, withdrawn_at=NOW)


def request_expired(request_id: str, nis: str = GEEL) -> RequestExpired:
    return RequestExpired(service_area=AREA, request_id=request_id, municipality_nis=nis,
                          confirmation_asked_at=NOW, expired_at=NOW + timedelta(days=30))


def proposed(match_id: str, request_id: str, place_id: str, location_id: str = "loc-a",
             location_nis: str = LAAKDAL, request_nis: str = GEEL, minutes: int = 0,
             days: float = 0) -> MatchProposed:
    at = NOW + timedelta(minutes=minutes, days=days)
    return MatchProposed(
        service_area=AREA, match_id=match_id, request_id=request_id, place_id=place_id,
        location_id=location_id, location_municipality_nis=location_nis,
        request_municipality_nis=request_nis, urgency="normal", ordering="test",
        start_date=START, day_parts=WEEK, requested_day_parts=MON_TUE,
        family_answer_due=at + timedelta(days=7), organiser_answer_due=at + timedelta(days=14),
        proposed_at=at,
    )


def accepted(match_id: str, request_id: str, place_id: str, location_id: str = "loc-a",
             nis: str = GEEL) -> MatchAccepted:
    return MatchAccepted(service_area=AREA, match_id=match_id, request_id=request_id,
                         place_id=place_id, location_id=location_id, municipality_nis=nis,
                         accepted_at=NOW)


def declined(match_id: str, request_id: str, place_id: str, location_id: str = "loc-a",
             nis: str = GEEL) -> MatchDeclined:
    return MatchDeclined(service_area=AREA, match_id=match_id, request_id=request_id,
                         place_id=place_id, location_id=location_id, municipality_nis=nis,
                         declined_at=NOW)


def refused(match_id: str, request_id: str, place_id: str, reason: RefusalReason = "other",
            location_id: str = "loc-a", nis: str = LAAKDAL) -> MatchRefused:
    return MatchRefused(service_area=AREA, match_id=match_id, request_id=request_id,
                        place_id=place_id, location_id=location_id, municipality_nis=nis,
                        reason=reason, refused_at=NOW)


def offer_expired(match_id: str, request_id: str, place_id: str, location_id: str = "loc-a",
                  location_nis: str = LAAKDAL, request_nis: str = GEEL) -> MatchExpired:
    return MatchExpired(service_area=AREA, match_id=match_id, request_id=request_id,
                        place_id=place_id, location_id=location_id,
                        location_municipality_nis=location_nis,
                        request_municipality_nis=request_nis,
                        family_answer_due=NOW + timedelta(days=7),
                        expired_at=NOW + timedelta(days=7))


def cancelled(match_id: str, request_id: str, place_id: str, location_id: str = "loc-a",
              location_nis: str = LAAKDAL, request_nis: str = GEEL) -> MatchCancelled:
    return MatchCancelled(service_area=AREA, match_id=match_id, request_id=request_id,
                          place_id=place_id, location_id=location_id,
                          location_municipality_nis=location_nis,
                          request_municipality_nis=request_nis, reason="place_withdrawn",
                          cancelled_at=NOW)


def placed(match_id: str, request_id: str, place_id: str, location_id: str = "loc-a",
           nis: str = LAAKDAL, day_parts: list[DayPart] | None = None,
           enrolment_id: str | None = None, start: date = START, days: float = 0
           ) -> PlacementConfirmed:
    return PlacementConfirmed(
        service_area=AREA, match_id=match_id, request_id=request_id, place_id=place_id,
        location_id=location_id, municipality_nis=nis,
        enrolment_id=enrolment_id or f"enr-{match_id}", start_date=start,
        day_parts=day_parts or MON_TUE, confirmed_at=NOW + timedelta(days=days))


def enrolment_ended(enrolment_id: str, location_id: str = "loc-a", nis: str = LAAKDAL,
                    ended_on: date = START) -> EnrolmentEnded:
    return EnrolmentEnded(service_area=AREA, enrolment_id=enrolment_id,
                          location_id=location_id, municipality_nis=nis, ended_on=ended_on,
                          reason="left", recorded_at=NOW)


def enrolment(enrolment_id: str, day_parts: list[DayPart], start: date = START,
              end: date | None = None) -> DeclaredEnrolment:
    return DeclaredEnrolment(enrolment_id=enrolment_id, start_date=start, end_date=end,
                             day_parts=day_parts)


def enrolments_declared(*enrolments: DeclaredEnrolment, location_id: str = "loc-a",
                        nis: str = LAAKDAL, hours: int = 0) -> EnrolmentsDeclared:
    return EnrolmentsDeclared(service_area=AREA, location_id=location_id, municipality_nis=nis,
                              enrolments=list(enrolments),
                              declared_at=NOW + timedelta(hours=hours))


def capacity_declared(places: int, location_id: str = "loc-a", nis: str = LAAKDAL,
                      hours: int = 0) -> CapacityDeclared:
    return CapacityDeclared(service_area=AREA, location_id=location_id, municipality_nis=nis,
                            licensed_places=places, declared_at=NOW + timedelta(hours=hours))


def freed(place_id: str, location_id: str = "loc-a", nis: str = LAAKDAL) -> PlaceFreed:
    return PlaceFreed(service_area=AREA, place_id=place_id, location_id=location_id,
                      municipality_nis=nis, available_from=START, min_age_months=0,
                      max_age_months=36, day_parts=WEEK, freed_at=NOW)


def place_withdrawn(place_id: str, location_id: str = "loc-a", nis: str = LAAKDAL
                    ) -> PlaceWithdrawn:
    return PlaceWithdrawn(service_area=AREA, place_id=place_id, location_id=location_id,
                          municipality_nis=nis, withdrawn_at=NOW)


def registered(location_id: str = "loc-a", nis: str = LAAKDAL, capacity: int = 14
               ) -> LocationRegistered:
    return LocationRegistered(service_area=AREA, location_id=location_id,
                              name="Kinderdagverblijf De Bolleboos", municipality_nis=nis,
                              postcode="2430", capacity=capacity, subsidy_tier="income_related",
                              registered_at=NOW)


def closed(closure_id: str, location_id: str = "loc-a", nis: str = LAAKDAL,
           effective_from: date = START) -> CrisisClosure:
    return CrisisClosure(service_area=AREA, closure_id=closure_id, location_id=location_id,
                         municipality_nis=nis, reason="licence_suspended",
                         effective_from=effective_from, announced_at=NOW)
