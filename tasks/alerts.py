"""What the deadline check sends: reminders that are due, overdue work, missed statutory
deadlines, and work no one owns; and each officer's morning digest.

Every message has a dedupe key, so it is queued once however many checks see it: a reminder by
its work item, label and due date; an overdue or missed alert by the work item and the due date
it was raised for. A moved deadline therefore reminds again, and alerts again if it is missed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from store.models import (
    Person,
    PersonRole,
    Poll,
    Reminder,
    TimetableEvent,
    WorkDependency,
    WorkItem,
)
from store.outbox import enqueue
from store.timeutil import LONDON, local
from tasks import settings
from tasks.messages import render, when

MANAGERS = ("electoral-services-manager",)
ESCALATION = ("electoral-services-manager", "returning-officer", "deputy-returning-officer")


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
        if not item.event_key:
            return None
        ident = (item.poll_id, f"{item.event_key}:{item.election_id or '*'}")
        if ident not in self._events:
            scope = item.election_id or "*"
            found = self.session.scalars(
                select(TimetableEvent).where(
                    TimetableEvent.poll_id == item.poll_id,
                    TimetableEvent.key == item.event_key,
                    TimetableEvent.scope.in_([scope, "*"]),
                )
            ).first()
            self._events[ident] = found
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
            "citation": event.citation if event else "",
            "owner_role": item.owner_role,
            "owner_text": f"{owner.name} <{owner.email}>" if owner else f"no one ({item.owner_role})",
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

    # Reminders whose time has come, for work still open and not yet due.
    due = session.execute(
        select(Reminder, WorkItem)
        .join(WorkItem, WorkItem.id == Reminder.work_item_id)
        .where(Reminder.sent_at.is_(None), Reminder.remind_at <= as_of, WorkItem.status == "open")
        .order_by(Reminder.remind_at)
    ).all()
    for reminder, item in due:
        reminder.sent_at = as_of
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
            result.unassigned += 1
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
            result.approaching_events.append(_event_payload(poll, item, reminder.label))

    # Work past its due date, alerted once per due date; statutory deadlines escalate.
    overdue = session.scalars(
        select(WorkItem)
        .where(
            WorkItem.status == "open",
            WorkItem.due_at <= as_of,
            or_(WorkItem.alerted_due_at.is_(None), WorkItem.alerted_due_at != WorkItem.due_at),
        )
        .order_by(WorkItem.due_at)
    ).all()
    for item in overdue:
        item.alerted_due_at = item.due_at
        poll = ctx.poll(item.poll_id)
        stamp = _stamp(item.due_at)
        owner = ctx.person(item.owner_id)
        details = ctx.item(item)
        if owner is not None:
            messages.append(
                _message(
                    "overdue",
                    f"overdue:{item.id}:{stamp}",
                    owner,
                    poll,
                    item,
                    render("overdue", person=owner, poll=poll, item=details),
                )
            )
        result.overdue += 1
        if item.event_key and ctx.event(item) is not None:
            result.missed += 1
            result.missed_events.append(_event_payload(poll, item, "missed"))
            messages.extend(missed_messages(ctx, poll, item, details))
    result.queued = enqueue(session, messages)
    return result


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


def _event_payload(poll: Poll, item: WorkItem, label: str) -> dict:
    return {
        "poll_key": poll.key,
        "work_item_id": item.id,
        "work_key": item.key,
        "event_key": item.event_key,
        "election_id": item.election_id,
        "due": local(item.due_at).isoformat(),
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
        if change.work_item_id is None or change.owner_id is None:
            continue
        item = session.get(WorkItem, change.work_item_id)
        owner = ctx.person(change.owner_id)
        if item is None or owner is None or item.status != "open":
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
