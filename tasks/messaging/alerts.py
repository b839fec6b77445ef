"""What the deadline check sends: reminders that are due, overdue work, missed statutory
deadlines, and work no one owns (each officer's morning digest is ``tasks.messaging.digest``).

Every message has a dedupe key, so it is queued once however many checks see it: a reminder by
its work item, label and due date; an overdue or missed alert by the work item and the due date
it was raised for. A moved deadline therefore reminds again, and alerts again if it is missed.

Work is overdue once its due time has passed; statutory work is *missed* (escalated to the
manager, the Returning Officer and deputies, and the team's webhook) once the statutory deadline
itself has passed too, which may be later the same day. Each escalation is written to the audit
trail, which is also how a later check knows it was raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from store.audit import record
from store.db import session_scope
from store.models import AuditEntry, Poll, Reminder, TimetableEvent, WorkItem, WorkStatus
from store.outbox import OutgoingMessage, enqueue, message
from store.owners import MANAGERS
from store.planning_rows import insert_entries
from tasks.messaging.context import Context, stamp
from tasks.messaging.render import render
from timetables import settings
from timetables.clock import local

MISSED = "statutory deadline missed"  # the audit action that records an escalation

# What a scan marks as raised, each written for all its rows in one executemany (one call to the
# driver; psycopg pipelines it) rather than row by row as the ORM flushed them, an UPDATE per item
# whenever the next query autoflushed. In the scan's transaction, so the marks are kept with the
# messages they stand for or not at all. An item is marked for the due date it was loaded with,
# not the row's due_at now: if a replan moves it meanwhile, the new date is raised in its turn.
_work, _reminder = WorkItem.__table__, Reminder.__table__
_RAISED = {
    column: _work.update().where(_work.c.id == bindparam("item_id")).values({column: bindparam("due")})
    for column in ("alerted_due_at", "escalated_due_at")
}
_SENT = _reminder.update().where(_reminder.c.id == bindparam("reminder_id")).values(sent_at=bindparam("sent"))


@dataclass
class ScanResult:
    as_of: dt.datetime
    reminders: int = 0
    overdue: int = 0
    missed: int = 0
    unassigned: int = 0
    escalated: int = 0  # overdue work raised with the managers after the policy's time
    queued: int = 0  # messages new to the outbox
    approaching_events: list[dict] = field(default_factory=list)  # for pollflow.deadline.approaching
    missed_events: list[dict] = field(default_factory=list)  # for pollflow.deadline.missed

    def summary(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "reminders": self.reminders,
            "overdue": self.overdue,
            "missed_statutory_deadlines": self.missed,
            "unassigned": self.unassigned,
            "overdue_raised_with_managers": self.escalated,
            "messages_queued": self.queued,
        }


def scan_deadlines(as_of: dt.datetime) -> ScanResult:
    """The deadline check's step: ``scan``, in a transaction of its own."""
    with session_scope() as session:
        return scan(session, as_of)


def scan(session: Session, as_of: dt.datetime) -> ScanResult:
    """Queue every reminder, alert and escalation due by ``as_of``; each exactly once."""
    result = ScanResult(as_of=as_of)
    ctx = Context(session)
    messages = _due_reminders(ctx, as_of, result)
    alerts, missed = _overdue(ctx, as_of, result)
    messages += alerts
    messages += _still_overdue(ctx, as_of, result)
    # Statutory work alerted as overdue earlier, whose statutory deadline came later than the
    # work's own due time (a notice due by 17:00 may lawfully go up until midnight) and has now
    # passed too.
    missed += _missed_since_overdue(ctx, as_of, {item.id for item in missed})
    messages += _missed(ctx, missed, result)
    result.queued = enqueue(session, messages)
    return result


