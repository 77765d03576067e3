"""Reporting's HTTP API: the figures as JSON, as CSV and as a Dutch page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from loketkit.auth import Caller, Role
from services.reporting import handlers
from services.reporting.domain.model import Municipality
from services.reporting.domain.report import Report, UnknownMunicipality
from services.reporting.entrypoints import page
from services.reporting.entrypoints.access import PageReader, Reader, scope_of
from services.reporting.entrypoints.deps import (
    ContextDep,
    ReferenceData,
    ReferenceDep,
    ReportingContext,
)
from services.reporting.entrypoints.schemas import (
    CSV_COLUMNS,
    MunicipalityFiguresPublic,
    ReportPublic,
)

router = APIRouter(tags=["figures"])
NIS_PATTERN = r"^\d{5}$"

MunicipalityFilter = Annotated[
    str | None,
    Query(pattern=NIS_PATTERN, description="Only this municipality (NIS code)"),
]

OnDay = Annotated[
    date | None,
    Query(description="Count occupancy as on this day (YYYY-MM-DD); today in Brussels by "
          "default"),
]


async def report(ctx: ReportingContext, ref: ReferenceData, caller: Caller,
                 municipality_nis: str | None, on: date | None = None) -> Report:
    scope = scope_of(caller, municipality_nis)
    return await handlers.report_figures(ctx.uow(), ref.municipalities, scope.municipality_nis,
                                         clock=ref.clock, on=on, service_area=scope.service_area)


@router.get("/figures", response_model=ReportPublic,
            summary="Figures per municipality and service area, counted from the facts")
async def figures(ctx: ContextDep, ref: ReferenceDep, caller: Reader,
                  municipality_nis: MunicipalityFilter = None, on: OnDay = None
                  ) -> ReportPublic:
    return ReportPublic.of(await report(ctx, ref, caller, municipality_nis, on))


@router.get("/figures.csv", response_class=Response,
            summary="The per-municipality figures as CSV (yearly registration figures)")
async def figures_csv(ctx: ContextDep, ref: ReferenceDep, caller: Reader,
                      municipality_nis: MunicipalityFilter = None, on: OnDay = None
                      ) -> Response:
    current = await report(ctx, ref, caller, municipality_nis, on)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in current.municipalities:
        writer.writerow(MunicipalityFiguresPublic.of(row).model_dump())
    filename = f"registratiecijfers-{current.generated_at:%Y-%m-%d}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def figures_page(request: Request, ctx: ContextDep, ref: ReferenceDep, caller: PageReader,
                       municipality_nis: str | None = None) -> HTMLResponse:
    # The page's own form sends "" for all municipalities. People get errors as a
    # Dutch page, not as the JSON problem the API routes answer with.
    selected = municipality_nis or None
    if selected is not None and not re.fullmatch(NIS_PATTERN, selected):
        return page.render_problem(request, "Een NIS-code heeft vijf cijfers.",
                                   ref.municipalities)
    try:
        current = await report(ctx, ref, caller, selected)
    except UnknownMunicipality:
        return page.render_problem(request, f"Onbekende gemeente: NIS-code {selected}.",
                                   ref.municipalities)
    return page.render(request, current, choosable(caller, ref), selected)


def choosable(caller: Caller, ref: ReferenceData) -> Mapping[str, Municipality]:
    """The municipalities the page's chooser offers: a municipality only itself."""
    if caller.acts_as(Role.OPGROEIEN) or not caller.acts_as(Role.MUNICIPALITY):
        return ref.municipalities
    own = ref.municipalities.get(caller.nis_code or "")
    return {own.nis: own} if own else {}
