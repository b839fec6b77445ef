"""Planning a poll into the store: its timetable, work items, owners and reminders.

``sync_poll`` makes the store match a computed plan. It creates what is missing, updates what
changed, cancels work that no longer applies and leaves everything else alone, so planning the
same poll twice changes nothing, and replanning (a moved polling day, a day of mourning, a new
override) changes exactly what moved and says so. Owners assigned by hand or earlier stay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from store.audit import record
from store.models import DateOverride, Election, Poll, TimetableEvent, WorkItem, utcnow
from store.planning_changes import Changes, Moved
from store.planning_rows import insert_entries, rewrite, sync_events, sync_work
from timetables.clock import long_date
from timetables.errors import PollflowError
from timetables.model import Timetable
from timetables.work import PlannedTask

# Changes and Moved are planning's answer; they live in store.planning_changes.
__all__ = [
    "Changes",
    "Moved",
    "ReplanInputs",
    "poll_title",
    "replan_inputs",
    "stored_overrides",
    "sync_poll",
    "with_date",
]


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

    fresh = changes.poll_created  # nothing is stored for a new poll: no need to read it
    renamed = _sync_elections(session, poll, tt, fresh)
    if renamed:
        _rename_scoped(session, poll, renamed)
    _sync_overrides(session, poll, overrides, actor, fresh)
    sync_events(session, poll, tt, changes, fresh)
    sync_work(session, poll, planned, changes, fresh)

    _audit_changes(session, poll, changes, actor, flow_run_id)
    return poll, changes


def _audit_changes(
    session: Session, poll: Poll, changes: Changes, actor: str, flow_run_id: str | None
) -> None:
    """The plan's audit entries: the run, then each deadline and due date that moved and each
    piece of work assigned. ``record`` makes each entry (it decides who is acting); they are
    written together, in one INSERT, after anything recorded before them."""

    def entry(action: str, subject: str, details: dict):
        return record(
            session, actor, action, poll_id=poll.id, subject=subject, details=details, flow_run_id=flow_run_id
        )

    entries = []
    if changes.poll_created or changes.changed:
        entries.append(entry("planned" if changes.poll_created else "replanned", poll.key, changes.summary()))
    for action, moves in (
        ("deadline moved", changes.events_moved),
        ("work due date moved", changes.work_moved),
    ):
        entries += [entry(action, m.key, {"from": m.old.isoformat(), "to": m.new.isoformat()}) for m in moves]
    entries += [entry("work assigned", key, {"owner": email}) for key, email in changes.assigned.items()]
    insert_entries(session, entries)


def _undated(election_id: str) -> str:
    return election_id.rsplit(".", 1)[0]


def _sync_elections(session: Session, poll: Poll, tt: Timetable, fresh: bool) -> dict[str, str]:
    """The poll's elections; when polling day moves, their ids move with it (the poll's key, its
    identity in the store and the audit trail, stays). Returns the ids that moved, old -> new."""
    rows = [] if fresh else session.exec(select(Election).where(Election.poll_id == poll.id))
    stored = {_undated(e.election_id): e for e in rows}
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
    ``proof_sopn:<election>:v2``), candidates, documents and the council's details. Each table
    is read once and its changed rows written in one UPDATE (``store.planning_rows.rewrite``)."""
    from store.models.documents import Candidate, Document, DocumentDetails

    def moved(key: str) -> str:
        return ":".join(renamed.get(part, part) for part in key.split(":"))

    def election(election_id: str | None) -> str | None:
        return renamed.get(election_id, election_id)

    rewrite(session, TimetableEvent, [TimetableEvent.poll_id == poll.id], scope=election)
    rewrite(session, WorkItem, [WorkItem.poll_id == poll.id], key=moved, election_id=election)
    rewrite(session, Candidate, [Candidate.poll_id == poll.id], election_id=election)
    rewrite(session, Document, [Document.poll_id == poll.id], scope=moved)
    details = session.exec(select(DocumentDetails).where(DocumentDetails.poll_id == poll.id)).first()
    if details is not None and details.data.get("elections"):
        # A new dict, not an edit in place: the JSON column only notices assignment.
        details.data = {
            **details.data,
            "elections": {renamed.get(k, k): v for k, v in details.data["elections"].items()},
        }
    session.flush()


def _sync_overrides(session: Session, poll: Poll, overrides: dict[str, str], actor: str, fresh: bool) -> None:
    rows = [] if fresh else session.exec(select(DateOverride).where(DateOverride.poll_id == poll.id))
    stored = {o.key: o for o in rows}
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
