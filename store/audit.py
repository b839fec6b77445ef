"""The audit trail: append-only, and chained so that tampering shows.

``record`` is the only way the application writes it; it records who was authenticated, how and
through what from ``store.identity.acting``. The session refuses to flush an update or
a delete of an AuditEntry, and the database (triggers from the first migration) refuses them too.

Those refusals stop the application, not someone with the database itself: the owner of the
tables can disable the triggers, and on SQLite ``REPLACE INTO`` rewrites a row without firing
them. So each entry also carries ``prev_hash``, the previous entry's ``hash``, and ``hash``, a
SHA-256 over its own fields and ``prev_hash``; ``verify`` walks the chain and names every entry
rewritten, deleted, moved or backdated since. Ids are given here, one after the last stored, under
a lock every writer takes (PostgreSQL: a transaction-level advisory lock; SQLite: the database's
write lock), so the chain has one order however many write at once, and a missing id is a deletion.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import event, select, text
from sqlmodel import Session

from store.db import session_scope
from store.identity.acting import current
from store.models import AuditEntry
from timetables.errors import PollflowError

# The fields each hash covers, fixed: a column added to audit_entry later must be added here by
# a decision (and a migration that re-hashes), not silently, or every older hash would break.
HASHED_FIELDS = (
    "id",
    "at",
    "actor",
    "person_id",
    "auth_method",
    "via",
    "action",
    "poll_id",
    "subject",
    "details",
    "flow_run_id",
    "prev_hash",
)
GENESIS = "0" * 64  # the first entry's prev_hash
# How much earlier than the entry before it an entry may say it was made. Entries are stamped when
# recorded but numbered when written, so a transaction that recorded first and wrote second makes
# a small inversion honestly (as can two machines' clocks); more than this is called backdated.
CLOCK_ALLOWANCE = dt.timedelta(minutes=5)
# The advisory lock's first key ("PFAU"); the second is audit_entry's oid (pollflow_audit_head),
# so that schemas on one server (the tests', the benchmarks') each have their own chain and lock.
PG_LOCK_KEY = 0x50464155


class AuditTrailError(PollflowError):
    """An attempt to change or delete the audit trail."""


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    poll_id: int | None = None,
    subject: str | None = None,
    details: dict | None = None,
    flow_run_id: str | None = None,
) -> AuditEntry:
    who = current()  # the authenticated person (or automation), whatever ``actor`` says
    entry = AuditEntry(
        actor=actor,
        person_id=who.person_id,
        auth_method=who.method,
        via=who.via,
        action=action,
        poll_id=poll_id,
        subject=subject,
        details=details or {},
        flow_run_id=flow_run_id,
    )
    session.add(entry)
    return entry


def _instant(at: dt.datetime) -> str:
    # SQLite hands back naive UTC, PostgreSQL aware: one spelling for both, to the microsecond.
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(fields: dict) -> str:
    """SHA-256 of an entry's canonical form: its HASHED_FIELDS as JSON with sorted keys."""
    body = {name: fields.get(name) for name in HASHED_FIELDS}
    body["at"] = _instant(body["at"])
    # As the JSON column stores them: tuples become lists, integer keys strings.
    body["details"] = json.loads(json.dumps(body["details"] or {}))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _head(connection):
    """The last entry's id and hash, read once every other writer of the trail is kept waiting
    until this transaction ends."""
    if connection.dialect.name == "postgresql":
        # One round trip: the function (migration 0007) takes the advisory lock, then reads in a
        # snapshot of its own, taken after the lock, so it sees what the writer before committed.
        head = text("SELECT * FROM pollflow_audit_head(:key)")
        return connection.execute(head, {"key": PG_LOCK_KEY}).first()
    if not connection.connection.dbapi_connection.in_transaction:
        # pysqlite begins a transaction at the first write, which takes SQLite's write lock: a
        # transaction already begun holds it. Otherwise a write that changes nothing takes it
        # (waiting out busy_timeout); a writing transaction always reads the latest rows.
        connection.execute(text("UPDATE audit_entry SET id = id WHERE 0"))
    table = AuditEntry.__table__
    return connection.execute(select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)).first()


def chain(connection, rows: list[dict]) -> None:
    """Number ``rows`` (each an entry's columns, in the order recorded) after the last entry
    stored and give each its ``prev_hash`` and ``hash``."""
    if not rows:
        return
    # The lock is held until the transaction ends, so the head this transaction last wrote is
    # still the head: read it once per transaction (not after a savepoint, which may be undone).
    root, nested = connection.get_transaction(), connection.in_nested_transaction()
    cached = connection.info.get("audit_head")
    if cached and cached[0] is root and not nested:
        next_id, prev = cached[1] + 1, cached[2]
    else:
        last = _head(connection)
        # An entry written outside pollflow without a hash is chained to as it is (None): verify
        # names that entry, and only it.
        next_id, prev = (last.id + 1, last.hash) if last else (1, GENESIS)
    for row in rows:
        row["id"], row["prev_hash"] = next_id, prev
        row["hash"] = prev = entry_hash(row)
        next_id += 1
    if not nested:
        connection.info["audit_head"] = (root, next_id - 1, prev)


