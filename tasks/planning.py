"""Planning a poll, as plain functions: compute its timetable and work from what was asked,
store them, and tell the owners of work whose due date moved.

Computing is where bad input shows (an unknown id, a date that is not one, an overlay that does
not parse): each ``plan_*`` function raises the one-line ``PollflowError`` for it, or returns the
``Plan``. The command line computes the plan before Prefect starts, so that bad input fails at
once, and hands it to the flow, which stores it: nothing is computed (or read from the store)
twice. A flow run without one (a deployment, a schedule) computes it with the same function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from store import canvass
from store.db import session_scope
from store.models import Poll
from store.planning import Changes, Moved, replan_inputs, sync_poll
from tasks.messaging.changes import moved_messages
from timetables import Timetable, calendars, timetable_for
from timetables.errors import PollflowError
from timetables.work import PlannedTask, load_overlay, plan_work


@dataclass
class Plan:
    """A poll's timetable and work, computed from checked inputs, ready to store."""

    poll_key: str  # the poll's identity in the store: its first id when it was first planned
    timetable: Timetable
    work: list[PlannedTask]
    overrides: dict[str, str]  # the dates set by hand
    overlay: str | None  # the council's overlay file, as an absolute path


def plan_poll(
    election_ids: list[str],
    nation: list[str] | str | None = None,
    kind: list[str] | str | None = None,
    overrides: dict[str, str] | None = None,
    overlay: str | Path | None = None,
    poll_key: str | None = None,
) -> Plan:
    """The plan for a poll of ``election_ids`` (polled on one day), or the one-line error."""
    overrides = overrides or {}
    if overlay is not None:
        overlay = Path(overlay)
        if not overlay.exists():
            raise PollflowError(f"overlay file {overlay} does not exist")
        overlay = str(overlay.resolve())
    tt = timetable_for(election_ids, nation=nation, kind=kind, overrides=overrides)
    work = plan_work(tt, load_overlay(overlay) if overlay else None)
    return Plan(poll_key or tt.election_id, tt, work, overrides, overlay)


def replan_poll(
    election_id: str,
    poll_date: dt.date | None = None,
    overrides: dict[str, str] | None = None,
    unset: list[str] | None = None,
) -> Plan:
    """The plan for a poll already planned, from what is stored (every date set by hand kept,
    unless unset) with the changes asked for: new dates, a new polling day."""
    calendars.reload()  # a day of mourning may have been added since this process started
    with session_scope() as session:
        inputs = replan_inputs(session, election_id, poll_date, overrides or {}, unset or [])
    return plan_poll(
        inputs.election_ids,
        inputs.nations,
        inputs.kinds,
        inputs.overrides,
        inputs.overlay,
        poll_key=inputs.poll_key,
    )


def plan_registration_year(
    canvass_id: str,
    nation: str | None = None,
    overrides: dict[str, str] | None = None,
    overlay: str | Path | None = None,
) -> Plan:
    """The plan for the registration year ``canvass_id`` (canvass.YYYY). Planning it again keeps
    the dates set before, the overlay and the nation (so a deferral is not undone by running the
    canvass again); what is given now wins."""
    with session_scope() as session:
        stored = canvass.stored_plan(session, canvass_id)
    if stored is not None:
        overrides = {**stored[0], **(overrides or {})}
        overlay, nation = overlay or stored[1], nation or stored[2]
    plan = plan_poll([canvass_id], nation, None, overrides, overlay)
    if not plan.timetable.registration_year:
        raise PollflowError(
            f"{canvass_id} is a poll, not a registration year: "
            "give canvass.YYYY (plan a poll with `pollflow plan`)"
        )
    return plan


@dataclass
class Saved:
    poll_id: int
    poll_key: str
    poll_title: str
    changes: Changes


def save_plan(plan: Plan, actor: str, flow_run_id: str | None) -> Saved:
    """Make the store match the plan (``store.planning.sync_poll``), in one transaction."""
    with session_scope() as session:
        poll, changes = sync_poll(
            session,
            plan.poll_key,
            plan.timetable,
            plan.work,
            overrides=plan.overrides,
            overlay=plan.overlay,
            actor=actor,
            flow_run_id=flow_run_id,
        )
        return Saved(poll.id, poll.key, poll.title, changes)


def notify_moved(poll_id: int, moved: list[Moved], reason: str) -> int:
    """Tell the owner of each work item whose due date moved (once per move, by dedupe key)."""
    if not moved:
        return 0
    with session_scope() as session:
        return moved_messages(session, session.get(Poll, poll_id), moved, reason)


def summary(plan: Plan, saved: Saved) -> dict:
    """What a planning run did, as the command line prints it."""
    changes = saved.changes
    return {
        "poll_key": saved.poll_key,
        "events": len(plan.timetable.events),
        "work_items": len(plan.work),
        "reminders": sum(len(p.reminders) for p in plan.work),
        "warnings": list(plan.timetable.warnings),
        "changed": changes.changed,
        **changes.summary(),
    }
