"""What routes get from the composition root, through one shared dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from loketkit.http import app_context
from loketkit.service import ServiceContext
from services.capacity.ports import CapacityUnitOfWork
from services.capacity.settings import CapacitySettings

CapacityContext = ServiceContext[CapacitySettings, CapacityUnitOfWork]
ContextDep = Annotated[CapacityContext, Depends(app_context)]