def _due_reminders(ctx: Context, as_of: dt.datetime, result: ScanResult) -> list[OutgoingMessage]:
    """Reminders whose time has come, for work still open and not yet due: to the owner, or to
    the managers when no one owns the work. Where several of an item's reminders have come due
    since the last check (planned late, or no check ran), only the latest is sent: two reminders
    at once for the same work say nothing the one does not."""
    due = ctx.session.execute(
        select(Reminder, WorkItem)
        .join(WorkItem, WorkItem.id == Reminder.work_item_id)
        .join(Poll, Poll.id == WorkItem.poll_id)
        .where(
            Reminder.sent_at.is_(None),
            Reminder.remind_at <= as_of,
            WorkItem.status == WorkStatus.OPEN,
            Poll.status == "planned",
        )
        .order_by(Reminder.remind_at, Reminder.id)
    ).all()
    _mark_sent(ctx, [reminder for reminder, _ in due], as_of)
    latest: dict[int, tuple[Reminder, WorkItem]] = {item.id: (reminder, item) for reminder, item in due}
    ctx.prefetch(item for _, item in latest.values() if item.due_at > as_of)
    messages = []
    unassigned: set[int] = set()
    for reminder, item in latest.values():
        if item.due_at <= as_of:
            continue  # overtaken: the overdue alert says it instead
        poll = ctx.poll(item.poll_id)
        owner = ctx.person(item.owner_id)
        if owner is None:
            for manager in ctx.holders(MANAGERS):
                messages.append(
                    message(
                        f"unassigned:{item.id}:{stamp(item.due_at)}:{manager.id}",
                        "unassigned",
                        render("unassigned", person=manager, poll=poll, item=ctx.item(item)),
                        to=manager,
                        poll_id=poll.id,
                        work_item_id=item.id,
                    )
                )
            unassigned.add(item.id)
            continue
        messages.append(
            message(
                f"reminder:{item.id}:{reminder.label}:{stamp(item.due_at)}",
                "reminder",
                render("reminder", person=owner, poll=poll, item=ctx.item(item), label=reminder.label),
                to=owner,
                poll_id=poll.id,
                work_item_id=item.id,
                useful_until=item.due_at,  # after that the overdue alert says it instead
            )
        )
        result.reminders += 1
        if item.event_key:
            result.approaching_events.append(_event_payload(ctx, poll, item, reminder.label))
    result.unassigned = len(unassigned)
    return messages


def _overdue(
    ctx: Context, as_of: dt.datetime, result: ScanResult
) -> tuple[list[OutgoingMessage], list[WorkItem]]:
    """Work past its due date, alerted once per due date: to its owner, or to the managers when
    no one owns it. Returns the alerts, and the statutory work whose statutory deadline has
    passed too (missed)."""
    overdue = _not_yet_raised(ctx, as_of, WorkItem.alerted_due_at)
    ctx.prefetch(overdue)
    messages = []
    missed: list[WorkItem] = []
    for item in overdue:
        poll = ctx.poll(item.poll_id)
        due = stamp(item.due_at)
        owner = ctx.person(item.owner_id)
        details = ctx.item(item)
        recipients = [owner] if owner is not None else ctx.holders(MANAGERS)
        managers = ctx.holders(ctx.policy.managers)
        # Whom it goes to next, if it stays open: the managers, unless they are the ones told now.
        raised_later = owner is not None and any(m.id != owner.id for m in managers)
        for person in recipients:
            suffix = "" if owner is not None else f":{person.id}"
            messages.append(
                message(
                    f"overdue:{item.id}:{due}{suffix}",
                    "overdue",
                    render(
                        "overdue",
                        person=person,
                        poll=poll,
                        item=details,
                        council=ctx.council,
                        raised_later=raised_later,
                        after_hours=ctx.policy.overdue_to_manager_after_hours,
                    ),
                    to=person,
                    poll_id=poll.id,
                    work_item_id=item.id,
                )
            )
        result.overdue += 1
        event = ctx.event(item)
        if event is not None and event.due_at < as_of:
            missed.append(item)
    _mark_raised(ctx, overdue, "alerted_due_at")  # before _missed_since_overdue reads it
    return messages, missed


