"""Per-service-area settings, stored as data and versioned.

Each service defines its settings as a pydantic model with defaults (in
`services/<svc>/domain/area_settings.py`). A change is stored as the next
version for the area, with the moment it takes effect; what was in force at any
moment stays answerable (`in_force(area, at)`), so a deadline computed last month
can be explained today. No version stored: the model's defaults apply.

`area_settings_router(Model, tag)` gives every service the same three routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Path, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loketkit.audit import Acting
from loketkit.auth import Caller, Role, require_own_area, requires
from loketkit.db import AreaSettingsRow
from loketkit.errors import Conflict
from loketkit.ids import utcnow

T = TypeVar("T", bound=BaseModel)

AREA_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class AreaSettingsVersion(BaseModel):
    """One stored version of one area's settings."""

    model_config = ConfigDict(frozen=True)

    service_area: str
    version: int
    effective_from: datetime
    body: dict[str, Any]
    recorded_at: datetime
    recorded_by: str | None = None


class AreaSettingsStore(Protocol):
    """`uow.area_settings` on every unit of work."""

    async def in_force(self, service_area: str, at: datetime) -> AreaSettingsVersion | None:
        """The version in force at `at`: the latest `effective_from` not after it
        (the higher version when two take effect at the same moment)."""
        ...

    async def history(self, service_area: str) -> list[AreaSettingsVersion]:
        """Every version of the area, oldest version first."""
        ...

    async def add(self, version: AreaSettingsVersion) -> None: ...


class _HasAreaSettings(Protocol):
    @property
    def area_settings(self) -> AreaSettingsStore: ...


async def settings_in_force(
    uow: _HasAreaSettings, model: type[T], service_area: str, at: datetime
) -> T:
    """The area's settings in force at `at`, as the service's model (its defaults
    when nothing is stored). Call inside an entered unit of work."""
    found = await uow.area_settings.in_force(service_area, at)
    return model.model_validate(found.body) if found else model()


def pick_in_force(
    versions: list[AreaSettingsVersion], at: datetime
) -> AreaSettingsVersion | None:
    """The rule `in_force` follows, on versions in memory."""
    candidates = [v for v in versions if v.effective_from <= at]
    return max(candidates, key=lambda v: (v.effective_from, v.version), default=None)


