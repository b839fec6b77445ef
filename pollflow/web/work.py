"""My work, and one piece of work: what is due, the statutory deadline it serves and the law
behind it; complete it with a note, reassign it, or comment.

GET  /work                   my work: overdue, today, this week, later, waiting on others
GET  /work/{id}              one work item, its deadline, law, dependencies and history
POST /work/{id}/complete     (complete; complete_others for someone else's)
POST /work/{id}/reassign     (assign)
POST /work/{id}/comment      (view)

Each action is one store transaction with its audit entry, then a redirect (post, redirect,
get); Prefect hears of a completion when an API is up (pollflow.web.announce), and the outbox
holds the messages either way.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select
from starlette.exceptions import HTTPException

from pollflow.web.render import page
from pollflow.web.session import Id, form_of, need
from store.db import session_scope
from store.identity.acting import acting_as
from store.identity.roles import may_complete
from store.models import SIGNOFF_ROLES, AuditEntry, Person, Poll, TimetableEvent, WorkItem, WorkStatus
from timetables.clock import now

SHOWN = 50  # of the work due later, or waiting on others (the soonest first)

NOTICES = {
    "completed": "Recorded as done. The owners of what it unblocks have been told.",
    "reassigned": "Reassigned.",
    "commented": "Comment added.",
    "unchanged": "Nothing changed: that was already so.",
}


def events_for(session, items) -> dict[tuple, list[TimetableEvent]]:
    """The statutory events these work items deliver, by (poll, key), soonest first."""
    polls = {i.poll_id for i in items if i.event_key}
    keys = {i.event_key for i in items if i.event_key}
    found: dict[tuple, list[TimetableEvent]] = {}
    if polls:
        query = select(TimetableEvent).where(TimetableEvent.poll_id.in_(polls), TimetableEvent.key.in_(keys))
        for event in session.scalars(query.order_by(TimetableEvent.due_at, TimetableEvent.id)).all():
            found.setdefault((event.poll_id, event.key), []).append(event)
    return found


def event_of(events: dict, item: WorkItem) -> TimetableEvent | None:
    from store.queries import event_for

    return event_for(events.get((item.poll_id, item.event_key), []), item) if item.event_key else None


def _item(session, item_id: Id) -> WorkItem:
    item = session.get(WorkItem, item_id)
    if item is None:
        raise HTTPException(404)
    return item


router = APIRouter()


@router.get("/work")
def my_work(request: Request, viewer=need("view")) -> Response:
    from dataclasses import asdict

    from store import queries

    as_of = now()
    with session_scope() as session:
        grouped = asdict(queries.glance(session, viewer.person_id, as_of))
        counts = {key: len(ids) for key, ids in grouped.items()}
        for key in ("later", "waiting"):  # what is not pressing: the soonest; each poll's page has all
            grouped[key] = grouped[key][:SHOWN]
        shown = [i for ids in grouped.values() for i in ids]
        rows = {r.item.id: r for r in queries.tasks(session, as_of=as_of, ids=shown)} if shown else {}
        groups = {key: [rows[i] for i in ids if i in rows] for key, ids in grouped.items()}
        events = events_for(session, [r.item for r in rows.values()])
        return page(
            request,
            "my_work.html.j2",
            title="My work",
            groups=groups,
            counts=counts,
            events=events,
            event_of=event_of,
            as_of=as_of,
        )


@router.get("/work/{item_id}")
def work_item(request: Request, item_id: Id, notice: str | None = None, viewer=need("view")) -> Response:
    from store.work import open_blockers, open_dependents

    with session_scope() as session:
        item = _item(session, item_id)
        poll = session.get(Poll, item.poll_id)
        owner = session.get(Person, item.owner_id) if item.owner_id else None
        done_by = session.get(Person, item.completed_by_id) if item.completed_by_id else None
        event = event_of(events_for(session, [item]), item)
        history = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.poll_id == poll.id, AuditEntry.subject == item.key)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(100)
        ).all()
        people = session.scalars(select(Person).where(Person.active).order_by(Person.name)).all()
        return page(
            request,
            "work_item.html.j2",
            title=item.title,
            item=item,
            poll=poll,
            owner=owner,
            done_by=done_by,
            event=event,
            blockers=open_blockers(session, item),
            dependents=open_dependents(session, item),
            history=history,
            people=people,
            may_complete=item.status == WorkStatus.OPEN
            and may_complete(viewer.permissions, viewer.person_id, item)
            and (not item.needs_signoff or bool(viewer.roles & set(SIGNOFF_ROLES))),
            may_assign=item.status == WorkStatus.OPEN and viewer.can("assign"),
            notice=NOTICES.get(notice or ""),
            errors={},
            overdue=item.status == WorkStatus.OPEN and item.due_at < now(),
        )


@router.post("/work/{item_id}/complete")
async def complete(request: Request, item_id: Id, viewer=need("complete")) -> Response:
    from tasks.work import complete_work

    form = await form_of(request, viewer)
    note = form.get("note", "").strip()[:2000] or None
    with session_scope() as session, acting_as(viewer.actor()):
        item = _item(session, item_id)
        if not may_complete(viewer.permissions, viewer.person_id, item):
            raise HTTPException(403)
        result = complete_work(session, str(item.id), viewer.email, note)
    if not result["already_done"]:
        from pollflow.announce import announce

        ids = result.pop("election_ids")
        announce(
            "pollflow.workitem.completed",
            f"pollflow.workitem.{result['work_item_id']}",
            ids,
            result,
            result["title"],
        )
    return RedirectResponse(
        f"/work/{item_id}?notice={'unchanged' if result['already_done'] else 'completed'}", 303
    )


@router.post("/work/{item_id}/reassign")
async def reassign(request: Request, item_id: Id, viewer=need("assign")) -> Response:
    from store.work import reassign as give
    from tasks.messaging.changes import reassigned_message

    form = await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        item = _item(session, item_id)
        entry = give(session, item, form.get("owner", ""), viewer.email)
        if entry is not None:  # the new owner hears of it, with the link
            reassigned_message(session, item, session.get(Person, viewer.person_id), entry.id)
        changed = entry is not None
    return RedirectResponse(f"/work/{item_id}?notice={'reassigned' if changed else 'unchanged'}", 303)


@router.post("/work/{item_id}/comment")
async def add_comment(request: Request, item_id: Id, viewer=need("view")) -> Response:
    from store.work import comment

    form = await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        comment(session, _item(session, item_id), form.get("comment", ""), viewer.email)
    return RedirectResponse(f"/work/{item_id}?notice=commented", 303)


def register(app: FastAPI) -> None:
    app.include_router(router)
