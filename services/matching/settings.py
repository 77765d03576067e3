"""Matching's settings, from the environment."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from loketkit.settings import ServiceSettings


class MatchingSettings(ServiceSettings):
    service_name: str = "matching"
    http_port: int = Field(
        default=8003, validation_alias=AliasChoices("MATCHING_PORT", "http_port")
    )
