"""What the store holds for a poll, read once: its elections, council details, timetable events,
candidates and work items, as ``Sources``.

Every part of the catalogue (which documents apply, when they are due, what they say) is a
function of ``Sources`` and a scope, so that a run of ``produce`` reads the store once and every
document in it is drawn up from the same data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, select

from store.documents.candidates import candidates_of
from store.documents.council_details import Details, load_details
from store.models import Election, Poll, TimetableEvent, WorkItem
from store.models.documents import Candidate
from timetables.errors import PollflowError


@dataclass
class Sources:
    session: Session
    poll: Poll
    elections: list[Election]
    details: Details | None
    events: dict[str, dict[str, TimetableEvent]]  # scope -> key -> event
    candidates: dict[str, list[Candidate]]
    as_of: dt.datetime
    work: dict[str, WorkItem] = field(default_factory=dict)

    def election(self, election_id: str) -> Election:
        for e in self.elections:
            if e.election_id == election_id:
                return e
        raise PollflowError(f"{election_id} is not an election of {self.poll.key}")

    def event(self, key: str, election_id: str) -> TimetableEvent | None:
        own = self.events.get(election_id, {}).get(key)
        return own or self.events.get("*", {}).get(key)

    def events_for(self, election_id: str) -> dict[str, TimetableEvent]:
        return {**self.events.get("*", {}), **self.events.get(election_id, {})}


def load_sources(session: Session, poll: Poll, as_of: dt.datetime) -> Sources:
    elections = list(
        session.exec(select(Election).where(Election.poll_id == poll.id).order_by(Election.id)).all()
    )
    events: dict[str, dict[str, TimetableEvent]] = {}
    for row in session.exec(select(TimetableEvent).where(TimetableEvent.poll_id == poll.id)).all():
        events.setdefault(row.scope, {})[row.key] = row
    candidates: dict[str, list[Candidate]] = {}
    for c in candidates_of(session, poll):
        candidates.setdefault(c.election_id, []).append(c)
    work = {w.key: w for w in session.exec(select(WorkItem).where(WorkItem.poll_id == poll.id)).all()}
    return Sources(session, poll, elections, load_details(session, poll), events, candidates, as_of, work)
