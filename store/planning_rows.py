"""The rows planning writes for a poll, set-based: its timetable events, work items, their
dependencies and reminders (``store.planning.sync_poll`` calls these in turn).

Each table is read in one query, compared with the plan in Python, then written in a few
statements whatever the poll's size: new rows in one multi-row INSERT (RETURNING the ids where
they are needed), changed rows in one executemany UPDATE per set of columns that changed, rows
that go in one DELETE. (The ORM's own flush inserts row by row on SQLite, where it must match
returned ids to objects, and splits updates wherever neighbouring rows changed different
columns.) Stored rows are read as plain mappings, not ORM objects, so the session holds nothing
to go stale; the UPDATEs and DELETEs take the session's ORM bulk paths, which keep in step any
object a caller has loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, insert, inspect, select, update
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from store.audit import chain
from store.models import AuditEntry, Poll, Reminder, TimetableEvent, WorkDependency, WorkItem, WorkStatus
from store.owners import OwnerPicker
from store.planning_changes import Changes, Moved, same_moment
from timetables.model import Timetable
from timetables.work import PlannedTask

# The work planning owns: work other flows raise (recruitment, documents, canvass) is theirs.
PLANNED_SOURCES = ("catalogue", "overlay")


def stored_rows(session: Session, model, *where, join: tuple = ()) -> list[RowMapping]:
    """Every column of ``model``'s rows matching ``where``, oldest first, in one query."""
    query = select(*(getattr(model, c.name) for c in model.__table__.columns))
    if join:
        query = query.join(*join)
    return list(session.execute(query.where(*where).order_by(model.id)).mappings())


def insert_rows(session: Session, model, rows: list[dict], *returning) -> list[tuple]:
    """One multi-row INSERT (SQLAlchemy splits it only past its batch size), with the columns
    asked for RETURNING."""
    if not rows:
        return []
    # None written as NULL, not left out: otherwise rows missing different columns are split
    # into separate INSERTs. (Every column with a default is given a value here.)
    statement = insert(model).execution_options(render_nulls=True)
    if returning:
        return [tuple(r) for r in session.execute(statement.returning(*returning), rows)]
    session.execute(statement, rows)
    return []


def update_rows(session: Session, model, rows: list[dict]) -> None:
    """Each dict is a row's id and the columns that change: one executemany UPDATE per distinct
    set of columns (so a column that did not change is never written back)."""
    batches: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        batches.setdefault(tuple(sorted(row)), []).append(row)
    for batch in batches.values():
        session.execute(update(model), batch)


def delete_rows(session: Session, model, ids: list[int]) -> None:
    if ids:
        session.execute(delete(model).where(model.id.in_(ids)))


def rewrite(session: Session, model, where: list, **columns: Callable) -> None:
    """Set each named column to ``f(its value)`` on the rows matching ``where``: one read, one
    UPDATE per set of columns that changed."""
    found = session.execute(select(model.id, *(getattr(model, c) for c in columns)).where(*where))
    changed = []
    for row in found.mappings():
        new = {c: f(row[c]) for c, f in columns.items() if f(row[c]) != row[c]}
        if new:
            changed.append({"id": row["id"], **new})
    update_rows(session, model, changed)


def insert_entries(session: Session, entries: list[AuditEntry]) -> None:
    """Audit entries made by ``store.audit.record``, written in one INSERT (the ORM's flush
    would write one at a time on SQLite), after whatever the session has pending, so that the
    trail keeps the order things were recorded in; numbered and hash-chained in that order.
    Entries recorded earlier and still pending go first in the same INSERT: chaining costs a lock
    and a read each time, so once per batch, not once for the flush and again here."""
    if not entries:
        return
    chosen = set(map(id, entries))
    earlier = [o for o in session.new if isinstance(o, AuditEntry) and id(o) not in chosen]
    entries = sorted(earlier, key=lambda o: inspect(o).insert_order) + entries
    for entry in entries:
        session.expunge(entry)
    session.flush()
    rows = [{c.name: getattr(e, c.name) for c in AuditEntry.__table__.columns} for e in entries]
    chain(session.connection(), rows)
    insert_rows(session, AuditEntry, rows)


