"""Base class of every event payload: the type name carries the version."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.topics import TopicSpec

SERVICE_AREA = Field(
    min_length=1,
    max_length=64,
    pattern=r"^[a-z0-9][a-z0-9-]*$",
    description="Service area (werkingsgebied) code of the loket; also the Kafka key.",
)
NIS_CODE = Field(pattern=r"^\d{5}$", description="Statbel NIS code of a municipality.")
ID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class EventData(BaseModel):
    """An event payload. Subclasses set NAME, VERSION and TOPIC."""

    # Tolerant reader: unknown fields are ignored, so producers can add fields safely.
    model_config = ConfigDict(extra="ignore", frozen=True)

    NAME: ClassVar[str]
    VERSION: ClassVar[int]
    TOPIC: ClassVar[TopicSpec]
    SUBJECT_FIELD: ClassVar[str]

    service_area: str = SERVICE_AREA

    @classmethod
    def event_type(cls) -> str:
        return f"be.loket.{cls.NAME}.v{cls.VERSION}"

    def subject(self) -> str:
        return str(getattr(self, self.SUBJECT_FIELD))
