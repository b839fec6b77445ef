"""Timetables as people and other tools read them: a table, JSON, CSV or iCalendar."""

from __future__ import annotations

import datetime as dt
import io
import json

from rich.console import Console
from rich.table import Table

from store.exports import dict_writer
from timetables import Event, Timetable

FORMATS = ("table", "json", "csv", "ics")
CSV_COLUMNS = (
    "election_id",
    "key",
    "label",
    "date",
    "time",
    "until",
    "earliest",
    "bound",
    "provisional",
    "basis",
    "citation",
)


def day(d: dt.date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def when(event: Event) -> str:
    if event.earliest:
        return f"{day(event.earliest)} to {day(event.date)}"
    return day(event.date)


def clock(event: Event) -> str:
    if event.time and event.until:
        return f"{event.time:%H:%M}-{event.until:%H:%M}"
    return event.time.strftime("%H:%M") if event.time else ""


def render_table(tt: Timetable, console: Console) -> None:
    if tt.registration_year:
        title = f"{tt.title} {tt.registration_year} ({tt.nation})"
    else:
        title = f"{tt.title}: polling day {day(tt.poll_date)} ({tt.nation})"
    table = Table(
        title=title,
        title_justify="left",
        show_lines=False,
        expand=False,
    )
    table.add_column("Date", no_wrap=True)
    table.add_column("Time", no_wrap=True)
    table.add_column("Event")
    if tt.combined:
        table.add_column("Election", overflow="fold")
    table.add_column("Key", style="dim", no_wrap=True)
    table.add_column("Source", style="dim")
    for event in tt.events:
        label = event.label
        if event.provisional:
            label += " [yellow](provisional)[/yellow]"
        if event.overridden:
            label += " [cyan](set)[/cyan]"
        row = [when(event), clock(event), label]
        if tt.combined:
            row.append(event.election_id or "all")
        row += [event.key, event.citation]
        table.add_row(*row)
    console.print(table)
    for warning in tt.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


def to_json(tt: Timetable) -> str:
    return json.dumps(tt.to_dict(), indent=2)


def to_csv(tt: Timetable) -> str:
    out = io.StringIO()
    writer = dict_writer(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for event in tt.events:
        row = event.to_dict()
        row["election_id"] = event.election_id or tt.election_id
        writer.writerow(row)
    return out.getvalue()


def to_ics(tt: Timetable) -> str:
    """One VEVENT per event, with alarms a week and a day before, that Outlook can import."""
    from pollflow.output.calendar_feed import timetable_calendar

    return timetable_calendar(tt).to_ical().decode("utf-8")