def _differing(row: RowMapping, values: dict) -> dict:
    return {attr: value for attr, value in values.items() if row[attr] != value}


def sync_events(session: Session, poll: Poll, tt: Timetable, changes: Changes, fresh: bool) -> None:
    """``fresh``: the poll was created just now, so nothing is stored for it to read."""
    stored = {
        (r["key"], r["scope"]): r
        for r in ([] if fresh else stored_rows(session, TimetableEvent, TimetableEvent.poll_id == poll.id))
    }
    seen, added, updates = set(), [], []
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
            added.append(dict(poll_id=poll.id, key=event.key, scope=scope, **values))
            changes.events_added.append(name)
            continue
        if not same_moment(row["due_at"], due) or row["earliest"] != event.earliest:
            changes.events_moved.append(Moved(name, row["due_at"], due))
        if differing := _differing(row, values):
            updates.append({"id": row["id"], **differing})
    gone = []
    for ident, row in stored.items():
        if ident not in seen:
            changes.events_removed.append(ident[0] if ident[1] == "*" else f"{ident[0]}:{ident[1]}")
            gone.append(row["id"])
    insert_rows(session, TimetableEvent, added)
    update_rows(session, TimetableEvent, updates)
    delete_rows(session, TimetableEvent, gone)


class _Picker:
    """An OwnerPicker made when first needed. It counts the open work in the store at that
    moment, which (as when the ORM flushed each change before the picker's query) includes work
    this plan has already reopened."""

    def __init__(self, session: Session):
        self.session, self.picker, self.reopened = session, None, []

    def reopen(self, owner_id: int | None) -> None:
        if self.picker is None and owner_id is not None:
            self.reopened.append(owner_id)

    def pick(self, role: str):
        if self.picker is None:
            self.picker = OwnerPicker(self.session)
            self.picker.load.update(self.reopened)
        return self.picker.pick(role)


def _task_values(task: PlannedTask) -> dict:
    return dict(
        title=task.title,
        description=task.description,
        owner_role=task.owner_role,
        anchor=task.anchor,
        event_key=task.event_key,
        needs_signoff=task.needs_signoff,
        source=task.source,
        election_id=task.election_id,
    )


def _new_item(poll: Poll, task: PlannedTask, picker: _Picker, changes: Changes) -> dict:
    owner = picker.pick(task.owner_role)
    changes.work_added.append(task.key)
    if owner:
        changes.assigned[task.key] = owner.email
    else:
        changes.unassigned.append(task.key)
    owner_id = owner.id if owner else None
    return dict(poll_id=poll.id, key=task.key, due_at=task.due, owner_id=owner_id, **_task_values(task))


def _item_changes(row: RowMapping, task: PlannedTask, picker: _Picker, changes: Changes) -> dict:
    """What changes on a stored work item: reopened if it was cancelled, its due date, a new
    owner if its role changed while it is open, and whatever else the plan says differently."""
    new, status = {}, row["status"]
    if status == WorkStatus.CANCELLED:
        new["status"] = status = WorkStatus.OPEN
        changes.work_reopened.append(task.key)
        picker.reopen(row["owner_id"])
    if not same_moment(row["due_at"], task.due):
        changes.work_moved.append(Moved(task.key, row["due_at"], task.due, row["owner_id"], row["id"]))
        new["due_at"] = task.due
    if row["owner_role"] != task.owner_role and status == WorkStatus.OPEN:
        owner = picker.pick(task.owner_role)
        if (owner.id if owner else None) != row["owner_id"]:
            new["owner_id"] = owner.id if owner else None
        if owner:
            changes.assigned[task.key] = owner.email
    new.update(_differing(row, _task_values(task)))
    return new


