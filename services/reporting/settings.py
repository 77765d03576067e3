"""Reporting's settings, from the environment (prefix-free, one service per process)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from loketkit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = Field(
        default=8004, validation_alias=AliasChoices("REPORTING_PORT", "http_port")
    )
