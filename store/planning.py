"""Planning a poll into the store: its timetable, work items, owners and reminders.

``sync_poll`` makes the store match a computed plan. It creates what is missing, updates what
changed, cancels work that no longer applies and leaves everything else alone, so planning the
same poll twice changes nothing, and replanning (a moved polling day, a day of mourning, a new
override) changes exactly what moved and says so. Owners assigned by hand or earlier stay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, select

from store.audit import record
from store.models import (
    DateOverride,
    Election,
    Poll,
    Reminder,
    TimetableEvent,
    WorkDependency,
    WorkItem,
    WorkStatus,
    utcnow,
)
from store.owners import OwnerPicker
from timetables.clock import long_date
from timetables.errors import PollflowError
from timetables.model import Timetable
from timetables.work import PlannedTask


@dataclass
class Moved:
    key: str
    old: dt.datetime
    new: dt.datetime
    owner_id: int | None = None
    work_item_id: int | None = None


@dataclass
class Changes:
    poll_created: bool = False
    events_added: list[str] = field(default_factory=list)
    events_moved: list[Moved] = field(default_factory=list)
    events_removed: list[str] = field(default_factory=list)
    work_added: list[str] = field(default_factory=list)
    work_moved: list[Moved] = field(default_factory=list)
    work_cancelled: list[str] = field(default_factory=list)
    work_reopened: list[str] = field(default_factory=list)
    reminders_added: int = 0
    reminders_moved: int = 0
    assigned: dict[str, str] = field(default_factory=dict)  # work key -> email
    unassigned: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.poll_created,
                self.events_added,
                self.events_moved,
                self.events_removed,
                self.work_added,
                self.work_moved,
                self.work_cancelled,
                self.work_reopened,
                self.reminders_added,
                self.reminders_moved,
            )
        )

    def summary(self) -> dict:
        return {
            "poll_created": self.poll_created,
            "events_added": len(self.events_added),
            "events_moved": [
                {"key": m.key, "from": m.old.isoformat(), "to": m.new.isoformat()} for m in self.events_moved
            ],
            "events_removed": self.events_removed,
            "work_added": len(self.work_added),
            "work_moved": [
                {"key": m.key, "from": m.old.isoformat(), "to": m.new.isoformat()} for m in self.work_moved
            ],
            "work_cancelled": self.work_cancelled,
            "work_reopened": self.work_reopened,
            "reminders_added": self.reminders_added,
            "reminders_moved": self.reminders_moved,
            "unassigned": self.unassigned,
        }


def _same_moment(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    return a == b  # aware datetimes compare by instant


def poll_title(tt: Timetable) -> str:
    """'Wychwood council election and Wychwood Parishes parish and town council elections,
    Thursday 6 May 2027'."""
    from timetables.ids import describe

    names = list(dict.fromkeys(describe(e.election_id, e.kind) for e in tt.elections))
    if tt.registration_year:  # 'Wychwood registration year 2027': no polling day to name
        return names[0]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{joined}, {long_date(tt.poll_date)}"


