"""Read-only questions the command line and the web feed ask. No Prefect here: they answer fast."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from store.models import (
    AuditEntry,
    Election,
    Person,
    Poll,
    TimetableEvent,
    WorkDependency,
    WorkItem,
    WorkStatus,
)
from timetables.clock import local
from timetables.errors import PollflowError


class NotFoundError(PollflowError):
    """No such election, poll or work item in the store."""


def find_poll(session: Session, election_or_poll: str) -> Poll:
    """The poll an election id belongs to, or the poll with that key."""
    poll = session.scalars(select(Poll).where(Poll.key == election_or_poll)).first()
    if poll is None:
        election = session.scalars(select(Election).where(Election.election_id == election_or_poll)).first()
        if election is not None:
            poll = session.get(Poll, election.poll_id)
    if poll is None:
        known = session.scalars(select(Election.election_id).order_by(Election.election_id)).all()
        hint = f"planned elections: {', '.join(known)}" if known else "nothing is planned yet"
        raise NotFoundError(f"no planned election '{election_or_poll}': {hint}")
    return poll


def elections_of(session: Session, poll: Poll) -> list[str]:
    return list(
        session.scalars(
            select(Election.election_id).where(Election.poll_id == poll.id).order_by(Election.id)
        ).all()
    )


@dataclass
class TaskRow:
    item: WorkItem
    poll: Poll
    owner: Person | None
    depends_on: list[str]
    blocked_by: list[str]

    def to_dict(self) -> dict:
        item = self.item
        return {
            "id": item.id,
            "key": item.key,
            "title": item.title,
            "election_id": item.election_id or self.poll.key,
            "poll": self.poll.key,
            "owner": self.owner.email if self.owner else None,
            "owner_name": self.owner.name if self.owner else None,
            "owner_role": item.owner_role,
            "due": local(item.due_at).isoformat(),
            "status": item.status,
            "statutory_event": item.event_key,
            "needs_signoff": item.needs_signoff,
            "depends_on": self.depends_on,
            "blocked_by": self.blocked_by,
            "completed_at": local(item.completed_at).isoformat() if item.completed_at else None,
        }


def tasks(
    session: Session,
    *,
    person: str | None = None,
    election: str | None = None,
    due_within: dt.timedelta | None = None,
    overdue: bool = False,
    as_of: dt.datetime,
    include_done: bool = False,
) -> list[TaskRow]:
    query = (
        select(WorkItem, Poll, Person)
        .join(Poll, Poll.id == WorkItem.poll_id)
        .outerjoin(Person, Person.id == WorkItem.owner_id)
        .order_by(WorkItem.due_at, WorkItem.id)
    )
    if not include_done:
        query = query.where(WorkItem.status == WorkStatus.OPEN)
    else:
        query = query.where(WorkItem.status != WorkStatus.CANCELLED)
    if person:
        found = session.scalars(select(Person).where(Person.email == person.lower())).first()
        if found is None:
            raise NotFoundError(f"no person with email {person}")
        query = query.where(WorkItem.owner_id == found.id)
    if election:
        query = query.where(WorkItem.poll_id == find_poll(session, election).id)
    if overdue:
        query = query.where(WorkItem.due_at <= as_of, WorkItem.status == WorkStatus.OPEN)
    elif due_within is not None:
        query = query.where(WorkItem.due_at <= as_of + due_within)
    rows = session.execute(query).all()
    ids = [item.id for item, _, _ in rows]
    deps: dict[int, list[WorkItem]] = {}
    if ids:
        for dep, other in session.execute(
            select(WorkDependency, WorkItem)
            .join(WorkItem, WorkItem.id == WorkDependency.depends_on_id)
            .where(WorkDependency.work_item_id.in_(ids))
        ).all():
            deps.setdefault(dep.work_item_id, []).append(other)
    return [
        TaskRow(
            item=item,
            poll=poll,
            owner=owner,
            depends_on=[d.key for d in deps.get(item.id, [])],
            blocked_by=[d.key for d in deps.get(item.id, []) if d.status == WorkStatus.OPEN],
        )
        for item, poll, owner in rows
    ]


def timetable(session: Session, poll: Poll) -> list[TimetableEvent]:
    return list(
        session.scalars(
            select(TimetableEvent)
            .where(TimetableEvent.poll_id == poll.id)
            .order_by(TimetableEvent.due_at, TimetableEvent.id)
        ).all()
    )


def audit(session: Session, poll: Poll) -> list[AuditEntry]:
    return list(
        session.scalars(select(AuditEntry).where(AuditEntry.poll_id == poll.id).order_by(AuditEntry.id)).all()
    )


def find_work_item(session: Session, ref: str, election: str | None = None) -> WorkItem:
    """A work item by its id, or by its key (with --election where several polls have it)."""
    if ref.isdigit():
        item = session.get(WorkItem, int(ref))
        if item is None:
            raise NotFoundError(f"no work item {ref}")
        return item
    query = select(WorkItem).where(WorkItem.key == ref)
    if election:
        query = query.where(WorkItem.poll_id == find_poll(session, election).id)
    found = session.scalars(query).all()
    if not found:
        raise NotFoundError(f"no work item '{ref}': give its id or key (see `pollflow tasks`)")
    if len(found) > 1:
        polls = ", ".join(session.get(Poll, w.poll_id).key for w in found)
        raise PollflowError(f"'{ref}' is a work item of several polls ({polls}): add --election")
    return found[0]


def event_for(found: list[TimetableEvent], item: WorkItem) -> TimetableEvent | None:
    """The statutory event ``item`` delivers, from its poll's events of that key (soonest first):
    its election's own, or the poll's shared one. Where the work is one task for the whole poll
    but the event is each election's own (an overlay's task, say), the earliest deadline is the
    one that matters."""
    scopes = [item.election_id, "*"] if item.election_id else ["*"]
    own = [e for e in found if e.scope in scopes]
    return (own or ([] if item.election_id else found) or [None])[0]
