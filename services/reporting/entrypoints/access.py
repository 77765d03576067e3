"""Whose figures a caller sees: Opgroeien every area's; a municipality (and its local
childcare council) its own municipality's only (another's answers 404); the loket's
own people (staff, coordinator, administrator) their own service area's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from loketkit.auth import Caller, Role, requires
from loketkit.errors import NotFound
from loketkit.web import page_requires

READERS = (Role.OPGROEIEN, Role.MUNICIPALITY, Role.LOKET_STAFF, Role.COORDINATOR,
           Role.LOKET_ADMIN)
Reader = Annotated[Caller, requires(*READERS)]
PageReader = Annotated[Caller, page_requires(*READERS)]


@dataclass(frozen=True)
class Scope:
    municipality_nis: str | None
    service_area: str | None


def scope_of(caller: Caller, municipality_nis: str | None) -> Scope:
    if caller.acts_as(Role.OPGROEIEN):
        return Scope(municipality_nis, None)
    if caller.acts_as(Role.MUNICIPALITY):
        if municipality_nis not in (None, caller.nis_code) or caller.nis_code is None:
            raise NotFound("municipality_nis", "no figures for this municipality")
        return Scope(caller.nis_code, None)
    # The loket's own people: their area; with no area in the token, nothing.
    return Scope(municipality_nis, caller.service_area or "-")