def sync_poll(
    session: Session,
    poll_key: str,
    tt: Timetable,
    planned: list[PlannedTask],
    *,
    overrides: dict[str, str],
    overlay: str | None,
    actor: str,
    flow_run_id: str | None = None,
) -> tuple[Poll, Changes]:
    changes = Changes()
    audit = dict(flow_run_id=flow_run_id)

    title = poll_title(tt)
    poll = session.exec(select(Poll).where(Poll.key == poll_key)).first()
    if poll is None:
        poll = Poll(key=poll_key, title=title, nation=tt.nation, poll_date=tt.poll_date, overlay=overlay)
        session.add(poll)
        session.flush()
        changes.poll_created = True
    elif (poll.poll_date, poll.title, poll.overlay, poll.status) != (tt.poll_date, title, overlay, "planned"):
        if poll.poll_date != tt.poll_date:
            record(
                session,
                actor,
                "polling day moved",
                poll_id=poll.id,
                subject="poll",
                details={"from": poll.poll_date.isoformat(), "to": tt.poll_date.isoformat()},
                **audit,
            )
        poll.poll_date, poll.title, poll.overlay, poll.status = tt.poll_date, title, overlay, "planned"
        poll.updated_at = utcnow()

    renamed = _sync_elections(session, poll, tt)
    if renamed:
        _rename_scoped(session, poll, renamed)
    _sync_overrides(session, poll, overrides, actor)
    _sync_events(session, poll, tt, changes)
    _sync_work(session, poll, planned, changes)

    if changes.poll_created:
        record(
            session,
            actor,
            "planned",
            poll_id=poll.id,
            subject=poll.key,
            details=changes.summary(),
            **audit,
        )
    elif changes.changed:
        record(
            session,
            actor,
            "replanned",
            poll_id=poll.id,
            subject=poll.key,
            details=changes.summary(),
            **audit,
        )
    for moved in changes.events_moved:
        record(
            session,
            actor,
            "deadline moved",
            poll_id=poll.id,
            subject=moved.key,
            details={"from": moved.old.isoformat(), "to": moved.new.isoformat()},
            **audit,
        )
    for moved in changes.work_moved:
        record(
            session,
            actor,
            "work due date moved",
            poll_id=poll.id,
            subject=moved.key,
            details={"from": moved.old.isoformat(), "to": moved.new.isoformat()},
            **audit,
        )
    for key, email in changes.assigned.items():
        record(
            session,
            actor,
            "work assigned",
            poll_id=poll.id,
            subject=key,
            details={"owner": email},
            **audit,
        )
    return poll, changes


def _undated(election_id: str) -> str:
    return election_id.rsplit(".", 1)[0]


def _sync_elections(session: Session, poll: Poll, tt: Timetable) -> dict[str, str]:
    """The poll's elections; when polling day moves, their ids move with it (the poll's key, its
    identity in the store and the audit trail, stays). Returns the ids that moved, old -> new."""
    stored = {
        _undated(e.election_id): e for e in session.exec(select(Election).where(Election.poll_id == poll.id))
    }
    renamed = {
        row.election_id: ref.election_id
        for ref in tt.elections
        if (row := stored.get(_undated(ref.election_id))) is not None and row.election_id != ref.election_id
    }
    wanted = set()
    for ref in tt.elections:
        wanted.add(_undated(ref.election_id))
        row = stored.get(_undated(ref.election_id))
        if row is None:
            session.add(
                Election(
                    election_id=ref.election_id,
                    poll_id=poll.id,
                    kind=ref.kind,
                    nation=ref.nation,
                    title=ref.title,
                )
            )
        elif (row.election_id, row.kind, row.nation, row.title) != (
            ref.election_id,
            ref.kind,
            ref.nation,
            ref.title,
        ):
            row.election_id, row.kind, row.nation, row.title = (
                ref.election_id,
                ref.kind,
                ref.nation,
                ref.title,
            )
    for key, row in stored.items():
        if key not in wanted:
            session.delete(row)
    return renamed


def _rename_scoped(session: Session, poll: Poll, renamed: dict[str, str]) -> None:
    """Carry everything a combined poll keeps per election over to the elections' new ids, so
    that moving polling day moves it (keeping owners, completion, candidates, documents and
    history) rather than orphaning it under an id that no longer exists: events, work (whose
    keys name the election as one ``:``-separated part, as in ``publish_sopn:<election>`` or
    ``proof_sopn:<election>:v2``), candidates, documents and the council's details."""
    from store.models.documents import Candidate, Document, DocumentDetails

    def moved(key: str) -> str:
        return ":".join(renamed.get(part, part) for part in key.split(":"))

    for event in session.exec(select(TimetableEvent).where(TimetableEvent.poll_id == poll.id)):
        event.scope = renamed.get(event.scope, event.scope)
    for item in session.exec(select(WorkItem).where(WorkItem.poll_id == poll.id)):
        item.key = moved(item.key)
        if item.election_id in renamed:
            item.election_id = renamed[item.election_id]
    for candidate in session.exec(select(Candidate).where(Candidate.poll_id == poll.id)):
        candidate.election_id = renamed.get(candidate.election_id, candidate.election_id)
    for doc in session.exec(select(Document).where(Document.poll_id == poll.id)):
        doc.scope = moved(doc.scope)
    details = session.exec(select(DocumentDetails).where(DocumentDetails.poll_id == poll.id)).first()
    if details is not None and details.data.get("elections"):
        # A new dict, not an edit in place: the JSON column only notices assignment.
        details.data = {
            **details.data,
            "elections": {renamed.get(k, k): v for k, v in details.data["elections"].items()},
        }
    session.flush()


