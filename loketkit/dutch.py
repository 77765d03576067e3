"""How letters and pages say dates, moments and weekly schedules, in Dutch, the same way
in every service."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from loketkit.calendar import BRUSSELS

DAYS = {"mon": "maandag", "tue": "dinsdag", "wed": "woensdag", "thu": "donderdag",
        "fri": "vrijdag"}
HALVES = {"am": "voormiddag", "pm": "namiddag"}


def date_in_dutch(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def moment_in_dutch(moment: datetime) -> str:
    """A deadline as a Flemish family reads it: Brussels time, "30/11/2026 om 23:59"."""
    return moment.astimezone(BRUSSELS).strftime("%d/%m/%Y om %H:%M")


def listed(words: list[str]) -> str:
    """"maandag, dinsdag en woensdag"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} en {words[-1]}"


def day_parts_in_dutch(parts: Iterable[str]) -> str:
    """A weekly schedule in words, whole days first: "maandag en dinsdag (hele dag),
    woensdag voormiddag"; a full week is "elke weekdag, de hele dag"."""
    chosen = set(parts)
    whole = [name for day, name in DAYS.items() if {f"{day}_am", f"{day}_pm"} <= chosen]
    halves = [f"{name} {HALVES[half]}" for day, name in DAYS.items() for half in HALVES
              if f"{day}_{half}" in chosen and name not in whole]
    if len(whole) == len(DAYS):
        return "elke weekdag, de hele dag"
    text = [f"{listed(whole)} (hele dag)"] if whole else []
    return ", ".join(text + halves)
