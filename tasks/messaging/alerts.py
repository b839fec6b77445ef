"""What the deadline check sends: reminders that are due, overdue work, missed statutory
deadlines, and work no one owns; and each officer's morning digest.

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

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from store.audit import record
from store.models import (
    AuditEntry,
    Person,
    PersonRole,
    Poll,
    Reminder,
    TimetableEvent,
    WorkDependency,
    WorkItem,
)
from store.outbox import enqueue
from tasks import settings
from tasks.messaging.render import render, when
from timetables.clock import LONDON, local

MANAGERS = ("electoral-services-manager",)
ESCALATION = ("electoral-services-manager", "returning-officer", "deputy-returning-officer")
MISSED = "statutory deadline missed"  # the audit action that records an escalation


@dataclass
class ScanResult:
    as_of: dt.datetime
    reminders: int = 0
    overdue: int = 0
    missed: int = 0
    unassigned: int = 0
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
            "messages_queued": self.queued,
        }


class _Context:
    """Looks up what messages need (people, polls, statutory events), once per scan."""

    def __init__(self, session: Session):
        self.session = session
        self._people: dict[int, Person] = {}
        self._polls: dict[int, Poll] = {}
        self._events: dict[tuple[int, str], TimetableEvent] = {}
        self._roles: dict[str, list[Person]] | None = None

    def person(self, person_id: int | None) -> Person | None:
        if person_id is None:
            return None
        if person_id not in self._people:
            self._people[person_id] = self.session.get(Person, person_id)
        return self._people[person_id]

    def poll(self, poll_id: int) -> Poll:
        if poll_id not in self._polls:
            self._polls[poll_id] = self.session.get(Poll, poll_id)
        return self._polls[poll_id]

    def event(self, item: WorkItem) -> TimetableEvent | None:
        """The statutory event the work delivers: its election's own, or the poll's shared one.

        Where the work is one task for the whole poll but the event is each election's own (an
        overlay's task, say), the earliest deadline is the one that matters.
        """
        if not item.event_key:
            return None
        ident = (item.poll_id, f"{item.event_key}:{item.election_id or '*'}")
        if ident not in self._events:
            found = self.session.scalars(
                select(TimetableEvent)
                .where(TimetableEvent.poll_id == item.poll_id, TimetableEvent.key == item.event_key)
                .order_by(TimetableEvent.due_at, TimetableEvent.id)
            ).all()
            scopes = [item.election_id, "*"] if item.election_id else ["*"]
            own = [e for e in found if e.scope in scopes]
            self._events[ident] = (own or ([] if item.election_id else found) or [None])[0]
        return self._events[ident]

    def holders(self, roles: tuple[str, ...]) -> list[Person]:
        if self._roles is None:
            self._roles = {}
            rows = self.session.execute(
                select(PersonRole.role, Person)
                .join(Person, Person.id == PersonRole.person_id)
                .where(Person.active)
            ).all()
            for role, person in rows:
                self._roles.setdefault(role, []).append(person)
        found: dict[int, Person] = {}
        for role in roles:
            for person in self._roles.get(role, []):
                found[person.id] = person
        return sorted(found.values(), key=lambda p: p.email)

    def waits_for(self, item: WorkItem) -> list[str]:
        rows = self.session.scalars(
            select(WorkItem)
            .join(WorkDependency, WorkDependency.depends_on_id == WorkItem.id)
            .where(WorkDependency.work_item_id == item.id, WorkItem.status == "open")
        ).all()
        return [w.title for w in rows]

    def item(self, item: WorkItem) -> dict:
        event = self.event(item)
        owner = self.person(item.owner_id)
        return {
            "id": item.id,
            "key": item.key,
            "title": item.title,
            "due_text": when(item.due_at),
            "event_label": event.label if event else None,
            "event_due_text": when(event.due_at) if event else None,
            "citation": event.citation if event else "",
            "owner_role": item.owner_role,
            "owner_text": f"{owner.name} <{owner.email}>" if owner else f"no one ({item.owner_role})",
            "unassigned": owner is None,
            "waits_for": self.waits_for(item),
        }


def _message(kind, dedupe, person: Person, poll: Poll, item: WorkItem, subject_body) -> dict:
    subject, body = subject_body
    return {
        "dedupe_key": dedupe,
        "kind": kind,
        "channel": "email",
        "recipient": person.email,
        "subject": subject,
        "body": body,
        "poll_id": poll.id,
        "person_id": person.id,
        "work_item_id": item.id,
    }


def _stamp(moment: dt.datetime) -> str:
    return local(moment).strftime("%Y%m%dT%H%M")


def scan(session: Session, as_of: dt.datetime) -> ScanResult:
    """Queue every reminder, alert and escalation due by ``as_of``; each exactly once."""
    result = ScanResult(as_of=as_of)
    ctx = _Context(session)
    messages: list[dict] = []

    # Reminders whose time has come, for work still open and not yet due. Where several of an
    # item's reminders have come due since the last check (planned late, or no check ran), only
    # the latest is sent: two reminders at once for the same work say nothing the one does not.
    due = session.execute(
        select(Reminder, WorkItem)
        .join(WorkItem, WorkItem.id == Reminder.work_item_id)
        .join(Poll, Poll.id == WorkItem.poll_id)
        .where(
            Reminder.sent_at.is_(None),
            Reminder.remind_at <= as_of,
            WorkItem.status == "open",
            Poll.status == "planned",
        )
        .order_by(Reminder.remind_at, Reminder.id)
    ).all()
    latest: dict[int, tuple[Reminder, WorkItem]] = {}
    for reminder, item in due:
        reminder.sent_at = as_of
        latest[item.id] = (reminder, item)
    unassigned: set[int] = set()
    for reminder, item in latest.values():
        if item.due_at <= as_of:
            continue  # overtaken: the overdue alert says it instead
        poll = ctx.poll(item.poll_id)
        owner = ctx.person(item.owner_id)
        if owner is None:
            for manager in ctx.holders(MANAGERS):
                messages.append(
                    _message(
                        "unassigned",
                        f"unassigned:{item.id}:{_stamp(item.due_at)}:{manager.id}",
                        manager,
                        poll,
                        item,
                        render("unassigned", person=manager, poll=poll, item=ctx.item(item)),
                    )
                )
            unassigned.add(item.id)
            continue
        messages.append(
            _message(
                "reminder",
                f"reminder:{item.id}:{reminder.label}:{_stamp(item.due_at)}",
                owner,
                poll,
                item,
                render("reminder", person=owner, poll=poll, item=ctx.item(item), label=reminder.label),
            )
        )
        result.reminders += 1
        if item.event_key:
            result.approaching_events.append(_event_payload(ctx, poll, item, reminder.label))
    result.unassigned = len(unassigned)

    # Work past its due date, alerted once per due date: to its owner, or to the managers when
    # no one owns it. Statutory work whose statutory deadline has passed too is missed.
    overdue = session.scalars(
        select(WorkItem)
        .join(Poll, Poll.id == WorkItem.poll_id)
        .where(
            WorkItem.status == "open",
            Poll.status == "planned",
            WorkItem.due_at < as_of,
            or_(WorkItem.alerted_due_at.is_(None), WorkItem.alerted_due_at != WorkItem.due_at),
        )
        .order_by(WorkItem.due_at, WorkItem.id)
    ).all()
    missed: list[WorkItem] = []
    for item in overdue:
        item.alerted_due_at = item.due_at
        poll = ctx.poll(item.poll_id)
        stamp = _stamp(item.due_at)
        owner = ctx.person(item.owner_id)
        details = ctx.item(item)
        recipients = [owner] if owner is not None else ctx.holders(MANAGERS)
        for person in recipients:
            suffix = "" if owner is not None else f":{person.id}"
            messages.append(
                _message(
                    "overdue",
                    f"overdue:{item.id}:{stamp}{suffix}",
                    person,
                    poll,
                    item,
                    render("overdue", person=person, poll=poll, item=details),
                )
            )
        result.overdue += 1
        event = ctx.event(item)
        if event is not None and event.due_at < as_of:
            missed.append(item)
    # Statutory work alerted as overdue earlier, whose statutory deadline came later than the
    # work's own due time (a notice due by 17:00 may lawfully go up until midnight) and has now
    # passed too.
    missed.extend(_missed_since_overdue(ctx, as_of, {item.id for item in missed}))

    # Missed statutory deadlines: escalated once per due date, and written to the audit trail.
    for item in missed:
        poll = ctx.poll(item.poll_id)
        payload = _event_payload(ctx, poll, item, "missed")
        record(
            session,
            "flow:check-deadlines",
            MISSED,
            poll_id=poll.id,
            subject=item.key,
            details={
                "work_item_id": item.id,
                "due": _stamp(item.due_at),
                "event_key": item.event_key,
                "deadline": payload["deadline"],
            },
        )
        result.missed += 1
        result.missed_events.append(payload)
        messages.extend(missed_messages(ctx, poll, item, ctx.item(item)))
    result.queued = enqueue(session, messages)
    return result


def _missed_since_overdue(ctx: _Context, as_of: dt.datetime, handled: set[int]) -> list[WorkItem]:
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
            WorkItem.status == "open",
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
    return [i for i in candidates if (i.poll_id, i.key, _stamp(i.due_at)) not in raised]


def missed_messages(ctx: _Context, poll: Poll, item: WorkItem, details: dict) -> list[dict]:
    """To the manager and the Returning Officer (and deputies), and the team's webhook."""
    stamp = _stamp(item.due_at)
    out = []
    for person in ctx.holders(ESCALATION):
        out.append(
            _message(
                "missed",
                f"missed:{item.id}:{stamp}:{person.id}",
                person,
                poll,
                item,
                render("missed", person=person, poll=poll, item=details),
            )
        )
    if not settings.load().webhook_url:
        return out
    subject, body = render("missed", person={"name": "team", "email": ""}, poll=poll, item=details)
    out.append(
        {
            "dedupe_key": f"missed:{item.id}:{stamp}:webhook",
            "kind": "missed",
            "channel": "webhook",
            "recipient": "webhook",
            "subject": subject,
            "body": body,
            "poll_id": poll.id,
            "work_item_id": item.id,
        }
    )
    return out


