"""Aware datetimes everywhere: the store keeps UTC, people read Europe/London."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """An aware datetime in Europe/London (as officers read it)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pollflow needs aware ones")
    return moment.astimezone(LONDON)


def london(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=LONDON)


def long_date(day: dt.date) -> str:
    """'Tuesday 4 June 2024': a date as notices, letters and messages write it."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def now() -> dt.datetime:
    return dt.datetime.now(LONDON)


def ahead(as_of: dt.datetime) -> dt.datetime | None:
    """``as_of`` if it is later than now (a rehearsal acting as if it were then), else None: a
    check as of a past time (catching up) delivers by the clock, since what it queued is due now."""
    return as_of if as_of > now() else None
