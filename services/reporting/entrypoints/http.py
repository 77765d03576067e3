"""Reporting's HTTP API: the figures as JSON, as CSV and as a Dutch page."""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from loketkit.http import app_context, problem
from services.reporting import handlers
from services.reporting.bootstrap import ReportingContext
from services.reporting.domain.report import Report, UnknownMunicipality
from services.reporting.entrypoints import page
from services.reporting.entrypoints.schemas import (
    CSV_COLUMNS,
    MunicipalityFiguresPublic,
    ReportPublic,
)

router = APIRouter(tags=["figures"])
NIS_PATTERN = r"^\d{5}$"


ContextDep = Annotated[ReportingContext, Depends(app_context)]
MunicipalityFilter = Annotated[
    str | None,
    Query(pattern=NIS_PATTERN, description="Only this municipality (NIS code)"),
]


async def report(ctx: ReportingContext, municipality_nis: str | None) -> Report:
    return await handlers.report_figures(ctx.uow(), ctx.municipalities, municipality_nis)


@router.get("/figures", response_model=ReportPublic,
            summary="Figures per municipality and service area, counted from the facts")
async def figures(ctx: ContextDep, municipality_nis: MunicipalityFilter = None
                  ) -> ReportPublic | JSONResponse:
    try:
        return ReportPublic.of(await report(ctx, municipality_nis))
    except UnknownMunicipality as error:
        return problem(422, f"unknown municipality {municipality_nis}", error.field)


@router.get("/figures.csv", response_class=Response,
            summary="The per-municipality figures as CSV (yearly registration figures)")
async def figures_csv(ctx: ContextDep, municipality_nis: MunicipalityFilter = None) -> Response:
    try:
        current = await report(ctx, municipality_nis)
    except UnknownMunicipality as error:
        return problem(422, f"unknown municipality {municipality_nis}", error.field)
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


@router.get("/", response_class=HTMLResponse, summary="Registratiecijfers (Dutch page)")
async def figures_page(ctx: ContextDep, municipality_nis: str | None = None) -> HTMLResponse:
    # The page's own form sends "" for all municipalities; errors come back as a page.
    selected = municipality_nis or None
    if selected is not None and not re.fullmatch(NIS_PATTERN, selected):
        return HTMLResponse(page.render_problem("Een NIS-code heeft vijf cijfers.",
                                                ctx.municipalities), status_code=422)
    try:
        current = await report(ctx, selected)
    except UnknownMunicipality:
        return HTMLResponse(page.render_problem(f"Onbekende gemeente: NIS-code {selected}.",
                                                ctx.municipalities), status_code=422)
    return HTMLResponse(page.render(current, ctx.municipalities, selected))