def _sync_overrides(session: Session, poll: Poll, overrides: dict[str, str], actor: str) -> None:
    stored = {o.key: o for o in session.exec(select(DateOverride).where(DateOverride.poll_id == poll.id))}
    for key, value in overrides.items():
        row = stored.get(key)
        if row is None:
            session.add(DateOverride(poll_id=poll.id, key=key, value=value, set_by=actor))
            record(session, actor, "date set", poll_id=poll.id, subject=key, details={"value": value})
        elif row.value != value:
            record(
                session,
                actor,
                "date set",
                poll_id=poll.id,
                subject=key,
                details={"value": value, "was": row.value},
            )
            row.value, row.set_by, row.set_at = value, actor, utcnow()
    for key, row in stored.items():
        if key not in overrides:
            record(
                session,
                actor,
                "date unset",
                poll_id=poll.id,
                subject=key,
                details={"was": row.value},
            )
            session.delete(row)


@dataclass
class ReplanInputs:
    """What a replan recomputes from: the stored plan, with the changes asked for."""

    poll_key: str
    election_ids: list[str]  # for the (perhaps new) polling day
    kinds: list[str]
    nations: list[str]
    overrides: dict[str, str]
    overlay: str | None


def with_date(election_id: str, poll_date: dt.date) -> str:
    """The same election id for another polling day (a registration year's id has none)."""
    if election_id.startswith("canvass."):
        return election_id
    return election_id.rsplit(".", 1)[0] + "." + poll_date.isoformat()


def replan_inputs(
    session: Session,
    election_id: str,
    poll_date: dt.date | None = None,
    overrides: dict[str, str] | None = None,
    unset: list[str] | None = None,
) -> ReplanInputs:
    """Keep every date set by hand (unless unset), apply new ones, move the polling day."""
    from store.queries import find_poll

    poll = find_poll(session, election_id)
    kept = stored_overrides(session, poll)
    for key in unset or []:
        if key not in kept:
            raise PollflowError(f"{key} is not set for {poll.key}: set dates are {', '.join(kept) or 'none'}")
        del kept[key]
    kept.update(overrides or {})
    if poll_date is not None and poll.key.startswith("canvass."):
        raise PollflowError(
            f"{poll.key} is a registration year: it has no polling day to move; set its dates "
            "(revised_register, canvass_start) instead"
        )
    day = poll_date or poll.poll_date
    elections = session.exec(select(Election).where(Election.poll_id == poll.id).order_by(Election.id)).all()
    return ReplanInputs(
        poll_key=poll.key,
        election_ids=[with_date(e.election_id, day) for e in elections],
        kinds=[e.kind for e in elections],
        nations=[e.nation for e in elections],
        overrides=kept,
        overlay=poll.overlay,
    )


def stored_overrides(session: Session, poll: Poll) -> dict[str, str]:
    return {o.key: o.value for o in session.exec(select(DateOverride).where(DateOverride.poll_id == poll.id))}


def _sync_events(session: Session, poll: Poll, tt: Timetable, changes: Changes) -> None:
    stored = {
        (e.key, e.scope): e
        for e in session.exec(select(TimetableEvent).where(TimetableEvent.poll_id == poll.id))
    }
    seen = set()
    for event in tt.events:
        scope = event.election_id if tt.combined and event.election_id else "*"
        ident = (event.key, scope)
        seen.add(ident)
        due = event.deadline
        values = dict(
            label=event.label,
            date=event.date,
            time=event.time,
            earliest=event.earliest,
            due_at=due,
            bound=event.bound,
            citation=event.citation,
            provisional=event.provisional,
            overridden=event.overridden,
        )
        row = stored.get(ident)
        name = event.key if scope == "*" else f"{event.key}:{scope}"
        if row is None:
            session.add(TimetableEvent(poll_id=poll.id, key=event.key, scope=scope, **values))
            changes.events_added.append(name)
            continue
        if not _same_moment(row.due_at, due) or row.earliest != event.earliest:
            changes.events_moved.append(Moved(name, row.due_at, due))
        for attr, value in values.items():
            if getattr(row, attr) != value:
                setattr(row, attr, value)
    for ident, row in stored.items():
        if ident not in seen:
            changes.events_removed.append(ident[0] if ident[1] == "*" else f"{ident[0]}:{ident[1]}")
            session.delete(row)


