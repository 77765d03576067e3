"""HTTP response bodies (Public naming), mapped from the domain's report."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, Field

from services.reporting.domain.report import MunicipalityFigures, Report, ServiceAreaFigures


class FiguresPublic(BaseModel):
    requests_submitted: int = Field(description="Requests registered (family's municipality)")
    requests_open: int = Field(description="Submitted, not yet proposed nor withdrawn")
    requests_withdrawn: int = Field(description="Withdrawn by the family or the loket")
    crisis_requests: int = Field(
        description="Crisis requests after a closure, counted where the location closed")
    proposals: int = Field(description="Match proposals (location's municipality)")
    free_places: int = Field(description="Places announced free (location's municipality)")
    free_places_open: int = Field(description="Of those: not yet proposed, location not closed")
    locations: int = Field(description="Registered locations")
    closures: int = Field(description="Crisis closures")
    shortage: int = Field(ge=0, description="Open requests minus open free places, never < 0")


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
                   **asdict(row.figures))


class ServiceAreaPublic(BaseModel):
    service_area: str


class ServiceAreaFiguresPublic(FiguresPublic, ServiceAreaPublic):
    @classmethod
    def of(cls, row: ServiceAreaFigures) -> ServiceAreaFiguresPublic:
        return cls(service_area=row.service_area, **asdict(row.figures))


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
            totals=FiguresPublic(**asdict(report.totals)),
        )


CSV_COLUMNS: tuple[str, ...] = tuple(MunicipalityFiguresPublic.model_fields)