def _event_payload(ctx: _Context, poll: Poll, item: WorkItem, label: str) -> dict:
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


def digest(session: Session, as_of: dt.datetime) -> int:
    """Each officer's morning list: due today, due in the next week, overdue. Once a day."""
    today = local(as_of).date()
    end_of_day = dt.datetime.combine(today, dt.time.max, tzinfo=LONDON)
    week_end = end_of_day + dt.timedelta(days=7)
    rows = session.execute(
        select(WorkItem, Poll)
        .join(Poll, Poll.id == WorkItem.poll_id)
        .where(
            WorkItem.status == "open",
            WorkItem.owner_id.is_not(None),
            WorkItem.due_at <= week_end,
            Poll.status == "planned",
        )
        .order_by(WorkItem.due_at)
    ).all()
    by_person: dict[int, dict[str, list]] = {}
    for item, poll in rows:
        lists = by_person.setdefault(item.owner_id, {"overdue": [], "today": [], "week": []})
        entry = {
            "title": item.title,
            "due_text": when(item.due_at),
            "due_time": local(item.due_at).strftime("%H:%M"),
            "poll_title": poll.title,
        }
        if item.due_at < as_of:
            lists["overdue"].append(entry)
        elif item.due_at <= end_of_day:
            lists["today"].append(entry)
        else:
            lists["week"].append(entry)
    messages = []
    for person_id, lists in by_person.items():
        person = session.get(Person, person_id)
        if person is None or not person.active:
            continue
        subject, body = render(
            "digest", person=person, day_text=f"{today:%A} {today.day} {today:%B}", **lists
        )
        messages.append(
            {
                "dedupe_key": f"digest:{person.id}:{today.isoformat()}",
                "kind": "digest",
                "channel": "email",
                "recipient": person.email,
                "subject": subject,
                "body": body,
                "person_id": person.id,
            }
        )
    return enqueue(session, messages)


