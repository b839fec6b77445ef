"""The plan as an Excel workbook, because teams keep their project plan in Excel today."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from store import exports
from store.models import Poll, TimetableEvent, WorkStatus
from store.queries import TaskRow
from timetables.clock import local

HEADER = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
OVERDUE_FILL = PatternFill("solid", fgColor="F8CBAD")


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list], widths: list[int]):
    sheet = book.create_sheet(title)
    exports.append(sheet, headers)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER, HEADER_FILL
    for row in rows:
        exports.append(sheet, row)
    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    return sheet


def write_plan(
    path: Path, polls: list[tuple[Poll, list[TimetableEvent]]], tasks: list[TaskRow], as_of
) -> Path:
    book = Workbook()
    book.remove(book.active)
    timetable_rows = []
    for poll, events in polls:
        for e in events:
            timetable_rows.append(
                [
                    poll.key,
                    e.date,
                    e.time.strftime("%H:%M") if e.time else "",
                    e.earliest or "",
                    e.label,
                    e.key,
                    "" if e.scope == "*" else e.scope,
                    e.bound,
                    "yes" if e.provisional else "",
                    e.citation,
                ]
            )
    sheet = _sheet(
        book,
        "Timetable",
        [
            "Poll",
            "Date",
            "Time",
            "Earliest",
            "Event",
            "Key",
            "Election",
            "Bound",
            "Provisional",
            "Legal source",
        ],
        timetable_rows,
        [34, 12, 8, 12, 60, 28, 30, 10, 11, 60],
    )
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].number_format = "ddd d mmm yyyy"
    for row in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].number_format = "ddd d mmm yyyy"
    work_rows = []
    for t in tasks:
        due = local(t.item.due_at)
        work_rows.append(
            [
                t.item.id,
                t.item.key,
                t.item.title,
                t.item.election_id or t.poll.key,
                t.owner.name if t.owner else "(unassigned)",
                t.owner.email if t.owner else "",
                t.item.owner_role,
                due.replace(tzinfo=None),
                t.item.status,
                "yes" if t.item.needs_signoff else "",
                ", ".join(t.depends_on),
                ", ".join(t.blocked_by),
            ]
        )
    sheet = _sheet(
        book,
        "Work",
        [
            "Id",
            "Key",
            "Title",
            "Election",
            "Owner",
            "Email",
            "Role",
            "Due (UK time)",
            "Status",
            "Sign-off",
            "Depends on",
            "Waiting for",
        ],
        work_rows,
        [6, 30, 60, 30, 22, 28, 26, 18, 9, 9, 40, 40],
    )
    now = local(as_of).replace(tzinfo=None)
    for row in sheet.iter_rows(min_row=2):
        row[7].number_format = "ddd d mmm yyyy hh:mm"
        if row[8].value == WorkStatus.OPEN and row[7].value and row[7].value < now:
            for cell in row:
                cell.fill = OVERDUE_FILL
    path.parent.mkdir(parents=True, exist_ok=True)
    return exports.save_workbook(book, path)