def _not_yet_raised(ctx: Context, before: dt.datetime, raised_for, *more) -> list[WorkItem]:
    """Open work of planned polls due before ``before`` and not yet raised for its due date:
    ``raised_for`` is the column holding the due date it was last raised for."""
    return ctx.session.scalars(
        select(WorkItem)
        .join(Poll, Poll.id == WorkItem.poll_id)
        .where(
            WorkItem.status == WorkStatus.OPEN,
            Poll.status == "planned",
            WorkItem.due_at < before,
            or_(raised_for.is_(None), raised_for != WorkItem.due_at),
            *more,
        )
        .order_by(WorkItem.due_at, WorkItem.id)
    ).all()


def _still_overdue(ctx: Context, as_of: dt.datetime, result: ScanResult) -> list[OutgoingMessage]:
    """Owned work still open the policy's time after it was due: raised with the managers
    (config/alerts.yaml), once per due date. Work no one owns went to them when it fell due."""
    rules = ctx.policy
    items = _not_yet_raised(
        ctx, as_of - rules.overdue_to_manager_after, WorkItem.escalated_due_at, WorkItem.owner_id.is_not(None)
    )
    ctx.prefetch(items)
    messages = []
    council = ctx.council if items else ""
    for item in items:
        poll, owner, details = ctx.poll(item.poll_id), ctx.person(item.owner_id), ctx.item(item)
        for manager in ctx.holders(rules.managers):
            if manager.id == item.owner_id:
                continue  # their own work: the overdue alert told them
            messages.append(
                message(
                    f"overdue-manager:{item.id}:{stamp(item.due_at)}:{manager.id}",
                    "overdue-manager",
                    render(
                        "overdue_manager",
                        person=manager,
                        poll=poll,
                        item=details,
                        owner_name=owner.name if owner else "no one",
                        after_hours=rules.overdue_to_manager_after_hours,
                        council=council,
                    ),
                    to=manager,
                    poll_id=poll.id,
                    work_item_id=item.id,
                )
            )
        result.escalated += 1
    _mark_raised(ctx, items, "escalated_due_at")
    return messages


def _mark_raised(ctx: Context, items: list[WorkItem], column: str) -> None:
    """Record each item raised (``column``) for the due date it has in the session."""
    if items:
        ctx.session.connection().execute(_RAISED[column], [{"item_id": i.id, "due": i.due_at} for i in items])
    for item in items:
        # As written, and not pending: later queries in the scan, and the flush, agree with the row.
        set_committed_value(item, column, item.due_at)


def _mark_sent(ctx: Context, reminders: list[Reminder], as_of: dt.datetime) -> None:
    if reminders:
        ctx.session.connection().execute(_SENT, [{"reminder_id": r.id, "sent": as_of} for r in reminders])
    for reminder in reminders:
        set_committed_value(reminder, "sent_at", as_of)


def _missed(ctx: Context, missed: list[WorkItem], result: ScanResult) -> list[OutgoingMessage]:
    """Missed statutory deadlines: each item written to the audit trail and announced, and the
    escalation sent once per statutory event (not per piece of work under it: the proof, approval
    and publication of one notice are one missed deadline), listing what is still open under it."""
    by_event: dict[tuple, list[WorkItem]] = {}
    entries = []
    for item in missed:
        poll = ctx.poll(item.poll_id)
        payload = _event_payload(ctx, poll, item, "missed")
        entry = record(
            ctx.session,
            "flow:check-deadlines",
            MISSED,
            poll_id=poll.id,
            subject=item.key,
            details={
                "work_item_id": item.id,
                "due": stamp(item.due_at),
                "event_key": item.event_key,
                "deadline": payload["deadline"],
            },
        )
        entries.append(entry)
        result.missed += 1
        result.missed_events.append(payload)
        event = ctx.event(item)
        by_event.setdefault((poll.id, event.key, event.scope, stamp(event.due_at)), []).append(item)
    insert_entries(ctx.session, entries)  # in one INSERT: the ORM's flush writes one at a time on SQLite
    under = [_open_under(ctx, *ident[:3], items) for ident, items in by_event.items()]
    ctx.prefetch(item for still_open in under for item in still_open)
    messages = []
    for still_open in under:  # each led by the first of its event's missed items
        first, details = still_open[0], [ctx.item(i) for i in still_open]
        messages.extend(missed_messages(ctx, ctx.poll(first.poll_id), first, details))
    return messages