@event.listens_for(Session, "before_flush")
def _append_only(session, _context, _instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditTrailError("the audit trail is append-only: an entry cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditTrailError("the audit trail is append-only: an entry cannot be deleted")


@event.listens_for(AuditEntry, "before_insert")
def _link(_mapper, connection, entry: AuditEntry) -> None:
    # Here, not before the flush: the flush has by now written the rows the entry refers to, so on
    # SQLite the transaction already holds the write lock and chaining costs one read, not two.
    row = {c.name: getattr(entry, c.name) for c in AuditEntry.__table__.columns}
    chain(connection, [row])
    entry.id, entry.prev_hash, entry.hash = row["id"], row["prev_hash"], row["hash"]


def published_head() -> str:
    """The chain's head as ``pollflow audit verify --head`` takes it (ID:HASH): the daily digest
    publishes it as a Prefect artifact, out of reach of whoever owns the store's tables."""
    table = AuditEntry.__table__
    with session_scope() as session:
        last = session.execute(select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)).first()
    return f"{last.id}:{last.hash}" if last else "none (no entries yet)"


@dataclass(frozen=True)
class Problem:
    id: int
    kind: str  # rewritten | deleted | reordered | backdated | unchained | broken
    explanation: str

    def __str__(self) -> str:
        return f"entry {self.id}: {self.kind}: {self.explanation}"


@dataclass
class Verdict:
    problems: list[Problem]
    entries: int
    head_id: int | None  # the last entry: publish it elsewhere, to check the trail against later
    head_hash: str | None

    @property
    def intact(self) -> bool:
        return not self.problems


def _rows(session: Session) -> Iterator[dict]:
    table = AuditEntry.__table__
    query = select(table).order_by(table.c.id).execution_options(yield_per=2000)
    for row in session.execute(query).mappings():
        yield dict(row)


def _holder(session: Session, digest: str | None) -> int | None:
    """The id of the entry whose hash is ``digest`` (looked up only where the chain breaks)."""
    if digest is None:
        return None
    table = AuditEntry.__table__
    return session.execute(select(table.c.id).where(table.c.hash == digest).limit(1)).scalar()


def _unhashed(session: Session, row: dict) -> Problem:
    """The entry's contents do not give its hash: rewritten, or moved to another id."""
    holder = _holder(session, row["prev_hash"])
    moved = holder is not None and holder != row["id"] - 1
    if moved and entry_hash({**row, "id": holder + 1}) == row["hash"]:
        return Problem(row["id"], "reordered", f"it was written as entry {holder + 1}, after entry {holder}")
    return Problem(row["id"], "rewritten", "its contents no longer match its hash (changed after writing)")


def _unlinked(session: Session, row: dict, prev: dict | None) -> Problem:
    """The entry is intact but does not follow the one before it."""
    expected_id = prev["id"] + 1 if prev else 1
    if row["id"] > expected_id and (prev is not None or row["prev_hash"] != GENESIS):
        gone = f"{expected_id}" if row["id"] == expected_id + 1 else f"{expected_id} to {row['id'] - 1}"
        return Problem(row["id"], "deleted", f"entry {gone} before it is missing")
    holder = _holder(session, row["prev_hash"])
    if holder is not None:
        after = f"entry {prev['id']}" if prev else "the start"
        return Problem(row["id"], "reordered", f"it was written after entry {holder}, not after {after}")
    return Problem(
        row["id"],
        "broken",
        f"it was written after an entry whose hash is no longer in the trail: entry {expected_id - 1} "
        "was rewritten and re-hashed, or entries before it were deleted and renumbered",
    )


def verify(session: Session, head: tuple[int, str] | None = None) -> Verdict:
    """Walk the chain in id order and name each entry that is not as it was written.

    ``head``: an (id, hash) published earlier; the trail must still hold it. Without one, entries
    deleted from the end, or a chain rewritten and re-hashed throughout, cannot show."""
    problems: list[Problem] = []
    prev: dict | None = None
    count = 0
    for row in _rows(session):
        count += 1
        expected = prev["hash"] if prev else GENESIS
        if row["hash"] is None:
            problems.append(Problem(row["id"], "unchained", "it has no hash: written outside pollflow"))
        elif entry_hash(row) != row["hash"]:
            problems.append(_unhashed(session, row))
        elif row["prev_hash"] != expected and not (prev and prev["hash"] is None):
            problems.append(_unlinked(session, row, prev))
        if prev and _at(row) < _at(prev) - CLOCK_ALLOWANCE:
            problems.append(
                Problem(
                    row["id"],
                    "backdated",
                    f"made at {_instant(row['at'])}, {_gap(prev, row)} before entry {prev['id']} "
                    f"({_instant(prev['at'])}) that comes before it",
                )
            )
        if head and row["id"] == head[0] and row["hash"] != head[1]:
            problems.append(Problem(row["id"], "rewritten", "its hash is not the one published for it"))
        prev = row
    if head and (prev is None or prev["id"] < head[0]):
        last = prev["id"] if prev else "none"
        problems.append(Problem(head[0], "deleted", f"the published head is gone (the last entry is {last})"))
    return Verdict(problems, count, prev["id"] if prev else None, prev["hash"] if prev else None)


def _at(row: dict) -> dt.datetime:
    at = row["at"]
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _gap(earlier: dict, later: dict) -> str:
    minutes = int((_at(earlier) - _at(later)).total_seconds() // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes // 60} hours"
