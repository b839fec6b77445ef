"""Completing work: who did it and when, and what it unblocks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.models import SIGNOFF_ROLES, AuditEntry, Person, Poll, WorkDependency, WorkItem, WorkStatus, utcnow
from store.people import find_person, roles_of
from store.queries import CHUNK, find_work_item
from timetables.errors import PollflowError


class WorkError(PollflowError):
    """Work that cannot be completed as asked."""


@dataclass
class Completed:
    item: WorkItem
    poll: Poll
    by: Person
    unblocked: list[WorkItem]
    already_done: bool = False


def check_completable(
    session: Session, ref: str, by_email: str, election: str | None = None
) -> tuple[WorkItem, Person, Poll]:
    """The work item and person, if ``by_email`` may complete it now; else a clear error."""
    item = find_work_item(session, ref, election)
    by = find_person(session, by_email)
    poll = session.get(Poll, item.poll_id)
    if item.status == WorkStatus.DONE:
        return item, by, poll
    if item.status == WorkStatus.CANCELLED:
        raise WorkError(f"work item {item.id} ({item.key}) was cancelled: it no longer applies")
    if item.needs_signoff and not roles_of(session, by) & set(SIGNOFF_ROLES):
        raise WorkError(
            f"{item.key} needs a named sign-off by the Returning Officer or a deputy; "
            f"{by.email} holds neither role"
        )
    waiting = open_blockers(session, item)
    if waiting:
        raise WorkError(f"{item.key} waits for {', '.join(w.key for w in waiting)}: complete those first")
    return item, by, poll


def complete(
    session: Session,
    ref: str,
    by_email: str,
    note: str | None = None,
    election: str | None = None,
    flow_run_id: str | None = None,
) -> Completed:
    item, by, poll = check_completable(session, ref, by_email, election)
    if item.status == WorkStatus.DONE:
        return Completed(item, poll, by, [], already_done=True)  # idempotent: done once
    item.status, item.completed_at, item.completed_by_id, item.note = WorkStatus.DONE, utcnow(), by.id, note
    record(
        session,
        by.email,
        "completed",
        poll_id=poll.id,
        subject=item.key,
        details={"work_item_id": item.id, "note": note, "signoff": item.needs_signoff},
        flow_run_id=flow_run_id,
    )
    unblocked = [w for w in open_dependents(session, item) if not open_blockers(session, w)]
    return Completed(item, poll, by, unblocked)


def open_blockers(session: Session, item: WorkItem) -> list[WorkItem]:
    """The open work ``item`` waits for: it cannot be completed before these are."""
    return list(
        session.scalars(
            select(WorkItem)
            .join(WorkDependency, WorkDependency.depends_on_id == WorkItem.id)
            .where(WorkDependency.work_item_id == item.id, WorkItem.status == WorkStatus.OPEN)
        ).all()
    )


def open_blockers_of(session: Session, items: Iterable[WorkItem]) -> dict[int, list[WorkItem]]:
    """``open_blockers`` for many items at once, in one query (per CHUNK of them): each item's id
    to the open work it waits for (an empty list for work that waits for nothing)."""
    ids = list(dict.fromkeys(item.id for item in items))
    found: dict[int, list[WorkItem]] = {item_id: [] for item_id in ids}
    for start in range(0, len(ids), CHUNK):
        batch = ids[start : start + CHUNK]
        rows = session.execute(
            select(WorkDependency.work_item_id, WorkItem)
            .join(WorkDependency, WorkDependency.depends_on_id == WorkItem.id)
            .where(WorkDependency.work_item_id.in_(batch), WorkItem.status == WorkStatus.OPEN)
            .order_by(WorkDependency.work_item_id, WorkDependency.id)
        ).all()
        for item_id, blocker in rows:
            found[item_id].append(blocker)
    return found


def open_dependents(session: Session, item: WorkItem) -> list[WorkItem]:
    """The open work that waits for ``item``."""
    return list(
        session.scalars(
            select(WorkItem)
            .join(WorkDependency, WorkDependency.work_item_id == WorkItem.id)
            .where(WorkDependency.depends_on_id == item.id, WorkItem.status == WorkStatus.OPEN)
        ).all()
    )


def reassign(session: Session, item: WorkItem, to_email: str, actor: str) -> AuditEntry | None:
    """Give open work to someone else (replanning keeps them); the audit entry, or None if they
    held it already."""
    person = find_person(session, to_email)
    if not person.active:
        raise WorkError(f"{person.email} is no longer active: choose someone in the team")
    if item.status != WorkStatus.OPEN:
        raise WorkError(f"{item.key} is {item.status}: only open work is reassigned")
    if item.owner_id == person.id:
        return None
    before = session.get(Person, item.owner_id) if item.owner_id else None
    item.owner_id = person.id
    entry = record(
        session,
        actor,
        "reassigned",
        poll_id=item.poll_id,
        subject=item.key,
        details={"work_item_id": item.id, "from": before.email if before else None, "to": person.email},
    )
    session.flush()
    return entry


COMMENT_LIMIT = 2000


def comment(session: Session, item: WorkItem, text: str, actor: str) -> None:
    """A comment on work, kept in the audit trail beside everything else done to it."""
    text = text.strip()
    if not text:
        raise WorkError("write a comment first")
    if len(text) > COMMENT_LIMIT:
        raise WorkError(f"a comment can be at most {COMMENT_LIMIT:,} characters (this one is {len(text):,})")
    record(
        session,
        actor,
        "commented",
        poll_id=item.poll_id,
        subject=item.key,
        details={"work_item_id": item.id, "comment": text},
    )
