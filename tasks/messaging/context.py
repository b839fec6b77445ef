"""What the messages about work say of it: its poll, its owner, the statutory event it delivers
and what it waits for, each looked up once for a whole scan (a busy check writes thousands)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from sqlmodel import Session, select

from store.identity.council import public_address
from store.models import Person, Poll, TimetableEvent, WorkItem
from store.owners import holders
from store.queries import event_for
from store.work import open_blockers
from tasks.messaging.policy import Policy, policy
from tasks.messaging.render import when
from timetables.clock import local


def stamp(moment: dt.datetime) -> str:
    """A moment as dedupe keys and the audit trail write it: '20270408T1600', UK time."""
    return local(moment).strftime("%Y%m%dT%H%M")


class Context:
    """Looks up what messages need (people, polls, statutory events, role holders), once each."""

    def __init__(self, session: Session):
        self.session = session
        self._people: dict[int, Person] = {}
        self._polls: dict[int, Poll] = {}
        self._events: dict[tuple[int, str], TimetableEvent | None] = {}
        self._holders: dict[tuple[str, ...], list[Person]] = {}

    @cached_property
    def policy(self) -> Policy:
        """The alert policy, read once per check."""
        return policy()

    @cached_property
    def address(self) -> str:
        """The workspace's public address, once per check (the council's details say it)."""
        return public_address(self.session)

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
            found = self.session.exec(
                select(TimetableEvent)
                .where(TimetableEvent.poll_id == item.poll_id, TimetableEvent.key == item.event_key)
                .order_by(TimetableEvent.due_at, TimetableEvent.id)
            ).all()
            self._events[ident] = event_for(found, item)
        return self._events[ident]

    def holders(self, roles: tuple[str, ...]) -> list[Person]:
        if roles not in self._holders:
            self._holders[roles] = holders(self.session, roles)
        return self._holders[roles]

    def item(self, item: WorkItem) -> dict:
        """The work item as the message templates see it."""
        event = self.event(item)
        owner = self.person(item.owner_id)
        return {
            "id": item.id,
            "url": f"{self.address}/work/{item.id}",  # where to see it and record it done
            "key": item.key,
            "title": item.title,
            "due_text": when(item.due_at),
            "event_label": event.label if event else None,
            "event_due_text": when(event.due_at) if event else None,
            "citation": event.citation if event else "",
            "owner_role": item.owner_role,
            "owner_text": f"{owner.name} <{owner.email}>" if owner else f"no one ({item.owner_role})",
            "unassigned": owner is None,
            "waits_for": [w.title for w in open_blockers(self.session, item)],
        }
