"""What intake's routes get from the app: settings, the command bus, units of work."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from loketkit.http import app_context
from loketkit.service import ServiceContext
from services.intake.ports import IntakeUnitOfWork
from services.intake.settings import IntakeSettings

IntakeContext = ServiceContext[IntakeSettings, IntakeUnitOfWork]
ContextDep = Annotated[IntakeContext, Depends(app_context)]
