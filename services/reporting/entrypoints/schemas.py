"""HTTP response bodies (Public naming), mapped from the domain's report."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.reporting.domain.model import Durations, Figures
from services.reporting.domain.report import MunicipalityFigures, Report, ServiceAreaFigures


def enrolled(day_part: str) -> Any:
    return Field(description=f"Children enrolled today in day-part {day_part} "
                 "(location's municipality)")


class FiguresPublic(BaseModel):
    requests_submitted: int = Field(description="Requests registered (family's municipality)")
    requests_open: int = Field(
        description="Waiting: no live offer, not placed, withdrawn or expired")
    requests_withdrawn: int = Field(description="Withdrawn by the family or the loket")
    requests_expired: int = Field(description="Expired: the family did not confirm in time")
    crisis_requests: int = Field(
        description="Crisis requests after a closure, counted where the location closed")
    proposals: int = Field(description="Match proposals (location's municipality)")
    offers_accepted: int = Field(description="Offers the family accepted (location's)")
    declined_by_family: int = Field(description="Offers the family declined (location's)")
    refused_age_group_full: int = Field(description="Refused by the organiser: age group full")
    refused_day_parts_not_available: int = Field(
        description="Refused by the organiser: day-parts not available")
    refused_care_need_not_met: int = Field(
        description="Refused by the organiser: a care need it cannot meet")
    refused_other: int = Field(description="Refused by the organiser: another reason")
    offers_expired: int = Field(description="Offers the family did not answer in time")
    offers_cancelled: int = Field(description="Offers ended without an answer deciding them")
    placed: int = Field(description="Placements confirmed (location's municipality)")
    placed_family: int = Field(description="The same placements, at the family's municipality")
    enrolments_ended: int = Field(description="Enrolments ended (location's municipality)")
    free_places: int = Field(description="Places announced free (location's municipality)")
    free_places_open: int = Field(
        description="Of those: no live offer, not filled, withdrawn or closed")
    places_withdrawn: int = Field(description="Free places the organiser withdrew")
    locations: int = Field(description="Registered locations")
    closures: int = Field(description="Crisis closures")
    licensed_places: int = Field(
        description="Licensed places of the open locations: children present at once, "
        "in every day-part (the latest CapacityDeclared, else the registered capacity)")
    enrolled_mon_am: int = enrolled("mon_am")
    enrolled_mon_pm: int = enrolled("mon_pm")
    enrolled_tue_am: int = enrolled("tue_am")
    enrolled_tue_pm: int = enrolled("tue_pm")
    enrolled_wed_am: int = enrolled("wed_am")
    enrolled_wed_pm: int = enrolled("wed_pm")
    enrolled_thu_am: int = enrolled("thu_am")
    enrolled_thu_pm: int = enrolled("thu_pm")
    enrolled_fri_am: int = enrolled("fri_am")
    enrolled_fri_pm: int = enrolled("fri_pm")
    shortage: int = Field(ge=0, description="Open requests minus open free places, never < 0")
    median_days_to_first_offer: float | None = Field(
        description="Median days from registration to the first offer (family's municipality; "
        "crisis requests left out); null without offers")
    p90_days_to_first_offer: float | None = Field(
        description="90th percentile of the days from registration to the first offer")
    median_days_to_placement: float | None = Field(
        description="Median days from registration to the confirmed placement")
    p90_days_to_placement: float | None = Field(
        description="90th percentile of the days from registration to placement")

    @staticmethod
    def values(figures: Figures, durations: Durations) -> dict[str, int | float | None]:
        return {**asdict(figures), **asdict(durations)}


class MunicipalityPublic(BaseModel):
    municipality_nis: str
    name: str = Field(description="Dutch name; 'onbekend' for a code outside the reference list")
    inhabitants: int | None
    arrondissement: str | None
    province: str | None


# Fields in order: who first, then the figures.
class MunicipalityFiguresPublic(FiguresPublic, MunicipalityPublic):
    @classmethod
    def of(cls, row: MunicipalityFigures) -> MunicipalityFiguresPublic:
        place = row.municipality
        return cls(municipality_nis=place.nis, name=place.name, inhabitants=place.inhabitants,
                   arrondissement=place.arrondissement, province=place.province,
                   **cls.values(row.figures, row.durations))


class ServiceAreaPublic(BaseModel):
    service_area: str


class ServiceAreaFiguresPublic(FiguresPublic, ServiceAreaPublic):
    @classmethod
    def of(cls, row: ServiceAreaFigures) -> ServiceAreaFiguresPublic:
        return cls(service_area=row.service_area, **cls.values(row.figures, row.durations))


class ReportPublic(BaseModel):
    generated_at: datetime
    service_areas: list[ServiceAreaFiguresPublic]
    municipalities: list[MunicipalityFiguresPublic]
    totals: FiguresPublic

    @classmethod
    def of(cls, report: Report) -> ReportPublic:
        return cls(
            generated_at=report.generated_at,
            service_areas=[ServiceAreaFiguresPublic.of(row) for row in report.service_areas],
            municipalities=[MunicipalityFiguresPublic.of(row) for row in report.municipalities],
            totals=FiguresPublic(**FiguresPublic.values(report.totals, report.total_durations)),
        )


CSV_COLUMNS: tuple[str, ...] = tuple(MunicipalityFiguresPublic.model_fields)
