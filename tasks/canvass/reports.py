"""The annual canvass's steps, as plain functions over the store (``store.canvass``) and
``tasks.canvass.messages``; the Prefect tasks in ``tasks.steps`` call them. Each is one
transaction: an import and the follow-up work it raises are stored together or not at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from store import canvass
from store.canvass import deferral as canvass_deferral
from store.canvass import imports as canvass_import
from store.canvass import progress as canvass_progress
from store.canvass import report as canvass_report
from store.canvass import work as canvass_work
from store.db import session_scope
from store.planning import stored_overrides
from store.queries import find_poll
from tasks.canvass import messages as canvass_messages
from tasks.canvass.chart import render_chart
from timetables import timetable_for
from timetables.clock import local


@dataclass
class Imported:
    outcome: dict
    work: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)


def import_progress(
    canvass_key: str,
    path: str,
    report_date: dt.date | None,
    actor: str,
    flow_run_id: str | None,
    today: dt.date | None = None,
) -> Imported:
    """Read, check and store an EMS progress report, and raise the follow-up work it calls for."""
    with session_scope() as session:
        poll = canvass.find_canvass(session, canvass_key)
        parsed = canvass_progress.read_progress(
            path, report_date=report_date, today=today, year=canvass.canvass_year(poll)
        )
        outcome = canvass_import.import_progress(session, poll, parsed, actor, flow_run_id)
        work = canvass_work.WorkChanges()
        if outcome.status == "current":
            work = canvass_work.raise_follow_up_work(session, poll, actor, flow_run_id, groups=outcome.groups)
        return Imported(outcome.summary(), work.summary(), outcome.figures)


def after_plan(poll_key: str, actor: str, flow_run_id: str | None) -> dict:
    """After a poll is planned or replanned: offer (or withdraw) the deferral of each registration
    year's revised register it allows, and tell the ERO; after a registration year is replanned,
    bring its follow-up work in step with its new dates."""
    with session_scope() as session:
        changes = canvass_deferral.review_deferral(session, poll_key, actor, flow_run_id)
        queued = canvass_messages.deferral_messages(session, changes)
        work = canvass_work.WorkChanges()
        if poll_key.startswith("canvass."):
            poll = find_poll(session, poll_key)
            work = canvass_work.raise_follow_up_work(session, poll, actor, flow_run_id)
        return {
            "deferral": [{"kind": c.kind, "canvass": c.canvass_key, "polls": c.polls} for c in changes],
            "messages_queued": queued,
            "work": work.summary(),
        }


def reportable(canvass_key: str | None, as_of: dt.datetime) -> list[str]:
    """The registration years to report on: the one named (which must have a progress report),
    else every one in season."""
    with session_scope() as session:
        if canvass_key:
            poll = canvass.find_canvass(session, canvass_key)
            canvass_import.require_import(session, poll)
            return [poll.key]
        return [p.key for p in canvass_report.reportable(session, local(as_of).date())]


@dataclass
class Weekly:
    poll_key: str
    poll_title: str
    week: str
    report_id: int
    report_date: dt.date
    changed: bool
    figures: dict
    route_rows: list[dict]
    need_rows: list[dict]
    markdown: list[str]
    link: str
    queued: int = 0


def weekly_report(
    canvass_key: str,
    as_of: dt.datetime,
    send: bool,
    text: bool,
    actor: str,
    flow_run_id: str | None,
) -> Weekly:
    """The week's report: figures, chart, stored once per ISO week; queued to the managers."""
    today = local(as_of).date()
    week = canvass_report.iso_week(today)
    with session_scope() as session:
        poll = canvass.find_canvass(session, canvass_key)
        report = canvass_report.build_report(session, poll)
        chart = render_chart(
            poll.title,
            report.report_date,
            report.figures,
            report.previous,
            report.history,
            subtitle=canvass_messages.headline(report),
        )
        row, changed = canvass_report.save_weekly_report(session, report, week, chart, actor, flow_run_id)
        link = canvass_messages.report_url(session, poll.key, week)
        queued = 0
        if send:
            queued = canvass_messages.report_messages(
                session, report, week, row.chart, today, text=text, actor=actor, flow_run_id=flow_run_id
            )
        return Weekly(
            poll_key=poll.key,
            poll_title=poll.title,
            week=week,
            report_id=row.id,
            report_date=report.report_date,
            changed=changed,
            figures=report.figures,
            route_rows=canvass_messages.route_rows(report),
            need_rows=canvass_messages.need_rows(report),
            markdown=canvass_messages.report_markdown(report, link),
            link=link,
            queued=queued,
        )


def check_deferral(canvass_key: str, by: str, publish_on: dt.date | None, undo: bool) -> dict:
    """Whether ``by`` (the ERO) may defer the revised register to ``publish_on`` (or undo that)."""
    with session_scope() as session:
        if undo:
            poll, person, deferred = canvass_deferral.check_undeferral(session, canvass_key, by)
            return {"poll_key": poll.key, "by": person.email, "was": deferred.isoformat()}
        poll, person, day, polls = canvass_deferral.check_deferral(session, canvass_key, by, publish_on)
        return {
            "poll_key": poll.key,
            "by": person.email,
            "to": day.isoformat(),
            "polls": [p.to_dict() for p in polls],
        }


def timetable_warnings(canvass_key: str) -> list[str]:
    """What the engine warns of in the registration year as now planned (a deferral, say)."""
    with session_scope() as session:
        poll = canvass.find_canvass(session, canvass_key)
        overrides = stored_overrides(session, poll)
        return list(timetable_for(poll.key, nation=poll.nation, overrides=overrides).warnings)


def record_decision(canvass_key: str, by: str, action: str, details: dict, flow_run_id: str | None) -> None:
    with session_scope() as session:
        canvass_deferral.record_decision(session, canvass_key, by, action, details, flow_run_id)
