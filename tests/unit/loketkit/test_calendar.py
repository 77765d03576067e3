"""Working days and periods: what a family's deadline means on the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from loketkit.calendar import (
    BRUSSELS,
    Period,
    _public_holidays,
    add_working_days,
    is_working_day,
    load_public_holidays,
)


def brussels(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


@pytest.mark.parametrize("day", [date(2026, 4, 6), date(2026, 11, 11), date(2026, 12, 25),
                                 date(2026, 5, 14), date(2026, 4, 4), date(2026, 4, 5)])
def test_public_holidays_and_weekends_are_not_working_days(day: date) -> None:
    assert not is_working_day(day)


def test_an_ordinary_weekday_is_a_working_day() -> None:
    assert is_working_day(date(2026, 4, 7))


def test_friday_plus_one_working_day_is_monday_end_of_day_in_brussels() -> None:
    due = add_working_days(brussels(2026, 11, 20, 10, 0), 1)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)
    local = due.astimezone(BRUSSELS)
    assert (local.date(), local.hour, local.minute) == (date(2026, 11, 23), 23, 59)


def test_the_day_is_taken_in_brussels_not_utc() -> None:
    # 23:30 UTC on Thursday is already Friday in Brussels.
    due = add_working_days(datetime(2026, 11, 19, 23, 30, tzinfo=UTC), 1)
    assert due.astimezone(BRUSSELS).date() == date(2026, 11, 23)


def test_holidays_are_skipped() -> None:
    # Thursday 2 April 2026 + 2 working days: Friday 3, (weekend, Easter Monday) Tuesday 7.
    due = add_working_days(brussels(2026, 4, 2, 9, 0), 2)
    assert due.astimezone(BRUSSELS).date() == date(2026, 4, 7)


def test_across_the_daylight_saving_change_the_deadline_is_still_end_of_day() -> None:
    # Summer time ends on Sunday 25 October 2026 (UTC+2 -> UTC+1).
    due = add_working_days(brussels(2026, 10, 23, 12, 0), 1)
    assert due == datetime(2026, 10, 26, 22, 59, 59, tzinfo=UTC)
    before = add_working_days(brussels(2026, 10, 22, 12, 0), 0)
    assert before == datetime(2026, 10, 22, 21, 59, 59, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_working_days(datetime(2026, 1, 5, 9, 0), 1)


def test_a_period_is_exactly_one_unit() -> None:
    with pytest.raises(ValidationError):
        Period()
    with pytest.raises(ValidationError):
        Period(working_days=1, days=2)
    with pytest.raises(ValidationError):
        Period(seconds=-1)
    assert Period(working_days=3) == Period.model_validate({"working_days": 3})


def test_period_after_working_days_calendar_days_and_seconds() -> None:
    start = brussels(2026, 11, 20, 10, 0)  # a Friday
    assert Period(working_days=1).after(start) == add_working_days(start, 1)
    assert Period(days=1).after(start).astimezone(BRUSSELS).date() == date(2026, 11, 21)
    assert Period(seconds=30).after(start) == start.astimezone(UTC) + timedelta(seconds=30)


def test_period_before_counts_back_for_reminders() -> None:
    due = add_working_days(brussels(2026, 11, 20, 10, 0), 1)  # Monday 23:59:59
    reminder = Period(working_days=1).before(due).astimezone(BRUSSELS)
    assert (reminder.date(), reminder.hour) == (date(2026, 11, 20), 23)
    assert Period(seconds=10).before(due) == due - timedelta(seconds=10)
    # Calendar days keep the wall-clock time across the DST change.
    local = Period(days=2).before(brussels(2026, 10, 26, 9, 0)).astimezone(BRUSSELS)
    assert (local.date(), local.hour) == (date(2026, 10, 24), 9)


def test_period_describes_itself_in_dutch() -> None:
    assert Period(working_days=3).describe() == "3 werkdagen"
    assert Period(days=1).describe() == "1 dag"


def test_a_service_loads_this_and_next_years_holidays_before_its_first_deadline() -> None:
    """The first lookup imports every country the holidays library knows (about a
    second): a service pays it at start-up, not on its first offer."""
    load_public_holidays(date(2031, 12, 31))  # years no other test reads
    misses = _public_holidays.cache_info().misses
    assert not is_working_day(date(2031, 12, 25))  # Christmas
    assert not is_working_day(date(2032, 1, 1))  # New Year, the year after
    assert _public_holidays.cache_info().misses == misses
