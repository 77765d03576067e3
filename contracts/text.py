"""Text that PostgreSQL, logs and other systems can take: no control characters.

Every model that reads text from outside (event payloads, the envelope, HTTP
bodies) derives from `CleanInput`, so a NUL or an escape sequence is a
validation error naming the field, at the edge, instead of a database error
(or a forged log line) later. Tabs and line breaks are allowed.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationInfo, field_validator

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MESSAGE = "must not contain control characters"


CONTAINERS = (str, list, tuple, set, frozenset, dict)


def has_control_characters(value: Any) -> bool:
    """True if the value, or any string inside it (lists, dicts, keys), has one."""
    if isinstance(value, str):
        return CONTROL.search(value) is not None
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_control_characters(item) for item in value)
    if isinstance(value, dict):
        return any(has_control_characters(k) or has_control_characters(v)
                   for k, v in value.items())
    return False


class CleanInput(BaseModel):
    """Base of every model that reads outside input: no control characters in any field."""

    # Fields another model validates, naming the exact field at fault (an envelope's `data`).
    CHECKED_ELSEWHERE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        # Called for every field of every event and body read: the common cases first.
        if type(value) is str:
            if CONTROL.search(value) is None:
                return value
        elif not isinstance(value, CONTAINERS):
            return value  # a number, date, model (checked itself) or None
        if info.field_name not in cls.CHECKED_ELSEWHERE and has_control_characters(value):
            raise ValueError(MESSAGE)
        return value
