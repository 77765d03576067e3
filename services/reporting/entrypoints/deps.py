"""What routes get from the composition root, typed: the service context and the
reference data the report names municipalities with. Bootstrap fills both in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from loketkit.http import app_context
from loketkit.ids import Clock
from loketkit.service import ServiceContext
from services.reporting.domain.model import Municipality
from services.reporting.ports import ReportingUnitOfWork
from services.reporting.settings import ReportingSettings

ReportingContext = ServiceContext[ReportingSettings, ReportingUnitOfWork]
ContextDep = Annotated[ReportingContext, Depends(app_context)]


@dataclass(frozen=True)
class ReferenceData:
    """What a report needs besides the facts."""

    municipalities: Mapping[str, Municipality]
    clock: Clock


async def reference_data(request: Request) -> ReferenceData:
    found = request.app.state.reference
    assert isinstance(found, ReferenceData), "bootstrap sets app.state.reference"
    return found


ReferenceDep = Annotated[ReferenceData, Depends(reference_data)]