class SqlAreaSettingsStore:
    """Lives for one transaction (one unit of work): an area's versions are read once
    and kept, so a batch of events asks the database once per area."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._versions: dict[str, list[AreaSettingsVersion]] = {}

    async def in_force(self, service_area: str, at: datetime) -> AreaSettingsVersion | None:
        if service_area not in self._versions:
            self._versions[service_area] = await self.history(service_area)
        return pick_in_force(self._versions[service_area], at)

    async def history(self, service_area: str) -> list[AreaSettingsVersion]:
        rows = (
            await self._session.execute(
                select(AreaSettingsRow)
                .where(col(AreaSettingsRow.service_area) == service_area)
                .order_by(col(AreaSettingsRow.version))
            )
        ).scalars()
        return [_version(row) for row in rows]

    async def add(self, version: AreaSettingsVersion) -> None:
        self._session.add(AreaSettingsRow(**version.model_dump()))
        self._versions.pop(version.service_area, None)

    async def latest_version(self, service_area: str) -> int:
        found = await self._session.scalar(
            select(func.max(col(AreaSettingsRow.version)))
            .where(col(AreaSettingsRow.service_area) == service_area)
        )
        return int(found or 0)


def _version(row: AreaSettingsRow) -> AreaSettingsVersion:
    return AreaSettingsVersion.model_validate(row, from_attributes=True)


# --- HTTP ---------------------------------------------------------------------------


class AreaSettingsPublic(BaseModel):
    service_area: str
    version: int = Field(description="0: nothing stored, the defaults apply")
    effective_from: datetime | None
    recorded_at: datetime | None
    recorded_by: str | None
    settings: dict[str, Any]


ServiceAreaPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=AREA_PATTERN,
              description="Service area (werkingsgebied) code, e.g. 'kempen-gml'")
]


def area_settings_router(model: type[BaseModel], tag: str) -> APIRouter:
    """GET in force (or defaults, version 0), GET history, POST a new version."""
    change_model: type[BaseModel] = create_model(
        f"{model.__name__}Change",
        __base__=model,
        effective_from=(
            AwareDatetime | None,
            Field(default=None, description="When the change takes effect; default now"),
        ),
        recorded_by=(
            str | None,
            Field(default=None, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$",
                  description="Who decided the change (a staff member or a decision number)"),
        ),
    )
    router = APIRouter(tags=[tag])

    def present(found: AreaSettingsVersion | None, service_area: str) -> AreaSettingsPublic:
        if found is None:
            return AreaSettingsPublic(
                service_area=service_area, version=0, effective_from=None, recorded_at=None,
                recorded_by=None, settings=model().model_dump(mode="json"),
            )
        return AreaSettingsPublic(
            service_area=service_area, version=found.version,
            effective_from=found.effective_from, recorded_at=found.recorded_at,
            recorded_by=found.recorded_by,
            settings=model.model_validate(found.body).model_dump(mode="json"),
        )

    @router.get("/service-areas/{service_area}/settings", response_model=AreaSettingsPublic,
                summary="The area's settings in force now (defaults, version 0, if none stored)")
    async def in_force_now(
        service_area: ServiceAreaPath, request: Request, caller: AreaReader
    ) -> AreaSettingsPublic:
        require_own_area(caller, service_area)
        context = request.app.state.context
        async with context.uow() as uow:
            found = await uow.area_settings.in_force(service_area, _clock(request)())
        return present(found, service_area)

    @router.get("/service-areas/{service_area}/settings/history",
                response_model=list[AreaSettingsPublic],
                summary="Every stored version of the area's settings, oldest first")
    async def history(
        service_area: ServiceAreaPath, request: Request, caller: AreaReader
    ) -> list[AreaSettingsPublic]:
        require_own_area(caller, service_area)
        context = request.app.state.context
        async with context.uow() as uow:
            versions = await uow.area_settings.history(service_area)
        return [present(version, service_area) for version in versions]

    async def record(
        service_area: ServiceAreaPath, body: Any, request: Request, caller: AreaAdmin,
    ) -> AreaSettingsPublic:
        require_own_area(caller, service_area)
        context = request.app.state.context
        now = _clock(request)()
        fields = body.model_dump(mode="json")
        fields.pop("effective_from", None)
        recorded_by = fields.pop("recorded_by", None)
        settings = model.model_validate(fields)
        async with context.uow() as uow:
            uow.acting = Acting(caller.subject, caller.role, "RecordAreaSettings",
                                "service_area", service_area, service_area)
            history = await uow.area_settings.history(service_area)
            version = AreaSettingsVersion(
                service_area=service_area,
                version=max((v.version for v in history), default=0) + 1,
                effective_from=body.effective_from or now,
                body=settings.model_dump(mode="json"),
                recorded_at=now,
                recorded_by=recorded_by,
            )
            await uow.area_settings.add(version)
            try:
                await uow.commit()
            except IntegrityError as error:
                raise Conflict(
                    "version",
                    "another change to this area's settings was recorded at the same time; "
                    "read them again and retry"
                ) from error
        return present(version, service_area)

    # The body's model is made above, so give FastAPI the class, not a name to look up.
    record.__annotations__["body"] = change_model
    router.add_api_route(
        "/service-areas/{service_area}/settings", record, methods=["POST"], status_code=201,
        response_model=AreaSettingsPublic,
        summary="Record a new version of the area's settings (takes effect at effective_from)",
    )
    return router


# Settings are the area's own: its people read them, its loket administrator changes them.
AreaReader = Annotated[Caller, requires(Role.LOKET_STAFF, Role.COORDINATOR, Role.LOKET_ADMIN)]
AreaAdmin = Annotated[Caller, requires(Role.LOKET_ADMIN)]


def _clock(request: Request) -> Any:
    return getattr(request.app.state.context, "clock", utcnow)
