"""An election's candidates: read from a CSV file or entered one at a time, withdrawn, and put in
the order the statement of persons nominated must give them.

- ``read_candidates_csv`` / ``import_candidates``: a file with any bad row is refused whole, every
  bad line named; importing the same file twice changes nothing.
- ``add_candidate``, ``withdraw_candidate`` (refused after the withdrawal deadline in the stored
  timetable).
- ``statement_order``: the order the law gives the statement of persons nominated (surname, then
  other names) and so the notice of poll and the ballot paper.

Candidates are the data of the statement, the notice of poll and the uncontested notice; they are
kept apart from the documents themselves, which only read them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlmodel import Session, select

from store.audit import record
from store.documents.council_details import areas_for, load_details
from store.models import Election, Poll, TimetableEvent, utcnow
from store.models.documents import Candidate
from store.people import BadFileError
from store.queries import NotFoundError, find_poll
from store.tables import read_utf8_csv, shown
from timetables.clock import local, long_date
from timetables.errors import PollflowError

# What a candidate's row holds besides who they are (area and names) and their status: stored and
# compared field by field on import.
PARTICULARS = (
    "commonly_used_surname",
    "commonly_used_forenames",
    "address",
    "description",
    "party",
    "party_membership",
    "list_party",
    "list_position",
    "proposer",
    "seconder",
    "agent_name",
    "agent_address",
)
CSV_COLUMNS = ("area", "surname", "forenames", *PARTICULARS, "status", "reason")
CSV_REQUIRED = ("surname", "forenames", "address")
# Each kind's election rules: "The description, if any, must not exceed 6 words" (e.g. SI
# 2006/3305 Sch 2 r.4(4); RPA 1983 Sch 1 r.6(3)).
DESCRIPTION_WORDS = 6
NAME_LIMIT = 200


@dataclass
class CandidateRow:
    line: int
    area: str
    surname: str
    forenames: str
    address: str
    commonly_used_surname: str | None = None
    commonly_used_forenames: str | None = None
    description: str | None = None
    party: str | None = None
    party_membership: str | None = None
    list_party: str | None = None
    list_position: int | None = None
    proposer: str | None = None
    seconder: str | None = None
    agent_name: str | None = None
    agent_address: str | None = None
    status: str = "nominated"
    reason: str | None = None

    @property
    def ident(self) -> tuple[str, str, str]:
        return (self.area.casefold(), self.surname.casefold(), self.forenames.casefold())


_shown = partial(shown, limit=60)  # a value from the file, quoted in an error


def check_candidate(row: CandidateRow, areas: list[str] | None) -> list[str]:
    """What is wrong with one candidate (empty if nothing): the same checks for a file's rows and
    for one entered at the command line."""
    found: list[str] = []
    for name in CSV_REQUIRED:
        if not getattr(row, name):
            found.append(f"no {name}")
    for name in ("surname", "forenames", "commonly_used_surname", "commonly_used_forenames"):
        value = getattr(row, name) or ""
        if len(value) > NAME_LIMIT:
            found.append(f"{name} is longer than {NAME_LIMIT} characters")
    if row.description and len(row.description.split()) > DESCRIPTION_WORDS:
        found.append(
            f"description '{_shown(row.description)}' has {len(row.description.split())} words: "
            f"the election rules allow at most {DESCRIPTION_WORDS}"
        )
    if row.status not in ("nominated", "withdrawn", "invalid"):
        found.append(f"status '{_shown(row.status)}' is not nominated, withdrawn or invalid")
    elif row.status == "invalid" and not row.reason:
        found.append("an invalid nomination needs a reason (the statement must give it)")
    if row.list_position is not None and not row.list_party:
        found.append("list_position without list_party")
    if areas is not None and row.area not in areas:
        found.append(
            f"area '{_shown(row.area) or '(blank)'}' is not one of this election's: {', '.join(areas)}"
        )
    return found


def read_candidates_csv(path: str | Path, areas: list[str] | None = None) -> list[CandidateRow]:
    """Every row checked; any problem refuses the whole file, naming each bad line.

    ``areas`` are the election's electoral areas where they are known: a row must name one (a
    blank area means the only one, where there is only one)."""
    return read_utf8_csv(path, "", "candidate", lambda p, text: _candidate_rows(p, text, areas))


def _candidate_rows(path: Path, text: str, areas: list[str] | None) -> list[CandidateRow]:
    reader = csv.reader(io.StringIO(text))
    header = next((fields for fields in reader if any(f.strip() for f in fields)), [])
    headers = [re.sub(r"[\s-]+", "_", h.strip().lower()) for h in header]
    allowed = f"the columns are {', '.join(CSV_COLUMNS)} ({', '.join(CSV_REQUIRED)} required)"
    missing = [c for c in CSV_REQUIRED if c not in headers]
    if missing:
        raise PollflowError(f"{path}: missing column(s) {', '.join(missing)}: {allowed}")
    unknown = [h or "(blank)" for h in headers if h not in CSV_COLUMNS]
    if unknown:
        raise PollflowError(f"{path}: unknown column(s) {', '.join(map(_shown, unknown))}: {allowed}")
    repeated = sorted({h for h in headers if headers.count(h) > 1})
    if repeated:
        raise PollflowError(f"{path}: column(s) {', '.join(repeated)} given twice: {allowed}")
    only = areas[0] if areas and len(areas) == 1 else None

    problems: list[str] = []
    bad_lines: list[int] = []
    rows: list[CandidateRow] = []
    seen: dict[tuple, int] = {}
    start = reader.line_num + 1
    for fields in reader:
        n, start = start, reader.line_num + 1
        if not any(f.strip() for f in fields):
            continue
        found: list[str] = []
        if len(fields) > len(headers):
            found.append(f"{len(fields)} fields but {len(headers)} columns (quote values with commas)")
        raw = {h: (f.strip() or None) for h, f in zip(headers, fields, strict=False)}
        position = raw.get("list_position")
        if position is not None and not position.isdigit():
            found.append(f"list_position '{_shown(position)}' is not a whole number")
            position = None
        row = CandidateRow(
            line=n,
            area=raw.get("area") or only or "",
            surname=raw.get("surname") or "",
            forenames=raw.get("forenames") or "",
            address=raw.get("address") or "",
            commonly_used_surname=raw.get("commonly_used_surname"),
            commonly_used_forenames=raw.get("commonly_used_forenames"),
            description=raw.get("description"),
            party=raw.get("party"),
            party_membership=raw.get("party_membership"),
            list_party=raw.get("list_party"),
            list_position=int(position) if position else None,
            proposer=raw.get("proposer"),
            seconder=raw.get("seconder"),
            agent_name=raw.get("agent_name"),
            agent_address=raw.get("agent_address"),
            status=(raw.get("status") or "nominated").lower(),
            reason=raw.get("reason"),
        )
        if not row.area and areas is None:
            found.append("no area: the election's areas are not set yet (pollflow document details)")
        found.extend(check_candidate(row, areas if row.area or areas else None))
        if row.surname and row.forenames:
            if row.ident in seen:
                found.append(f"{row.forenames} {row.surname} ({row.area}) is also on line {seen[row.ident]}")
            else:
                seen[row.ident] = n
        if found:
            problems.extend(f"line {n}: {problem}" for problem in found)
            bad_lines.append(n)
        rows.append(row)
    if problems:
        raise BadFileError(str(path), problems, bad_lines)
    if not rows:
        raise PollflowError(f"{path}: no candidates in the file, only the header line")
    return rows


def election_of(session: Session, election_or_poll: str) -> tuple[Poll, Election]:
    """The poll and the one election an id names (a poll key names its only election)."""
    poll = find_poll(session, election_or_poll)
    rows = session.exec(select(Election).where(Election.poll_id == poll.id).order_by(Election.id)).all()
    chosen = [e for e in rows if e.election_id == election_or_poll]
    if not chosen and len(rows) == 1:
        chosen = rows
    if not chosen:
        raise PollflowError(
            f"{election_or_poll} is a poll of {len(rows)} elections: name one of "
            f"{', '.join(e.election_id for e in rows)}"
        )
    return poll, chosen[0]


def candidates_of(session: Session, poll: Poll, election_id: str | None = None) -> list[Candidate]:
    query = select(Candidate).where(Candidate.poll_id == poll.id)
    if election_id is not None:
        query = query.where(Candidate.election_id == election_id)
    return list(session.exec(query.order_by(Candidate.id)).all())


def stored_event(session: Session, poll: Poll, key: str, election_id: str) -> TimetableEvent | None:
    """The election's own event, or the poll's shared one."""
    rows = session.exec(
        select(TimetableEvent).where(TimetableEvent.poll_id == poll.id, TimetableEvent.key == key)
    ).all()
    own = [r for r in rows if r.scope == election_id] or [r for r in rows if r.scope == "*"]
    return own[0] if own else None


def _check_withdrawal_time(
    session: Session, poll: Poll, election_id: str, as_of: dt.datetime, who: str
) -> None:
    event = stored_event(session, poll, "withdrawals", election_id)
    if event is not None and as_of > event.due_at:
        moment = local(event.due_at)
        raise PollflowError(
            f"{who} cannot withdraw now: withdrawals closed at {moment:%H:%M} on "
            f"{long_date(moment)} ({event.citation})"
        )


@dataclass
class CandidateImport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    kept: int = 0  # stored but not in the file (without --replace)
    changes: list[str] = field(default_factory=list)


def import_candidates(
    session: Session,
    poll: Poll,
    election_id: str,
    rows: list[CandidateRow],
    actor: str,
    *,
    replace: bool = False,
    as_of: dt.datetime | None = None,
) -> CandidateImport:
    """Add or update candidates by (area, surname, forenames); running the same file twice changes
    nothing. With ``replace`` the file is the whole list: candidates not in it are removed (and the
    audit trail says so). A withdrawal recorded after the withdrawal deadline is refused."""
    as_of = as_of or utcnow()
    result = CandidateImport()
    stored = {
        (c.area.casefold(), c.surname.casefold(), c.forenames.casefold()): c
        for c in candidates_of(session, poll, election_id)
    }
    for row in rows:
        current = stored.pop(row.ident, None)
        values = {name: getattr(row, name) for name in PARTICULARS}
        if current is None:
            if row.status == "withdrawn":
                _check_withdrawal_time(session, poll, election_id, as_of, f"{row.forenames} {row.surname}")
            session.add(
                Candidate(
                    poll_id=poll.id,
                    election_id=election_id,
                    area=row.area,
                    surname=row.surname,
                    forenames=row.forenames,
                    status=row.status,
                    status_reason=row.reason,
                    **values,
                )
            )
            result.added += 1
            result.changes.append(f"added {row.forenames} {row.surname} ({row.area})")
            continue
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        if (current.status, current.status_reason) != (row.status, row.reason):
            if row.status == "withdrawn" and current.status != "withdrawn":
                _check_withdrawal_time(session, poll, election_id, as_of, f"{row.forenames} {row.surname}")
            changed.update(status=row.status, status_reason=row.reason)
        if not changed and (current.surname, current.forenames, current.area) == (
            row.surname,
            row.forenames,
            row.area,
        ):
            result.unchanged += 1
            continue
        for key, value in changed.items():
            setattr(current, key, value)
        current.surname, current.forenames, current.area = row.surname, row.forenames, row.area
        current.updated_at = utcnow()
        result.updated += 1
        result.changes.append(
            f"updated {row.forenames} {row.surname} ({row.area}): {', '.join(changed) or 'name'}"
        )
    for leftover in stored.values():
        if replace:
            session.delete(leftover)
            result.removed += 1
            result.changes.append(f"removed {leftover.forenames} {leftover.surname} ({leftover.area})")
        else:
            result.kept += 1
    if result.added or result.updated or result.removed:
        record(
            session,
            actor,
            "candidates imported",
            poll_id=poll.id,
            subject=election_id,
            details={
                "added": result.added,
                "updated": result.updated,
                "removed": result.removed,
                "changes": result.changes[:200],
            },
        )
    return result


def add_candidate(session: Session, poll: Poll, election_id: str, row: CandidateRow, actor: str) -> Candidate:
    areas = [a.name for a in areas_for(load_details(session, poll), election_id)] or None
    if not row.area and areas and len(areas) == 1:
        row.area = areas[0]
    if not row.area and not areas:
        raise PollflowError("give --area: the election's areas are not set yet (pollflow document details)")
    problems = check_candidate(row, areas)
    if problems:
        raise PollflowError(f"candidate not added: {'; '.join(problems)}")
    existing = [c for c in candidates_of(session, poll, election_id) if _ident(c) == row.ident]
    if existing:
        raise PollflowError(
            f"{row.forenames} {row.surname} is already a candidate in {row.area}: "
            "import a corrected file to change their details"
        )
    candidate = Candidate(
        poll_id=poll.id,
        election_id=election_id,
        area=row.area,
        surname=row.surname,
        forenames=row.forenames,
        status=row.status,
        status_reason=row.reason,
        **{name: getattr(row, name) for name in PARTICULARS},
    )
    session.add(candidate)
    record(
        session,
        actor,
        "candidate added",
        poll_id=poll.id,
        subject=election_id,
        details={"name": f"{row.forenames} {row.surname}", "area": row.area, "description": row.description},
    )
    return candidate


def _ident(c: Candidate) -> tuple[str, str, str]:
    return (c.area.casefold(), c.surname.casefold(), c.forenames.casefold())


def find_candidate(
    session: Session, poll: Poll, election_id: str, name: str, area: str | None = None
) -> Candidate:
    """A candidate by 'Forenames Surname' or 'SURNAME, Forenames' (any case)."""
    wanted = sort_text(name.replace(",", " "))
    found = [
        c
        for c in candidates_of(session, poll, election_id)
        if wanted in (sort_text(f"{c.forenames} {c.surname}"), sort_text(f"{c.surname} {c.forenames}"))
        and (area is None or c.area.casefold() == area.casefold())
    ]
    if not found:
        names = ", ".join(
            f"{c.forenames} {c.surname} ({c.area})" for c in candidates_of(session, poll, election_id)
        )
        raise NotFoundError(f"no candidate '{name}' at {election_id}: candidates are {names or 'none yet'}")
    if len(found) > 1:
        raise PollflowError(f"'{name}' is a candidate in {', '.join(c.area for c in found)}: add --area")
    return found[0]


def withdraw_candidate(
    session: Session,
    poll: Poll,
    election_id: str,
    name: str,
    actor: str,
    *,
    area: str | None = None,
    as_of: dt.datetime | None = None,
) -> Candidate:
    """Record a notice of withdrawal; refused once the withdrawal deadline has passed."""
    candidate = find_candidate(session, poll, election_id, name, area)
    if candidate.status == "withdrawn":
        return candidate
    _check_withdrawal_time(
        session, poll, election_id, as_of or utcnow(), f"{candidate.forenames} {candidate.surname}"
    )
    candidate.status, candidate.status_reason, candidate.updated_at = "withdrawn", "Withdrawn", utcnow()
    record(
        session,
        actor,
        "candidate withdrawn",
        poll_id=poll.id,
        subject=election_id,
        details={"name": f"{candidate.forenames} {candidate.surname}", "area": candidate.area},
    )
    return candidate


def sort_text(text: str) -> str:
    """A name as the alphabetical order reads it: accents, case and apostrophes ignored, hyphens
    read as spaces (word by word: 'Smith-Jones' before 'Smithers'). Basis: the rules say only
    'alphabetically'; this is the common convention, and the proof-check confirms it."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"['’`.]", "", plain)
    return re.sub(r"[^0-9a-z]+", " ", plain).strip()


def shown_names(c: Candidate) -> tuple[str, str]:
    """The names the statement shows: a commonly used surname or forename in place of the other
    (e.g. PCC Elections Order 2012 Sch 3 r.13(3); RPA 1983 Sch 1 r.14(1A))."""
    return (c.commonly_used_surname or c.surname, c.commonly_used_forenames or c.forenames)


def statement_order(candidates: list[Candidate]) -> list[Candidate]:
    """Alphabetically by surname and then other names, as the statement of persons nominated must
    be arranged (RPA 1983 Sch 1 r.14(3); SI 2012/1917 Sch 3 r.13(6); WSI 2021/1459 Sch 1 r.13(4))."""

    def key(c: Candidate):
        surname, forenames = shown_names(c)
        return (sort_text(surname), sort_text(forenames), c.id or 0)

    return sorted(candidates, key=key)