def _sync_work(session: Session, poll: Poll, planned: list[PlannedTask], changes: Changes) -> None:
    stored = {w.key: w for w in session.exec(select(WorkItem).where(WorkItem.poll_id == poll.id))}
    picker: OwnerPicker | None = None
    desired = {p.key: p for p in planned}
    for task in planned:
        row = stored.get(task.key)
        values = dict(
            title=task.title,
            description=task.description,
            owner_role=task.owner_role,
            anchor=task.anchor,
            event_key=task.event_key,
            needs_signoff=task.needs_signoff,
            source=task.source,
            election_id=task.election_id,
        )
        if row is None:
            picker = picker or OwnerPicker(session)
            owner = picker.pick(task.owner_role)
            row = WorkItem(
                poll_id=poll.id,
                key=task.key,
                due_at=task.due,
                owner_id=owner.id if owner else None,
                **values,
            )
            session.add(row)
            stored[task.key] = row
            changes.work_added.append(task.key)
            if owner:
                changes.assigned[task.key] = owner.email
            else:
                changes.unassigned.append(task.key)
            continue
        if row.status == WorkStatus.CANCELLED:
            row.status = WorkStatus.OPEN
            changes.work_reopened.append(task.key)
        if not _same_moment(row.due_at, task.due):
            changes.work_moved.append(Moved(task.key, row.due_at, task.due, row.owner_id, row.id))
            row.due_at = task.due
        if row.owner_role != task.owner_role and row.status == WorkStatus.OPEN:
            picker = picker or OwnerPicker(session)
            owner = picker.pick(task.owner_role)
            row.owner_id = owner.id if owner else None
            if owner:
                changes.assigned[task.key] = owner.email
        for attr, value in values.items():
            if getattr(row, attr) != value:
                setattr(row, attr, value)
    for key, row in stored.items():
        # Only the catalogue's work is planned here; work other flows raise (recruitment,
        # documents) is theirs to keep.
        if key not in desired and row.status == WorkStatus.OPEN and row.source in ("catalogue", "overlay"):
            row.status = WorkStatus.CANCELLED
            changes.work_cancelled.append(key)
    session.flush()

    ids = {key: row.id for key, row in stored.items()}
    _sync_dependencies(session, planned, ids)
    _sync_reminders(session, planned, ids, changes)


def _sync_dependencies(session: Session, planned: list[PlannedTask], ids: dict[str, int]) -> None:
    item_ids = [ids[p.key] for p in planned]
    stored = {
        (d.work_item_id, d.depends_on_id): d
        for d in session.exec(select(WorkDependency).where(WorkDependency.work_item_id.in_(item_ids)))
    }
    desired = {(ids[p.key], ids[dep]) for p in planned for dep in p.depends_on}
    for pair in desired - stored.keys():
        session.add(WorkDependency(work_item_id=pair[0], depends_on_id=pair[1]))
    for pair in stored.keys() - desired:
        session.delete(stored[pair])


def _sync_reminders(
    session: Session, planned: list[PlannedTask], ids: dict[str, int], changes: Changes
) -> None:
    item_ids = [ids[p.key] for p in planned]
    stored = {
        (r.work_item_id, r.label): r
        for r in session.exec(select(Reminder).where(Reminder.work_item_id.in_(item_ids)))
    }
    desired = set()
    for task in planned:
        for label, when in task.reminders:
            ident = (ids[task.key], label)
            desired.add(ident)
            row = stored.get(ident)
            if row is None:
                session.add(Reminder(work_item_id=ident[0], label=label, remind_at=when))
                changes.reminders_added += 1
            elif not _same_moment(row.remind_at, when):
                # The deadline moved: remind again for the new date.
                row.remind_at, row.sent_at = when, None
                changes.reminders_moved += 1
    for ident, row in stored.items():
        if ident not in desired and row.sent_at is None:
            session.delete(row)
