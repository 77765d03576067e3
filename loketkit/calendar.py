"""Working days and periods, in Brussels time.

A deadline of "3 working days" ends at the end of the third working day (Monday to
Friday, not a Belgian public holiday) after the day it started, Brussels time, and
is stored as an aware UTC datetime. `Period` is how settings state such a length:
exactly one of working days, calendar days or seconds (seconds are for drills and
tests).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Self
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, ConfigDict, Field, model_validator

BRUSSELS = ZoneInfo("Europe/Brussels")
# The last moment of a day: a deadline "on Monday" may still be met at 23:59 Monday.
END_OF_DAY = time(23, 59, 59)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("BE", years=year).keys())


def load_public_holidays(today: date) -> None:
    """Reads this year's and next year's holidays now: the library imports every
    country the first time (about a second of CPU), which a service does at start-up
    rather than on the first deadline it computes."""
    _public_holidays(today.year)
    _public_holidays(today.year + 1)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a Belgian public holiday."""
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def brussels_date(moment: datetime) -> date:
    return _aware(moment).astimezone(BRUSSELS).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Brussels time on `day`, as aware UTC."""
    return datetime.combine(day, END_OF_DAY, tzinfo=BRUSSELS).astimezone(UTC)


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (Brussels time) of the `days`-th working day after start's Brussels
    date, as aware UTC. Zero days: the end of start's own day."""
    if days < 0:
        raise ValueError("days must not be negative")
    return end_of_day(_working_days_after(brussels_date(start), days))


@lru_cache(maxsize=1024)
def _working_days_after(day: date, days: int) -> date:
    # Cached: every offer counts its answer deadlines from today, day by day.
    for _ in range(days):
        day = next_working_day(day)
    return day


def subtract_working_days(due: datetime, days: int) -> datetime:
    """The same Brussels wall-clock time as `due`, `days` working days earlier."""
    if days < 0:
        raise ValueError("days must not be negative")
    local = _aware(due).astimezone(BRUSSELS)
    day = local.date()
    for _ in range(days):
        day = previous_working_day(day)
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=BRUSSELS).astimezone(
        UTC
    )


class Period(BaseModel):
    """A length of time as the rules state it: exactly one of `working_days`,
    `days` (calendar days) or `seconds`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    working_days: int | None = Field(default=None, ge=0, le=365)
    days: int | None = Field(default=None, ge=0, le=3660)
    seconds: int | None = Field(default=None, ge=0, le=400 * 24 * 3600)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.working_days, self.days, self.seconds) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of working_days, days or seconds")
        return self

    @classmethod
    def of(cls, **kwargs: Any) -> Period:
        return cls.model_validate(kwargs)

    def after(self, start: datetime) -> datetime:
        """When a period that starts at `start` ends (aware UTC). Working and calendar
        days end at the end of their last day, Brussels time; seconds are exact."""
        if self.seconds is not None:
            return _aware(start).astimezone(UTC) + timedelta(seconds=self.seconds)
        if self.working_days is not None:
            return add_working_days(start, self.working_days)
        assert self.days is not None
        return end_of_day(brussels_date(start) + timedelta(days=self.days))

    def before(self, due: datetime) -> datetime:
        """The moment this period before `due` (for reminders), aware UTC. Days keep
        the Brussels wall-clock time of `due`, across daylight-saving changes."""
        if self.seconds is not None:
            return _aware(due).astimezone(UTC) - timedelta(seconds=self.seconds)
        if self.working_days is not None:
            return subtract_working_days(due, self.working_days)
        assert self.days is not None
        local = _aware(due).astimezone(BRUSSELS)
        earlier = datetime.combine(
            local.date() - timedelta(days=self.days), local.time().replace(tzinfo=None),
            tzinfo=BRUSSELS,
        )
        return earlier.astimezone(UTC)

    def describe(self) -> str:
        """Dutch, for e-mails: "3 werkdagen", "14 dagen", "30 seconden"."""
        if self.working_days is not None:
            return f"{self.working_days} werkdag" + ("" if self.working_days == 1 else "en")
        if self.days is not None:
            return f"{self.days} dag" + ("" if self.days == 1 else "en")
        return f"{self.seconds} seconde" + ("" if self.seconds == 1 else "n")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give an aware one (UTC)")
    return moment
