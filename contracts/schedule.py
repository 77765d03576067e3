"""Weekly schedules: which day-parts (Monday to Friday, morning and afternoon) care covers.

A licence caps the children present at the same time, so requests, free places
and enrolments carry the day-parts they need or offer, and capacity counts
occupancy per day-part. A full day is both parts of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field

DayPart = Literal[
    "mon_am", "mon_pm", "tue_am", "tue_pm", "wed_am", "wed_pm",
    "thu_am", "thu_pm", "fri_am", "fri_pm",
]
DAY_PARTS: tuple[DayPart, ...] = get_args(DayPart)
FULL_WEEK: tuple[DayPart, ...] = DAY_PARTS


def in_week_order(parts: Iterable[DayPart]) -> list[DayPart]:
    """Without repeats, Monday morning first: one spelling per schedule."""
    wanted = set(parts)
    return [part for part in DAY_PARTS if part in wanted]


# One schedule: 1 to 10 distinct day-parts, always stored in week order.
DayParts = Annotated[
    list[DayPart],
    Field(min_length=1, max_length=len(DAY_PARTS),
          description="Day-parts per week (mon_am ... fri_pm); a full day is both parts."),
    AfterValidator(in_week_order),
]


def full_days(days_per_week: int) -> list[DayPart]:
    """What a v1 `days_per_week` meant: that many full days, from Monday."""
    days = max(1, min(5, days_per_week))
    return list(DAY_PARTS[: 2 * days])


def covers(offered: Iterable[DayPart], asked: Iterable[DayPart]) -> bool:
    return set(asked) <= set(offered)


def overlap_share(offered: Iterable[DayPart], asked: Iterable[DayPart]) -> float:
    """The share of the asked day-parts the offer covers (1.0 is a full fit)."""
    wanted = set(asked)
    return len(wanted & set(offered)) / len(wanted) if wanted else 0.0
