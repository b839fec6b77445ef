"""Each officer's morning digest: their work due today, due in the next week, and overdue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlmodel import Session

from store.db import session_scope
from store.models import Person, Poll, WorkItem, WorkStatus
from store.outbox import enqueue, message
from tasks.messaging.render import render, when
from timetables.clock import LONDON, local


def queue_digests(as_of: dt.datetime) -> int:
    """The daily digest's step: ``digest``, in a transaction of its own."""
    with session_scope() as session:
        return digest(session, as_of)


def digest(session: Session, as_of: dt.datetime) -> int:
    """Each officer's morning list: due today, due in the next week, overdue. Once a day."""
    today = local(as_of).date()
    end_of_day = dt.datetime.combine(today, dt.time.max, tzinfo=LONDON)
    week_end = end_of_day + dt.timedelta(days=7)
    rows = session.execute(
        select(WorkItem, Poll)
        .join(Poll, Poll.id == WorkItem.poll_id)
        .where(
            WorkItem.status == WorkStatus.OPEN,
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
        messages.append(
            message(
                f"digest:{person.id}:{today.isoformat()}",
                "digest",
                render("digest", person=person, day_text=f"{today:%A} {today.day} {today:%B}", **lists),
                to=person,
                useful_until=end_of_day,  # tomorrow's digest replaces it
            )
        )
    return enqueue(session, messages)
