"""What the messages about work say of it: its poll, its owner, the statutory event it delivers
and what it waits for, each looked up once for a whole scan (a busy check writes thousands)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cached_property

from sqlmodel import Session, select

from store.identity.council import council_name, public_address
from store.models import Person, Poll, TimetableEvent, WorkItem
from store.owners import holders
from store.queries import CHUNK, event_for
from store.work import open_blockers, open_blockers_of
from tasks.messaging.policy import Policy, policy
from tasks.messaging.render import when
from timetables.clock import local


def stamp(moment: dt.datetime) -> str:
    """A moment as dedupe keys and the audit trail write it: '20270408T1600', UK time."""
    return local(moment).strftime("%Y%m%dT%H%M")


def _event_ident(item: WorkItem) -> tuple[int, str]:
    return (item.poll_id, f"{item.event_key}:{item.election_id or '*'}")


class Context:
    """Looks up what messages need (people, polls, statutory events, role holders), once each."""

    def __init__(self, session: Session):
        self.session = session
        self._people: dict[int, Person] = {}
        self._polls: dict[int, Poll] = {}
        self._events: dict[tuple[int, str], TimetableEvent | None] = {}
        self._holders: dict[tuple[str, ...], list[Person]] = {}
        self._poll_events: dict[int, dict[str, list[TimetableEvent]]] = {}  # by key, soonest first
        self._blockers: dict[int, list[WorkItem]] = {}  # only for the work a scan prefetched

    @cached_property
    def policy(self) -> Policy:
        """The alert policy, read once per check."""
        return policy()

    @cached_property
    def address(self) -> str:
        """The workspace's public address, once per check (the council's details say it)."""
        return public_address(self.session)

    @cached_property
    def council(self) -> str:
        """The council's name, as every message signs off with it, once per check."""
        return council_name(self.session)

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
        ident = _event_ident(item)
        if ident in self._events:
            return self._events[ident]
        if item.poll_id in self._poll_events:  # read whole by prefetch
            found = self._poll_events[item.poll_id].get(item.event_key, [])
        else:
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

    def prefetch(self, items: Iterable[WorkItem]) -> None:
        """Look up all that ``item`` will want for ``items`` (their polls, owners, statutory
        events and what they wait for) in a query or so each for them all: a scan renders
        hundreds, and a query an item (a poll, a person) was nearly all its statements.

        Only a scan should, as it changes no work's status: what work waits for is kept for the
        whole Context, and the other callers render after a status changed (a completion's)."""
        items = list(items)
        self._fetch(Poll, self._polls, {i.poll_id for i in items})
        self._fetch(Person, self._people, {i.owner_id for i in items if i.owner_id is not None})
        self._fetch_events([i for i in items if i.event_key and _event_ident(i) not in self._events])
        unknown = [i for i in items if i.id not in self._blockers]
        self._blockers.update(open_blockers_of(self.session, unknown))

    def _fetch(self, model: type[Poll] | type[Person], known: dict, ids: set[int]) -> None:
        wanted = sorted(ids - known.keys())
        for start in range(0, len(wanted), CHUNK):
            batch = wanted[start : start + CHUNK]
            known.update((row.id, row) for row in self.session.exec(select(model).where(model.id.in_(batch))))
            known.update((i, None) for i in batch if i not in known)  # as session.get finds nothing

    def _fetch_events(self, items: list[WorkItem]) -> None:
        """``event`` for each of ``items``, from one query for all the events of their polls not
        read before (a poll has some tens: fewer statements than asking for each key wanted)."""
        polls = sorted({i.poll_id for i in items} - self._poll_events.keys())
        for start in range(0, len(polls), CHUNK):
            batch = polls[start : start + CHUNK]
            self._poll_events.update((p, {}) for p in batch)
            for row in self.session.exec(
                select(TimetableEvent)
                .where(TimetableEvent.poll_id.in_(batch))
                .order_by(TimetableEvent.due_at, TimetableEvent.id)  # soonest first, as ``event`` asks
            ):
                self._poll_events[row.poll_id].setdefault(row.key, []).append(row)
        for item in items:
            self.event(item)

    def waits_for(self, item: WorkItem) -> list[WorkItem]:
        if item.id in self._blockers:
            return self._blockers[item.id]
        return open_blockers(self.session, item)

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
            "waits_for": [w.title for w in self.waits_for(item)],
        }
