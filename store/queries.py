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
    ids: list[int] | None = None,
) -> list[TaskRow]:
    query = (
        select(WorkItem, Poll, Person)
        .join(Poll, Poll.id == WorkItem.poll_id)
        .outerjoin(Person, Person.id == WorkItem.owner_id)
        .order_by(WorkItem.due_at, WorkItem.id)
    )
    if ids is not None:
        query = query.where(WorkItem.id.in_(ids))
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


CHUNK = 5000  # ids in one IN (...): well inside SQLite's and PostgreSQL's limits


@dataclass
class Glance:
    """One person's open work, each item's id in the group it falls in (soonest first)."""

    overdue: list[int]
    today: list[int]
    week: list[int]
    later: list[int]
    waiting: list[int]


def glance(session: Session, person_id: int, as_of: dt.datetime) -> Glance:
    """A person's open work in the groups an officer plans the day by: overdue, due today, due
    this week, later, and waiting on other work. Two light queries (ids and due dates; which of
    them open work blocks), so the page loads in full only the items it shows."""
    rows = session.execute(
        select(WorkItem.id, WorkItem.due_at)
        .where(WorkItem.owner_id == person_id, WorkItem.status == WorkStatus.OPEN)
        .order_by(WorkItem.due_at, WorkItem.id)
    ).all()
    # Which of them wait for open work: their dependencies, then which of those are open, each
    # looked up by index (a join here leads SQLite's planner to scan every open item).
    ids = [item_id for item_id, _ in rows]
    pairs = [
        pair
        for start in range(0, len(ids), CHUNK)
        for pair in session.execute(
            select(WorkDependency.work_item_id, WorkDependency.depends_on_id).where(
                WorkDependency.work_item_id.in_(ids[start : start + CHUNK])
            )
        ).all()
    ]
    wanted = sorted({dep for _, dep in pairs})
    still_open = {
        item_id
        for start in range(0, len(wanted), CHUNK)
        for item_id in session.scalars(
            select(WorkItem.id).where(
                WorkItem.id.in_(wanted[start : start + CHUNK]), WorkItem.status == WorkStatus.OPEN
            )
        ).all()
    }
    blocked = {item_id for item_id, dep in pairs if dep in still_open}
    today, week_end = local(as_of).date(), as_of + dt.timedelta(days=7)
    found = Glance([], [], [], [], [])
    for item_id, due in rows:
        if item_id in blocked:
            found.waiting.append(item_id)
        elif due < as_of:
            found.overdue.append(item_id)
        elif local(due).date() == today:
            found.today.append(item_id)
        elif due <= week_end:
            found.week.append(item_id)
        else:
            found.later.append(item_id)
    return found
