"""Letters say schedules and deadlines the way a Flemish family reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from loketkit.dutch import date_in_dutch, day_parts_in_dutch, moment_in_dutch


def test_a_full_week_is_said_in_a_few_words() -> None:
    week = [f"{d}_{h}" for d in ("mon", "tue", "wed", "thu", "fri") for h in ("am", "pm")]
    assert day_parts_in_dutch(week) == "elke weekdag, de hele dag"


def test_whole_days_come_first_then_half_days_in_week_order() -> None:
    parts = ["thu_am", "mon_am", "mon_pm", "tue_am", "tue_pm", "wed_pm", "wed_am"]
    assert day_parts_in_dutch(parts) == (
        "maandag, dinsdag en woensdag (hele dag), donderdag voormiddag")
    assert day_parts_in_dutch(["fri_pm"]) == "vrijdag namiddag"


def test_deadlines_are_in_brussels_time() -> None:
    assert moment_in_dutch(datetime(2026, 11, 30, 22, 59, tzinfo=UTC)) == "30/11/2026 om 23:59"
    assert date_in_dutch(date(2027, 2, 13)) == "13/02/2027"
