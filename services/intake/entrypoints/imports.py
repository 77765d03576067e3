"""Reading an imported waiting list: CSV text -> one validated command, or a 422 that
names the line and the column at fault.

Columns (a header line first; `;`-separated lists; empty cells are left out):

| column | required | example |
|---|---|---|
| child_first_name, child_last_name | yes | Lotte, Peeters |
| child_birth_date | yes | 2026-10-12 |
| child_national_number | no | 26101212345 |
| parent_name | yes | An Peeters |
| email, phone, street | no | an@example.be, +32 470 00 00 00, Markt 1 |
| postcode | yes | 2440 |
| municipality_nis | yes | 13008 |
| neighbourhood_code | no | A12 |
| desired_start_date | yes | 2027-09-01 |
| day_parts | yes | mon_am mon_pm tue_am (spaces or commas) |
| preferred_location_ids | yes, unless max_distance_km | loc-a;loc-b (ranked, most wanted first) |
| max_distance_km | no | 5 or 2,5 (also any open location within this many km, 0.5 to 50) |
| registered_at | yes | 2025-03-01 or 2025-03-01T10:15:00+01:00 (the original date) |
| parents_working_or_training, works_at_least_four_fifths | no | ja/nee, 1/0 |
| single_parent, low_income, foster_child | no | ja/nee, 1/0 |
| sibling_location_ids | no | loc-b |
| sworn_statement | no | ja/nee (see below) |
| accepts_partial_fit, share_contact_with_organiser | no | ja/nee |
| urgency | no | normal or urgent (see below) |

Two columns carry a judgement the old system made, and loket staff import the list:
- `urgency`: `urgent` is urgency **granted by the importing loket staff**, taking over
  the old list's judgement; the request's audit log records it as such
  (`urgency_granted_on_import`, with `imported_by`), and staff can revisit it with
  `PUT /requests/{id}/assessment`. A family cannot ask for urgency through an import.
- `sworn_statement`: priority facts on an old waiting list were declared when the family
  registered there, so a row that declares facts **counts as sworn** (at its
  `registered_at`) unless its `sworn_statement` cell says `nee`; such a row is refused
  naming `line N.sworn_statement`, as `POST /requests` would be.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import ConfigDict, EmailStr, Field, ValidationError, field_validator, model_validator

from contracts.events.base import Id
from contracts.schedule import DayParts
from contracts.text import CleanInput
from loketkit.calendar import BRUSSELS
from loketkit.errors import Invalid
from services.intake.domain.commands import ImportedRequest, ImportWaitingList, SubmitRequest
from services.intake.domain.model import Child, Contact, Priority
from services.intake.entrypoints.schemas import DistanceKm

MAX_ROWS = 5000
# Room for MAX_ROWS long rows; every other route keeps loketkit's small cap.
MAX_BYTES = 4 * 1024 * 1024
TRUE = {"1", "true", "ja", "yes", "j", "y", "waar"}
FALSE = {"0", "false", "nee", "no", "n", "onwaar"}
LISTS = ("preferred_location_ids", "sibling_location_ids")
FLAGS = ("parents_working_or_training", "works_at_least_four_fifths", "single_parent",
         "low_income", "foster_child", "accepts_partial_fit", "share_contact_with_organiser",
         "sworn_statement")


class ImportRow(CleanInput):
    model_config = ConfigDict(extra="forbid")

    child_first_name: str = Field(min_length=1, max_length=100)
    child_last_name: str = Field(min_length=1, max_length=100)
    child_birth_date: date
    child_national_number: str | None = Field(default=None, pattern=r"^\d{11}$")
    parent_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ./-]{6,20}$")
    street: str | None = Field(default=None, max_length=200)
    postcode: str = Field(pattern=r"^\d{4}$")
    municipality_nis: str = Field(pattern=r"^\d{5}$")
    neighbourhood_code: str | None = Field(default=None, max_length=32)
    desired_start_date: date
    day_parts: DayParts
    preferred_location_ids: list[Id] = Field(default_factory=list, max_length=10)
    max_distance_km: DistanceKm | None = None
    registered_at: datetime
    parents_working_or_training: bool = False
    works_at_least_four_fifths: bool = False
    single_parent: bool = False
    low_income: bool = False
    foster_child: bool = False
    sibling_location_ids: list[Id] = Field(default_factory=list, max_length=10)
    # None (an empty cell): facts on the old list count as sworn (see above).
    sworn_statement: bool | None = None
    accepts_partial_fit: bool = False
    share_contact_with_organiser: bool = False
    urgency: Literal["normal", "urgent"] = "normal"

    @model_validator(mode="before")
    @classmethod
    def _cells(cls, row: Any) -> Any:
        """Empty cells are left out; lists split on ';' and day-parts on spaces/commas."""
        if not isinstance(row, dict):
            return row
        cells: dict[str, Any] = {}
        for key, value in row.items():
            if key is None:  # more cells than the header names
                cells["(extra cells)"] = value
                continue
            text = value.strip() if isinstance(value, str) else value
            if text in ("", None):
                continue
            if key in LISTS:
                text = [part.strip() for part in text.split(";") if part.strip()]
            elif key == "day_parts":
                text = text.replace(",", " ").split()
            elif key == "max_distance_km":
                text = text.replace(",", ".")  # a Dutch decimal comma
            elif key in FLAGS and text.lower() in TRUE | FALSE:
                text = text.lower() in TRUE
            cells[key] = text
        return cells

    @field_validator("registered_at", mode="before")
    @classmethod
    def _date_or_moment(cls, value: Any) -> Any:
        """A bare date is midnight in Brussels; a time without zone is Brussels time."""
        if isinstance(value, str):
            try:
                if len(value) == 10:
                    return datetime.combine(date.fromisoformat(value), time(), tzinfo=BRUSSELS)
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value  # pydantic names the error
            return moment if moment.tzinfo else moment.replace(tzinfo=BRUSSELS)
        return value

    def command(self, line: int) -> ImportedRequest:
        priority = Priority(
            parents_working_or_training=self.parents_working_or_training,
            works_at_least_four_fifths=self.works_at_least_four_fifths,
            single_parent=self.single_parent, low_income=self.low_income,
            foster_child=self.foster_child,
            sibling_location_ids=tuple(self.sibling_location_ids))
        sworn = priority.declares_any if self.sworn_statement is None else self.sworn_statement
        return ImportedRequest(
            line=line,
            registered_at=self.registered_at,
            urgency_granted=self.urgency == "urgent",
            request=SubmitRequest(
                child=Child(self.child_first_name, self.child_last_name, self.child_birth_date,
                            self.child_national_number),
                contact=Contact(self.parent_name, self.email, self.phone, self.street,
                                self.postcode),
                municipality_nis=self.municipality_nis,
                neighbourhood_code=self.neighbourhood_code,
                desired_start_date=self.desired_start_date,
                day_parts=tuple(self.day_parts),
                preferred_location_ids=tuple(self.preferred_location_ids),
                max_distance_km=self.max_distance_km,
                priority=priority,
                sworn_statement=sworn,
                accepts_partial_fit=self.accepts_partial_fit,
                share_contact_with_organiser=self.share_contact_with_organiser,
            ),
        )


def parse_waiting_list(text: str, imported_by: str | None) -> ImportWaitingList:
    """Every row checked here for form; the handler checks the rules (all or nothing)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in ImportRow.model_fields]
    if unknown:
        raise Invalid("csv.header", f"unknown columns: {', '.join(sorted(unknown))[:200]}")
    rows: list[ImportedRequest] = []
    for cells in reader:
        if len(rows) >= MAX_ROWS:
            raise Invalid("csv", f"at most {MAX_ROWS} rows per import")
        line = reader.line_num
        try:
            rows.append(ImportRow.model_validate(cells).command(line))
        except ValidationError as error:
            first = error.errors()[0]
            column = ".".join(str(part) for part in first["loc"]) or "row"
            raise Invalid(f"line {line}.{column}", first["msg"]) from None
    if not rows:
        raise Invalid("csv", "no rows to import")
    return ImportWaitingList(tuple(rows), imported_by)