def moved_messages(session: Session, poll: Poll, moved: list, reason: str) -> int:
    """Tell the owner of each work item whose due date moved."""
    ctx = _Context(session)
    messages = []
    for change in moved:
        if change.work_item_id is None:
            continue
        item = session.get(WorkItem, change.work_item_id)
        if item is None or item.status != "open":
            continue
        owner = ctx.person(item.owner_id)  # whoever owns it now
        if owner is None:
            continue
        messages.append(
            _message(
                "moved",
                f"moved:{item.id}:{_stamp(change.old)}:{_stamp(change.new)}",
                owner,
                poll,
                item,
                render(
                    "moved",
                    person=owner,
                    poll=poll,
                    item=ctx.item(item),
                    old_due_text=when(change.old),
                    reason=reason,
                ),
            )
        )
    return enqueue(session, messages)


def unblocked_messages(session: Session, done: WorkItem, by: Person) -> int:
    """Tell the owners of work that waited for ``done`` that it is ready."""
    ctx = _Context(session)
    poll = ctx.poll(done.poll_id)
    waiting = session.scalars(
        select(WorkItem)
        .join(WorkDependency, WorkDependency.work_item_id == WorkItem.id)
        .where(and_(WorkDependency.depends_on_id == done.id, WorkItem.status == "open"))
    ).all()
    messages = []
    for item in waiting:
        owner = ctx.person(item.owner_id)
        if owner is None:
            continue
        messages.append(
            _message(
                "unblocked",
                f"unblocked:{item.id}:{done.id}",
                owner,
                poll,
                item,
                render(
                    "unblocked",
                    person=owner,
                    poll=poll,
                    item=ctx.item(item),
                    done={"title": done.title, "by": by.name},
                ),
            )
        )
    return enqueue(session, messages)
