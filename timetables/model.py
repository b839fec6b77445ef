"""What the engine returns: a timetable of events, each with its date, time and legal source."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import pendulum

TIMEZONE = "Europe/London"
END_OF_DAY = dt.time(23, 59, 59)


@dataclass(frozen=True, slots=True)
class EventInfo:
    """What the law says about an event, the same for every poll the rule applies to."""

    key: str
    label: str
    citation: str
    basis: str = "legislation"
    calendar: str | None = None
    until: dt.time | None = None
    settable: bool = False


# Not frozen: a frozen dataclass costs six times as much to build, and a timetable builds dozens.
# Treat events as values all the same.
@dataclass(slots=True)
class Event:
    """One statutory event of a timetable: when it falls for this poll, and why.

    ``date`` is the deadline (or the day the event happens); ``earliest`` is the first allowed day
    of a window, or None. ``bound`` says which: ``on`` (a fixed day), ``latest`` (a deadline),
    ``window``, ``asap`` ("as soon as practicable after", from ``date``) or ``assumed`` (a date
    someone chooses, shown at its usual day until it is set). ``info`` holds what does not depend
    on the poll (key, label, citation, basis, calendar), also readable as the event's own
    attributes.
    """

    info: EventInfo
    date: dt.date
    time: dt.time | None
    earliest: dt.date | None
    provisional: bool
    election_id: str | None
    bound: str = "latest"
    overridden: bool = False

    key = property(lambda self: self.info.key)
    label = property(lambda self: self.info.label)
    citation = property(lambda self: self.info.citation)
    basis = property(lambda self: self.info.basis)
    calendar = property(lambda self: self.info.calendar)
    until = property(lambda self: self.info.until)
    settable = property(lambda self: self.info.settable)

    @property
    def deadline(self) -> pendulum.DateTime:
        """The moment the event falls due, in Europe/London; the end of the day if no time."""
        at = self.time or END_OF_DAY
        return pendulum.datetime(
            self.date.year,
            self.date.month,
            self.date.day,
            at.hour,
            at.minute,
            at.second,
            tz=TIMEZONE,
        )

    @property
    def starts(self) -> pendulum.DateTime:
        """The start of the event's day (or window), in Europe/London."""
        day = self.earliest or self.date
        return pendulum.datetime(day.year, day.month, day.day, tz=TIMEZONE)

    def to_dict(self) -> dict:
        info = self.info
        return {
            "key": info.key,
            "label": info.label,
            "date": self.date.isoformat(),
            "time": self.time.strftime("%H:%M") if self.time else None,
            "until": info.until.strftime("%H:%M") if info.until else None,
            "earliest": self.earliest.isoformat() if self.earliest else None,
            "bound": self.bound,
            "citation": info.citation,
            "basis": info.basis,
            "calendar": info.calendar,
            "provisional": self.provisional,
            "settable": info.settable,
            "overridden": self.overridden,
            "election_id": self.election_id,
        }


@dataclass(slots=True)
class ElectionRef:
    """One election of a (possibly combined) timetable."""

    election_id: str
    kind: str
    nation: str
    title: str


@dataclass(slots=True)
class Timetable:
    election_id: str
    kind: str
    nation: str
    poll_date: dt.date
    title: str
    events: tuple[Event, ...]
    warnings: tuple[str, ...] = ()
    elections: tuple[ElectionRef, ...] = field(default_factory=tuple)
    # A registration year (canvass.YYYY): poll_date is then its 1 December, the day the revised
    # register is due, not a polling day.
    registration_year: int | None = None

    @property
    def combined(self) -> bool:
        return len(self.elections) > 1

    def find(self, key: str, election_id: str | None = None) -> list[Event]:
        """Every event with this key (one per election where a combined poll keeps its own)."""
        return [
            e
            for e in self.events
            if e.key == key and (election_id is None or e.election_id in (election_id, None))
        ]

    def get(self, key: str, election_id: str | None = None) -> Event | None:
        found = self.find(key, election_id)
        return found[0] if len(found) == 1 else None

    def __getitem__(self, key: str) -> Event:
        found = self.find(key)
        if len(found) != 1:
            raise KeyError(f"{key}: {'no such event' if not found else 'one per election; use find()'}")
        return found[0]

    def __contains__(self, key: str) -> bool:
        return any(e.key == key for e in self.events)

    def keys(self) -> list[str]:
        return list(dict.fromkeys(e.key for e in self.events))

    def to_dict(self) -> dict:
        return {
            "election_id": self.election_id,
            "kind": self.kind,
            "nation": self.nation,
            "poll_date": None if self.registration_year else self.poll_date.isoformat(),
            "registration_year": self.registration_year,
            "title": self.title,
            "elections": [asdict(e) for e in self.elections],
            "warnings": list(self.warnings),
            "events": [e.to_dict() for e in self.events],
        }
