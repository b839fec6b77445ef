"""The weekly canvass report: the current progress report's figures, recomputed against the
timetable as it stands, with the week before and the trend; stored once per registration year and
ISO week with its chart; the chart kept for the emails that carry it; and which registration years
are in season for it. The messages and the chart are tasks/canvass_messages.py and
tasks/canvass_chart.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.canvass.imports import load_properties, require_import
from store.canvass.progress import Prop
from store.canvass.rules import HORIZON, Group, Rules, analyse, rules_for
from store.models import Poll, TimetableEvent, utcnow
from store.models.canvass import CanvassAttachment, CanvassImport, CanvassReport


@dataclass
class Report:
    poll: Poll
    rules: Rules
    current: CanvassImport
    figures: dict
    previous: dict | None  # the figures of the report a week or more before, for the changes
    history: list[dict]  # one per report date, oldest first: {report_date, rates by route}
    groups: dict[tuple[str, str], Group]

    @property
    def report_date(self) -> dt.date:
        return self.current.report_date

    def age(self, today: dt.date) -> int:
        return (today - self.report_date).days

    def stored_figures(self) -> dict:
        """The figures as a weekly report keeps them: with the week before's, for the change."""
        before = None
        if self.previous is not None:
            before = {"report_date": self.previous["report_date"], "routes": self.previous["routes"]}
        return {**self.figures, "week_before": before}


def build_report(session: Session, poll: Poll, rows: list[Prop] | None = None) -> Report:
    """The figures of the current progress report, recomputed from its properties against the
    timetable as it stands (a deferral moves the last day for applications), with the week before
    and the trend."""
    current = require_import(session, poll)
    rules = rules_for(session, poll)
    figures, groups = analyse(
        rows if rows is not None else load_properties(session, poll), current.report_date, rules
    )
    imports = session.scalars(
        select(CanvassImport)
        .where(CanvassImport.poll_id == poll.id)
        .order_by(CanvassImport.report_date, CanvassImport.imported_at, CanvassImport.id)
    ).all()
    by_day: dict[dt.date, CanvassImport] = {}
    for imp in imports:
        if imp.report_date <= current.report_date:
            by_day[imp.report_date] = imp  # the last imported for each day
    by_day[current.report_date] = current
    history = [
        {
            "report_date": day.isoformat(),
            **{f"route{r}": imp.figures["routes"][str(r)]["rate"] for r in (1, 2, 3)},
            "all": imp.figures["routes"]["all"]["rate"],
        }
        for day, imp in sorted(by_day.items())
    ]
    history[-1].update({f"route{r}": figures["routes"][str(r)]["rate"] for r in (1, 2, 3)})
    history[-1]["all"] = figures["routes"]["all"]["rate"]
    week_before = [imp for day, imp in sorted(by_day.items()) if day <= current.report_date - HORIZON]
    previous = week_before[-1].figures if week_before else None
    return Report(poll, rules, current, figures, previous, history, groups)


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def save_weekly_report(
    session: Session, report: Report, week: str, chart: bytes, actor: str, flow_run_id: str | None = None
) -> tuple[CanvassReport, bool]:
    """The week's report (one per poll and ISO week); changed only when a newer progress report
    came in. Returns (row, changed)."""
    row = session.scalars(
        select(CanvassReport).where(CanvassReport.poll_id == report.poll.id, CanvassReport.week == week)
    ).first()
    figures = report.stored_figures()
    if row is not None and row.import_id == report.current.id and row.figures == figures:
        return row, False
    if row is None:
        row = CanvassReport(
            poll_id=report.poll.id,
            week=week,
            import_id=report.current.id,
            report_date=report.report_date,
            figures=figures,
            chart=chart,
        )
        session.add(row)
    else:
        row.import_id, row.report_date, row.figures, row.chart = (
            report.current.id,
            report.report_date,
            figures,
            chart,
        )
        row.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "canvass report made",
        poll_id=report.poll.id,
        subject=week,
        details={
            "report_id": row.id,
            "import_id": report.current.id,
            "report_date": report.report_date.isoformat(),
            "response_rate": report.figures["routes"]["all"]["rate"],
        },
        flow_run_id=flow_run_id,
    )
    return row, True


def weekly_report(session: Session, poll: Poll, week: str) -> CanvassReport | None:
    return session.scalars(
        select(CanvassReport).where(CanvassReport.poll_id == poll.id, CanvassReport.week == week)
    ).first()


def attach(session: Session, dedupe_key: str, filename: str, content_type: str, data: bytes) -> None:
    """The file an outbox message carries (once per message)."""
    if session.scalars(
        select(CanvassAttachment.id).where(CanvassAttachment.dedupe_key == dedupe_key)
    ).first():
        return
    session.add(
        CanvassAttachment(dedupe_key=dedupe_key, filename=filename, content_type=content_type, data=data)
    )


def attachments(session: Session, dedupe_key: str) -> list[CanvassAttachment]:
    return list(
        session.scalars(select(CanvassAttachment).where(CanvassAttachment.dedupe_key == dedupe_key)).all()
    )


def reportable(session: Session, as_of: dt.date) -> list[Poll]:
    """Registration years with a progress report whose revised register is not yet two weeks
    published: the ones the weekly report covers."""
    polls = session.scalars(
        select(Poll)
        .join(CanvassImport, CanvassImport.poll_id == Poll.id)
        .where(Poll.key.like("canvass.%"), Poll.status == "planned", CanvassImport.status == "current")
        .order_by(Poll.key)
    ).all()
    out = []
    for poll in polls:
        published = session.scalars(
            select(TimetableEvent.date).where(
                TimetableEvent.poll_id == poll.id, TimetableEvent.key == "revised_register"
            )
        ).first()
        if published is None or as_of <= published + dt.timedelta(days=14):
            out.append(poll)
    return out
