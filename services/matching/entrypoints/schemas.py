"""Matching's public HTTP shapes."""

from __future__ import annotations

from pydantic import BaseModel


class QueuePublic(BaseModel):
    service_area: str
    requests: dict[str, int]  # status -> number; statuses with none are left out
    places: dict[str, int]