def sync_work(
    session: Session, poll: Poll, planned: list[PlannedTask], changes: Changes, fresh: bool
) -> None:
    """The poll's work, then its dependencies and reminders. Completed work stays completed;
    open work that no longer applies is cancelled (never deleted), and reopened if it applies
    again."""
    rows = [] if fresh else stored_rows(session, WorkItem, WorkItem.poll_id == poll.id)
    stored = {r["key"]: r for r in rows}
    picker = _Picker(session)
    added, updates = [], []
    for task in planned:
        row = stored.get(task.key)
        if row is None:
            added.append(_new_item(poll, task, picker, changes))
        elif new := _item_changes(row, task, picker, changes):
            updates.append({"id": row["id"], **new})
    desired = {p.key for p in planned}
    for key, row in stored.items():
        if key not in desired and row["status"] == WorkStatus.OPEN and row["source"] in PLANNED_SOURCES:
            updates.append({"id": row["id"], "status": WorkStatus.CANCELLED})
            changes.work_cancelled.append(key)

    ids = {key: row["id"] for key, row in stored.items()}
    ids.update({key: id_ for id_, key in insert_rows(session, WorkItem, added, WorkItem.id, WorkItem.key)})
    update_rows(session, WorkItem, updates)
    planned_ids = {ids[p.key] for p in planned}
    sync_dependencies(session, poll, planned, ids, planned_ids, fresh)
    sync_reminders(session, poll, planned, ids, planned_ids, changes, fresh)


def _planned_rows(session: Session, model, poll: Poll, planned_ids: set[int]) -> list[RowMapping]:
    """``model``'s rows for the planned work: read through the poll (a join, not a list of every
    id in the query), then kept to the work planned."""
    join = (WorkItem, WorkItem.id == model.work_item_id)
    rows = stored_rows(session, model, WorkItem.poll_id == poll.id, join=join)
    return [r for r in rows if r["work_item_id"] in planned_ids]


def sync_dependencies(
    session: Session,
    poll: Poll,
    planned: list[PlannedTask],
    ids: dict[str, int],
    planned_ids: set[int],
    fresh: bool,
) -> None:
    rows = [] if fresh else _planned_rows(session, WorkDependency, poll, planned_ids)
    stored = {(r["work_item_id"], r["depends_on_id"]): r["id"] for r in rows}
    desired = {(ids[p.key], ids[dep]) for p in planned for dep in p.depends_on}
    insert_rows(
        session,
        WorkDependency,
        [dict(work_item_id=item, depends_on_id=on) for item, on in sorted(desired - stored.keys())],
    )
    delete_rows(session, WorkDependency, sorted(stored[pair] for pair in stored.keys() - desired))


def sync_reminders(
    session: Session,
    poll: Poll,
    planned: list[PlannedTask],
    ids: dict[str, int],
    planned_ids: set[int],
    changes: Changes,
    fresh: bool,
) -> None:
    rows = [] if fresh else _planned_rows(session, Reminder, poll, planned_ids)
    stored = {(r["work_item_id"], r["label"]): r for r in rows}
    desired, added, moved = set(), [], []
    for task in planned:
        for label, when in task.reminders:
            ident = (ids[task.key], label)
            desired.add(ident)
            row = stored.get(ident)
            if row is None:
                added.append(dict(work_item_id=ident[0], label=label, remind_at=when))
                changes.reminders_added += 1
            elif not same_moment(row["remind_at"], when):
                # The deadline moved: remind again for the new date.
                move = {"id": row["id"], "remind_at": when}
                if row["sent_at"] is not None:
                    move["sent_at"] = None
                moved.append(move)
                changes.reminders_moved += 1
    insert_rows(session, Reminder, added)
    update_rows(session, Reminder, moved)
    delete_rows(
        session,
        Reminder,
        [row["id"] for ident, row in stored.items() if ident not in desired and row["sent_at"] is None],
    )
