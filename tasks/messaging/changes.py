"""Messages about work that changed under its owner: a due date that moved (a replan), and work
that is ready to start because what it waited for is done. Each once, by its dedupe key."""

from __future__ import annotations

from sqlmodel import Session

from store.models import Person, Poll, WorkItem, WorkStatus
from store.outbox import enqueue, message
from store.planning import Moved
from store.work import open_dependents
from tasks.messaging.context import Context, stamp
from tasks.messaging.render import render, when


def moved_messages(session: Session, poll: Poll, moved: list[Moved], reason: str) -> int:
    """Tell the owner of each work item whose due date moved."""
    ctx = Context(session)
    messages = []
    for change in moved:
        if change.work_item_id is None:
            continue
        item = session.get(WorkItem, change.work_item_id)
        if item is None or item.status != WorkStatus.OPEN:
            continue
        owner = ctx.person(item.owner_id)  # whoever owns it now
        if owner is None:
            continue
        messages.append(
            message(
                f"moved:{item.id}:{stamp(change.old)}:{stamp(change.new)}",
                "moved",
                render(
                    "moved",
                    person=owner,
                    poll=poll,
                    item=ctx.item(item),
                    old_due_text=when(change.old),
                    reason=reason,
                ),
                to=owner,
                poll_id=poll.id,
                work_item_id=item.id,
            )
        )
    return enqueue(session, messages)


def unblocked_messages(session: Session, done: WorkItem, by: Person) -> int:
    """Tell the owners of work that waited for ``done`` that it is ready."""
    ctx = Context(session)
    poll = ctx.poll(done.poll_id)
    messages = []
    for item in open_dependents(session, done):
        owner = ctx.person(item.owner_id)
        if owner is None:
            continue
        messages.append(
            message(
                f"unblocked:{item.id}:{done.id}",
                "unblocked",
                render(
                    "unblocked",
                    person=owner,
                    poll=poll,
                    item=ctx.item(item),
                    done={"title": done.title, "by": by.name},
                ),
                to=owner,
                poll_id=poll.id,
                work_item_id=item.id,
            )
        )
    return enqueue(session, messages)


def reassigned_message(session: Session, item: WorkItem, by: Person, audit_id: int) -> int:
    """Tell the new owner of work someone gave them (once per reassignment)."""
    ctx = Context(session)
    owner = ctx.person(item.owner_id)
    if owner is None or owner.id == by.id:
        return 0  # taking work on yourself needs no email
    poll = ctx.poll(item.poll_id)
    rendered = render("reassigned", person=owner, poll=poll, item=ctx.item(item), by=by.name)
    return enqueue(
        session,
        [
            message(
                f"reassigned:{item.id}:{audit_id}",
                "reassigned",
                rendered,
                to=owner,
                poll_id=poll.id,
                work_item_id=item.id,
            )
        ],
    )
