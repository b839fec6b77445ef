"""iCalendar (RFC 5545) output that Outlook, Google and Apple calendars import or subscribe to."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from timetables import Timetable

LONDON = ZoneInfo("Europe/London")
PRODID = "-//pollflow//UK electoral services//EN"


def new_calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", " ".join(name.split()))  # one line: a name with a newline is not refused here
    cal.add("x-wr-timezone", "Europe/London")
    return cal


def add_entry(
    cal: Calendar,
    *,
    uid: str,
    summary: str,
    description: str,
    day: dt.date,
    time: dt.time | None = None,
    until: dt.time | None = None,
    alarms: tuple[dt.timedelta, ...] = (dt.timedelta(days=7), dt.timedelta(days=1)),
    categories: tuple[str, ...] = (),
    stamp: dt.datetime | None = None,
) -> Event:
    """A dated entry: all-day when there is no time, else from ``time`` (to ``until``)."""
    entry = Event()
    entry.add("uid", uid)
    entry.add("dtstamp", stamp or dt.datetime.now(dt.UTC))
    summary = " ".join(summary.split())  # a summary is one line in every calendar
    entry.add("summary", summary)
    entry.add("description", description)
    if time is None:
        entry.add("dtstart", day)
        entry.add("dtend", day + dt.timedelta(days=1))
        entry.add("transp", "TRANSPARENT")
    else:
        start = dt.datetime.combine(day, time, tzinfo=LONDON)
        end = dt.datetime.combine(day, until, tzinfo=LONDON) if until else start + dt.timedelta(minutes=30)
        entry.add("dtstart", start)
        entry.add("dtend", end)
    if categories:
        entry.add("categories", list(categories))
    for before in alarms:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{summary} ({_describe(before)})")
        alarm.add("trigger", -before)
        entry.add_component(alarm)
    cal.add_component(entry)
    return entry


def _describe(before: dt.timedelta) -> str:
    if before.days >= 1:
        return f"in {before.days} day{'s' if before.days > 1 else ''}"
    hours = before.seconds // 3600
    return f"in {hours} hour{'s' if hours != 1 else ''}" if hours else "now"


def finish(cal: Calendar) -> Calendar:
    """Add the VTIMEZONE definitions the timed entries refer to (Outlook needs them)."""
    cal.add_missing_timezones()
    return cal


def timetable_calendar(tt: Timetable) -> Calendar:
    cal = new_calendar(f"{tt.title}, {tt.poll_date:%d %B %Y}")
    for event in tt.events:
        election = event.election_id or tt.election_id
        lines = [event.citation, f"Key: {event.key}", f"Election: {election}"]
        if event.earliest:
            lines.insert(0, f"Window: from {event.earliest:%a %d %b %Y} to {event.date:%a %d %b %Y}")
        if event.provisional:
            lines.insert(0, "PROVISIONAL: depends on bank holidays not yet published by GOV.UK")
        alarms = (dt.timedelta(days=7), dt.timedelta(days=1))
        if event.time is not None:
            alarms += (dt.timedelta(hours=2),)
        add_entry(
            cal,
            uid=f"{election}.{event.key}@pollflow",
            summary=event.label,
            description="\n".join(lines),
            day=event.date,
            time=event.time,
            until=event.until,
            alarms=alarms,
            categories=("Election timetable",),
        )
    return finish(cal)


def person_calendar(name: str, email: str, rows, address: str) -> Calendar:
    """A person's open work as a calendar Outlook can subscribe to: each item at its due time,
    with alarms 5 days, 1 day and 2 hours before."""
    from timetables.clock import local

    cal = new_calendar(f"Election work: {name}")
    for row in rows:
        item = row.item
        due = local(item.due_at)
        lines = [f"Poll: {row.poll.title} ({row.poll.key})", f"Work item {item.id}: {item.key}"]
        if item.event_key:
            lines.append(f"Statutory deadline: {item.event_key}")
        if row.blocked_by:
            lines.append(f"Waiting for: {', '.join(row.blocked_by)}")
        lines.append(f"See it and record it done: {address}/work/{item.id}")
        add_entry(
            cal,
            uid=f"workitem-{item.id}@pollflow",
            summary=item.title,
            description="\n".join(lines),
            day=due.date(),
            time=due.time().replace(tzinfo=None),
            alarms=(dt.timedelta(days=5), dt.timedelta(days=1), dt.timedelta(hours=2)),
            categories=("Election work",),
        )
    return finish(cal)
