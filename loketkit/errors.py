"""Domain errors every service raises, and the HTTP status each one means.

Handlers raise these; `loketkit.http` maps them to responses once, for every route:
`Invalid` is a 422, `NotFound` a 404, `Conflict` a 409. Each names the input at
fault in `field` and carries a message that is safe to show and to log: it names
fields and states, never the values a person typed.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the input. `field` names the input at fault."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Invalid(DomainError):
    """Well-formed input that breaks a rule (a date before the birth date, say)."""


class NotFound(DomainError):
    """The resource named in the path does not exist."""

    status_code = 404


class Conflict(DomainError):
    """The input clashes with the current state (already closed, already registered)."""

    status_code = 409
