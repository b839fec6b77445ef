"""A poll: its statutory timetable with the law for each date, and the plan as a timeline (weeks
across, work grouped by the role that owns it) with red, amber and green status, filters by
owner and by area, and readiness counts.

GET /polls            every poll planned, with its readiness
GET /polls/{id}       one poll (?owner=PERSON_ID&area=ROLE to filter the timeline: no email in a URL)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from pollflow.web.render import page, sentence
from pollflow.web.session import Id, form_of, need
from store.db import session_scope
from store.identity.acting import acting_as
from store.models import CanvassReport, Person, Poll, Role, WorkDependency, WorkItem, WorkStatus
from timetables.clock import local, now
from timetables.errors import PollflowError

SOON = dt.timedelta(days=7)


def status_of(item: WorkItem, blocked: bool, as_of: dt.datetime) -> str:
    """Red, amber or green, in words: overdue, due soon (or waiting with little time), on track."""
    if item.status == WorkStatus.DONE:
        return "done"
    if item.due_at < as_of:
        return "overdue"
    if item.due_at <= as_of + SOON or (blocked and item.due_at <= as_of + 2 * SOON):
        return "due soon"
    return "on track"


@dataclass
class Readiness:
    total: int = 0
    done: int = 0
    overdue: int = 0
    due_soon: int = 0
    unassigned: int = 0
    waiting: int = 0


def _plan(session, poll: Poll, as_of: dt.datetime):
    items = session.scalars(
        select(WorkItem)
        .where(WorkItem.poll_id == poll.id, WorkItem.status != WorkStatus.CANCELLED)
        .order_by(WorkItem.due_at, WorkItem.id)
    ).all()
    open_ids = {i.id for i in items if i.status == WorkStatus.OPEN}
    blocked = (
        {
            dep.work_item_id
            for dep in session.scalars(
                select(WorkDependency).where(WorkDependency.work_item_id.in_([i.id for i in items]))
            ).all()
            if dep.depends_on_id in open_ids
        }
        if items
        else set()
    )
    readiness = Readiness(total=len(items))
    rows = []
    for item in items:
        status = status_of(item, item.id in blocked, as_of)
        readiness.done += status == "done"
        readiness.overdue += status == "overdue"
        readiness.due_soon += status == "due soon"
        readiness.unassigned += item.owner_id is None and status != "done"
        readiness.waiting += item.id in blocked and status != "done"
        rows.append((item, status, item.id in blocked))
    return rows, readiness


def _weeks(rows, poll: Poll) -> list[dt.date]:
    """The Mondays from the first piece of work's week to polling day's (or the last work's)."""
    days = [local(item.due_at).date() for item, _, _ in rows] + [poll.poll_date]
    first = min(days) - dt.timedelta(days=min(days).weekday())
    last = max(days)
    weeks, monday = [], first
    while monday <= last:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


router = APIRouter()


@router.get("/polls")
def polls(request: Request, viewer=need("view")) -> Response:
    as_of = now()
    with session_scope() as session:
        listed = []
        for poll in session.scalars(select(Poll).order_by(Poll.poll_date.desc())).all():
            listed.append((poll, _plan(session, poll, as_of)[1]))
        return page(request, "polls.html.j2", title="Polls", polls=listed)


NATIONS = (
    ("", "Work it out from the election id"),
    ("england", "England"),
    ("wales", "Wales"),
    ("scotland", "Scotland"),
    ("northern-ireland", "Northern Ireland"),
)


@router.get("/polls/new")
def plan_page(request: Request, viewer=need("plan")) -> Response:
    return page(request, "plan.html.j2", title="Plan a poll", nations=NATIONS, values={}, errors={})


@router.post("/polls/new")
async def plan(request: Request, viewer=need("plan")) -> Response:
    """Plan a poll from its election ids: the timetable, the work with owners, the reminders.
    Planning the same poll again changes nothing (the store is synced, not appended to)."""
    from tasks import planning
    from tasks.canvass.reports import after_plan

    form = await form_of(request, viewer)
    ids = [
        line.strip() for line in form.get("election_ids", "").replace(",", "\n").splitlines() if line.strip()
    ]
    nation = form.get("nation") or None
    kind = form.get("kind", "").strip() or None
    errors = {}
    if not ids:
        errors["election_ids"] = "Enter the poll's election id, for example local.wychwood.2027-05-06"
    elif len(ids) > 20 or any(len(i) > 200 for i in ids):
        errors["election_ids"] = "Enter at most 20 election ids, each under 200 characters"
    if nation and nation not in dict(NATIONS):
        errors["nation"] = "Choose the nation from the list"
    if not errors:

        def run():
            with acting_as(viewer.actor()):
                made = planning.plan_poll(ids, nation, kind)
                saved = planning.save_plan(made, viewer.email, None)
                planning.notify_moved(saved.poll_id, saved.changes.work_moved, "replanned")
                after_plan(saved.poll_key, viewer.email, None)
                return saved

        try:
            saved = await run_in_threadpool(run)
        except PollflowError as exc:
            errors["election_ids"] = sentence(str(exc))
    if errors:
        return page(
            request,
            "plan.html.j2",
            status=400,
            title="Plan a poll",
            nations=NATIONS,
            values=form,
            errors=errors,
        )
    return RedirectResponse(f"/polls/{saved.poll_id}?notice=planned", 303)


@router.get("/polls/{poll_id}")
def poll_page(
    request: Request, poll_id: Id, owner: str = "", area: str = "", notice: str = "", viewer=need("view")
) -> Response:
    from store import queries

    as_of = now()
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        if poll is None:
            raise HTTPException(404)
        rows, readiness = _plan(session, poll, as_of)
        people = {p.id: p for p in session.scalars(select(Person)).all()}
        roles = {r.key: r.name for r in session.scalars(select(Role)).all()}
        owners = sorted(
            (people[pid] for pid in {i.owner_id for i, _, _ in rows if i.owner_id}), key=lambda p: p.name
        )
        areas = sorted({i.owner_role for i, _, _ in rows}, key=lambda r: roles.get(r, r))
        if owner and owner not in {str(p.id) for p in owners}:
            owner = ""
        if area and area not in areas:
            area = ""
        shown = [
            r
            for r in rows
            if (not owner or str(r[0].owner_id) == owner) and (not area or r[0].owner_role == area)
        ]
        weeks = _weeks(rows, poll) if rows else []
        grid: dict[str, dict[dt.date, list]] = {}
        for item, status, _ in shown:
            day = local(item.due_at).date()
            monday = day - dt.timedelta(days=day.weekday())
            grid.setdefault(item.owner_role, {}).setdefault(monday, []).append((item, status))
        from tasks.canvass.messages import report_url

        # A registration year's weekly canvass reports, each behind a fresh signed link.
        reports = [
            (r.week, r.report_date, report_url(session, poll.key, r.week))
            for r in session.scalars(
                select(CanvassReport)
                .where(CanvassReport.poll_id == poll.id)
                .order_by(CanvassReport.week.desc())
            ).all()
        ]
        return page(
            request,
            "poll.html.j2",
            canvass_reports=reports,
            title=poll.title,
            poll=poll,
            events=queries.timetable(session, poll),
            readiness=readiness,
            weeks=weeks,
            grid=grid,
            roles=roles,
            people=people,
            owners=owners,
            areas=areas,
            owner=owner,
            area=area,
            shown=shown,
            as_of=as_of,
            week=dt.timedelta(days=7),
            notice="Planned: the timetable is stored, the work assigned and the reminders set."
            if notice == "planned"
            else None,
        )


def register(app: FastAPI) -> None:
    app.include_router(router)


@router.get("/polls/{poll_id}/staffing")
def staffing(request: Request, poll_id: Id, viewer=need("view")) -> Response:
    """Staffing at a glance: need, filled and unfilled per station, the reserve list, training.
    Names of staff only for those who may see staff's contact details."""
    from store.staff import StaffingError
    from store.staff.config import staffing_rules
    from store.staff.report import report

    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        if poll is None:
            raise HTTPException(404)
        try:
            data = report(session, poll, staffing_rules())
        except StaffingError as exc:
            data, why = None, str(exc)
        else:
            why = None
            for key in ("recruitment_closes", "training_deadline"):  # as officers read dates
                data[key] = dt.date.fromisoformat(data[key][:10])
        return page(
            request,
            "poll_staffing.html.j2",
            title=f"Staffing: {poll.title}",
            poll=poll,
            data=data,
            why=why,
            show_names=viewer.can("see_staff_contacts"),
        )
