"""Dates and times as UK notices write them, in English and in Welsh.

"4pm on Tuesday 4 June 2024"; in Welsh "4 o'r gloch y prynhawn ar ddydd Mawrth 4 Mehefin 2024"
(with the soft mutation 'ar' makes). Contexts are worded here, before rendering, so that templates
only place text and a version's hash changes when the words do.
"""

from __future__ import annotations

import datetime as dt

from store.models import TimetableEvent
from timetables.clock import local
from timetables.clock import long_date as date_text  # the English twin of date_cy

CY_DAYS = ("Llun", "Mawrth", "Mercher", "Iau", "Gwener", "Sadwrn", "Sul")
CY_MONTHS = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)


def time_text(at: dt.time) -> str:
    """'4pm', '10am', '4:30pm', 'noon', '11:59pm'."""
    if at.hour == 12 and at.minute == 0:
        return "noon"
    if at.hour == 0 and at.minute == 0:
        return "midnight"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def when_text(day: dt.date, at: dt.time | None) -> str:
    """'4pm on Tuesday 4 June 2024', or the date alone."""
    return f"{time_text(at)} on {date_text(day)}" if at else date_text(day)


def date_cy(day: dt.date) -> str:
    """'dydd Mawrth 4 Mehefin 2024'."""
    return f"dydd {CY_DAYS[day.weekday()]} {day.day} {CY_MONTHS[day.month - 1]} {day.year}"


def time_cy(at: dt.time) -> str:
    """'4 o'r gloch y prynhawn', '10 o'r gloch y bore', 'hanner dydd', '11:59 yr hwyr'."""
    if at.hour == 12 and at.minute == 0:
        return "hanner dydd"
    if at.hour == 0 and at.minute == 0:
        return "hanner nos"
    part = "y bore" if at.hour < 12 else "y prynhawn" if at.hour < 18 else "yr hwyr"
    hour = at.hour % 12 or 12
    return f"{hour} o'r gloch {part}" if at.minute == 0 else f"{hour}:{at.minute:02d} {part}"


def on_cy(day: dt.date) -> str:
    """'ar ddydd Iau 6 Mai 2027' ('on Thursday ...': 'ar' softens dydd to ddydd)."""
    return f"ar d{date_cy(day)}"


def when_cy(day: dt.date, at: dt.time | None) -> str:
    """'4 o'r gloch y prynhawn ar ddydd Mawrth 4 Mehefin 2024' ('ar' softens dydd to ddydd)."""
    text = date_cy(day)
    return f"{time_cy(at)} ar d{text}" if at else text


def moment_texts(moment: dt.datetime) -> dict:
    moment = local(moment)
    return {
        "when": when_text(moment.date(), moment.timetz().replace(tzinfo=None)),
        "when_cy": when_cy(moment.date(), moment.timetz().replace(tzinfo=None)),
        "date": date_text(moment.date()),
        "date_cy": date_cy(moment.date()),
        "time": time_text(moment.time()),
        "time_cy": time_cy(moment.time()),
    }


def event_texts(event: TimetableEvent) -> dict:
    out = {
        "key": event.key,
        "label": event.label,
        "when": when_text(event.date, event.time),
        "when_cy": when_cy(event.date, event.time),
        "date": date_text(event.date),
        "date_cy": date_cy(event.date),
        "citation": event.citation,
        "bound": event.bound,
    }
    if event.time:
        out.update(time=time_text(event.time), time_cy=time_cy(event.time))
    if event.earliest:
        out.update(earliest=date_text(event.earliest), earliest_cy=date_cy(event.earliest))
    return out
