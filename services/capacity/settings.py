"""Capacity's settings, from the environment (prefix-free, one service per process)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from loketkit.settings import ServiceSettings


class CapacitySettings(ServiceSettings):
    service_name: str = "capacity"
    http_port: int = Field(
        default=8002, validation_alias=AliasChoices("CAPACITY_PORT", "http_port")
    )
    service_area: str = "kempen-gml"
    # Municipalities (NIS codes) the loket serves: Geel, Laakdal, Meerhout.
    service_area_municipalities: str = "13008,13053,13021"

    @property
    def municipalities(self) -> frozenset[str]:
        return frozenset(code.strip() for code in self.service_area_municipalities.split(","))
