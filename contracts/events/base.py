"""Base class of every event payload: the type name carries the version."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field

from contracts.text import CleanInput
from contracts.topics import TopicSpec

SERVICE_AREA = Field(
    min_length=1,
    max_length=64,
    pattern=r"^[a-z0-9][a-z0-9-]*$",
    description="Service area (werkingsgebied) code of the loket; also the Kafka key.",
)
NIS_CODE = Field(
    max_length=5, pattern=r"^\d{5}$", description="Statbel NIS code of a municipality."
)
ID_LENGTH = 64
ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
ID = Field(min_length=1, max_length=ID_LENGTH, pattern=ID_PATTERN)
# The same bounds for ids inside lists and optional ids.
Id = Annotated[str, Field(min_length=1, max_length=ID_LENGTH, pattern=ID_PATTERN)]


class EventData(CleanInput):
    """An event payload. Subclasses set NAME, VERSION and TOPIC.

    Every string and list is bounded (tests/unit/contracts/test_bounds.py), so no
    event outgrows a Kafka message, and no text holds control characters."""

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

    def upgraded(self) -> EventData:
        """The same event as the current version of its type. An older version overrides
        this (an upcaster), so handlers only ever see the current version."""
        return self