def _open_under(
    ctx: Context, poll_id: int, event_key: str, scope: str, missed: list[WorkItem]
) -> list[WorkItem]:
    """The missed work first, then any other open work that delivers the same statutory event."""
    others = ctx.session.scalars(
        select(WorkItem)
        .where(
            WorkItem.poll_id == poll_id, WorkItem.event_key == event_key, WorkItem.status == WorkStatus.OPEN
        )
        .order_by(WorkItem.due_at, WorkItem.id)
    ).all()
    seen = {i.id for i in missed}
    same = [
        i for i in others if i.id not in seen and (ctx.event(i) is not None and ctx.event(i).scope == scope)
    ]
    return [*missed, *same]


def _missed_since_overdue(ctx: Context, as_of: dt.datetime, handled: set[int]) -> list[WorkItem]:
    """Open statutory work already alerted as overdue whose statutory deadline, later than its
    due time, has passed since; less what was escalated for the same due date before."""
    session = ctx.session
    rows = session.scalars(
        select(WorkItem)
        .join(
            TimetableEvent,
            and_(
                TimetableEvent.poll_id == WorkItem.poll_id,
                TimetableEvent.key == WorkItem.event_key,
                or_(
                    WorkItem.election_id.is_(None),
                    TimetableEvent.scope == "*",
                    TimetableEvent.scope == WorkItem.election_id,
                ),
            ),
        )
        .join(Poll, Poll.id == WorkItem.poll_id)
        .where(
            WorkItem.status == WorkStatus.OPEN,
            Poll.status == "planned",
            WorkItem.due_at < as_of,
            WorkItem.alerted_due_at == WorkItem.due_at,
            TimetableEvent.due_at < as_of,
            TimetableEvent.due_at > WorkItem.due_at,
        )
        .order_by(WorkItem.due_at, WorkItem.id)
    ).all()
    candidates = []
    for item in {item.id: item for item in rows}.values():  # one row per event it may meet
        event = ctx.event(item)
        if item.id not in handled and event is not None and item.due_at < event.due_at < as_of:
            candidates.append(item)
    if not candidates:
        return []
    raised = {
        (entry.poll_id, entry.subject, (entry.details or {}).get("due"))
        for entry in session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == MISSED,
                AuditEntry.poll_id.in_({item.poll_id for item in candidates}),
            )
        )
    }
    return [i for i in candidates if (i.poll_id, i.key, stamp(i.due_at)) not in raised]


def missed_messages(ctx: Context, poll: Poll, item: WorkItem, open_work: list[dict]) -> list[OutgoingMessage]:
    """To the manager and the Returning Officer (and deputies), and the team's webhook: once per
    statutory event and deadline, whichever of its work items a check finds first."""
    event = ctx.event(item)
    ident = f"{poll.id}:{event.key}:{event.scope}:{stamp(event.due_at)}" if event else f"{item.id}"
    details = open_work[0]
    out = [
        message(
            f"missed:{ident}:{person.id}",
            "missed",
            render("missed", person=person, poll=poll, item=details, open_work=open_work),
            to=person,
            poll_id=poll.id,
            work_item_id=item.id,
        )
        for person in ctx.holders(ctx.policy.missed_to)
    ]
    if settings.load().webhook_url:
        out.append(
            message(
                f"missed:{ident}:webhook",
                "missed",
                render(
                    "missed",
                    person={"name": "team", "email": ""},
                    poll=poll,
                    item=details,
                    open_work=open_work,
                ),
                recipient="webhook",
                channel="webhook",
                poll_id=poll.id,
                work_item_id=item.id,
            )
        )
    return out


def _event_payload(ctx: Context, poll: Poll, item: WorkItem, label: str) -> dict:
    event = ctx.event(item)
    election_id = item.election_id or (event.scope if event is not None and event.scope != "*" else None)
    return {
        "poll_key": poll.key,
        "work_item_id": item.id,
        "work_key": item.key,
        "event_key": item.event_key,
        "election_id": election_id,
        "due": local(item.due_at).isoformat(),
        "deadline": local(event.due_at).isoformat() if event is not None else None,
        "label": label,
    }
