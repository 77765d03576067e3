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

    @property
    def headers(self) -> dict[str, str]:
        """Response headers the answer needs (WWW-Authenticate, Retry-After...)."""
        return {}


class Invalid(DomainError):
    """Well-formed input that breaks a rule (a date before the birth date, say)."""


class NotFound(DomainError):
    """The resource named in the path does not exist."""

    status_code = 404


class RateLimited(DomainError):
    """Too many requests from one client; try again after `retry_after` seconds."""

    status_code = 429

    def __init__(self, field: str, message: str, retry_after: int) -> None:
        super().__init__(field, message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Conflict(DomainError):
    """The input clashes with the current state (already closed, already registered)."""

    status_code = 409
