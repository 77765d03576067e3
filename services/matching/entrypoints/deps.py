"""What routes get from the composition root, without importing it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from loketkit.http import app_context
from loketkit.service import ServiceContext
from services.matching.ports import MatchingUnitOfWork
from services.matching.settings import MatchingSettings

MatchingContext = ServiceContext[MatchingSettings, MatchingUnitOfWork]
ContextDep = Annotated[MatchingContext, Depends(app_context)]
