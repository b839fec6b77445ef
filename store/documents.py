"""Documents in the store: the details notices need, candidates, and each document's versions
with their named steps (proof-check, approval by the Returning Officer or a deputy, publication).

Plain functions over a session, no Prefect and no rendering (``tasks.documents`` renders):

- ``read_details_file`` / ``save_details``: the council, the Returning Officer, electoral areas
  and seats, polling stations, postal vote opening sessions; checked whole.
- ``read_candidates_csv`` / ``import_candidates``: a file with any bad row is refused whole, every
  bad line named; ``add_candidate``, ``withdraw_candidate`` (refused after the withdrawal deadline
  in the stored timetable).
- ``statement_order``: the order the law gives the statement of persons nominated (surname, then
  other names) and so the notice of poll and the ballot paper.
- ``save_version``, ``proof``, ``approve``, ``check_publishable``, ``record_publication``: a
  version is generated, proof-checked by a named person, approved by someone else who holds the
  returning-officer or deputy-returning-officer role, then published. Content that changes makes
  a new version, which needs the same steps again. Every step is in the audit trail.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session, select

from store.audit import record
from store.document_models import (
    Candidate,
    Document,
    DocumentDetails,
    DocumentStep,
    DocumentVersion,
)
from store.models import (
    SIGNOFF_ROLES,
    Election,
    Person,
    Poll,
    TimetableEvent,
    WorkDependency,
    WorkItem,
    utcnow,
)
from store.people import BadFileError, find_person, roles_of
from store.queries import NotFoundError, elections_of, find_poll
from store.timeutil import LONDON, local
from timetables.errors import PollflowError

SOURCE = "documents"  # work items this module raises; store.planning leaves them alone


class DocumentError(PollflowError):
    """A document step refused: out of order, by the wrong person, or on a stale version."""


# --------------------------------------------------------------------------------------------
# Details: what notices need beyond the timetable


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _lines(value):
    """An address as lines: a list, or one string with commas or new lines."""
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,\n]", value) if part.strip()]
    return value


class Officer(_Strict):
    name: str = Field(min_length=1)
    title: str | None = None  # default by kind of poll: "Acting Returning Officer" at a UKPGE in E&W
    title_cy: str | None = None
    address: list[str] = Field(min_length=1)
    phone: str | None = None
    email: str | None = None
    website: str | None = None

    _address = field_validator("address", mode="before")(_lines)


class Area(_Strict):
    name: str = Field(min_length=1)
    name_cy: str | None = None
    seats: int = Field(ge=1, le=100)
    list: bool = False  # a list ballot: parties' lists and individual candidates


class ElectionDetails(_Strict):
    title: str | None = None  # e.g. "Election of District Councillors" (default by kind)
    title_cy: str | None = None
    areas: list[Area] = Field(default_factory=list)
    deposit: str | None = None  # where the law asks for one; default by kind where pollflow knows it


class Station(_Strict):
    number: str = Field(min_length=1)
    place: str = Field(min_length=1)
    voters: str = Field(min_length=1)  # "the description of voters entitled to vote there"
    area: str | None = None
    place_cy: str | None = None

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, value):
        return str(value) if isinstance(value, int) else value


class Opening(_Strict):
    starts: dt.datetime
    place: str = Field(min_length=1)

    @field_validator("starts")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        return value if value.tzinfo else value.replace(tzinfo=LONDON)


class Details(_Strict):
    council: str = Field(min_length=1)
    council_cy: str | None = None  # Welsh polls: the council's Welsh name
    returning_officer: Officer
    nomination_address: list[str] | None = None  # where nomination papers go (default: the RO's)
    nomination_hours: str | None = None  # e.g. "10am to 4pm"
    nomination_hours_cy: str | None = None  # Welsh polls: the same in Welsh ("10 y bore tan 4 y prynhawn")
    areas: list[Area] | None = None  # shorthand for a poll of one election
    elections: dict[str, ElectionDetails] = Field(default_factory=dict)
    polling_stations: list[Station] = Field(default_factory=list)
    postal_vote_openings: list[Opening] = Field(default_factory=list)
    extra: dict = Field(default_factory=dict)  # anything a council's own templates use

    _nomination = field_validator("nomination_address", mode="before")(_lines)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
    )


def parse_details(data: dict, source: str = "details") -> Details:
    try:
        return Details.model_validate(data or {})
    except ValidationError as exc:
        raise PollflowError(f"{source}: {_problems(exc)}") from exc


def read_details_file(path: str | Path) -> Details:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise PollflowError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise PollflowError(f"{path}: not YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise PollflowError(f"{path}: expected a mapping with council, returning_officer, elections...")
    return parse_details(raw, str(path))


def save_details(session: Session, poll: Poll, details: Details, actor: str) -> bool:
    """Store a poll's details; True if they changed. Election ids must be the poll's own."""
    ids = elections_of(session, poll)
    unknown = [e for e in details.elections if e not in ids]
    if unknown:
        raise PollflowError(
            f"details name election(s) {', '.join(unknown)}, not of {poll.key}: its elections are "
            f"{', '.join(ids)}"
        )
    if details.areas is not None and len(ids) > 1:
        raise PollflowError(
            f"{poll.key} has {len(ids)} elections: give each its areas under elections: <id>: areas:"
        )
    data = details.model_dump(mode="json", exclude_none=True)
    row = session.exec(select(DocumentDetails).where(DocumentDetails.poll_id == poll.id)).first()
    if row is not None and row.data == data:
        return False
    if row is None:
        session.add(DocumentDetails(poll_id=poll.id, data=data, updated_by=actor))
    else:
        row.data, row.updated_by, row.updated_at = data, actor, utcnow()
    record(session, actor, "document details set", poll_id=poll.id, subject=poll.key, details=data)
    return True


def load_details(session: Session, poll: Poll) -> Details | None:
    row = session.exec(select(DocumentDetails).where(DocumentDetails.poll_id == poll.id)).first()
    return parse_details(row.data) if row else None


def areas_for(details: Details | None, election_id: str, default: list[Area] | None = None) -> list[Area]:
    """An election's areas: from its details, else the poll's shorthand, else ``default``."""
    if details is not None:
        own = details.elections.get(election_id)
        if own is not None and own.areas:
            return own.areas
        if details.areas:
            return details.areas
    return default or []


# --------------------------------------------------------------------------------------------
# Candidates

CSV_COLUMNS = (
    "area",
    "surname",
    "forenames",
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
    "status",
    "reason",
)
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


def _shown(text: str, limit: int = 60) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


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
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PollflowError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PollflowError(
            f"{path}: not UTF-8 text (byte {exc.start}): save it as 'CSV UTF-8' and import it again"
        ) from exc
    if not text.strip():
        raise PollflowError(f"{path}: the file is empty: give a header line and one line per candidate")
    try:
        return _candidate_rows(path, text, areas)
    except csv.Error as exc:
        raise PollflowError(f"{path}: not a readable CSV file: {exc}") from exc


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
            f"{who} cannot withdraw now: withdrawals closed at {moment:%H:%M} on {moment:%A} "
            f"{moment.day} {moment:%B %Y} ({event.citation})"
        )


_FIELDS = (
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
        values = {name: getattr(row, name) for name in _FIELDS}
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
        **{name: getattr(row, name) for name in _FIELDS},
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


# --------------------------------------------------------------------------------------------
# Documents, versions and their steps


def document_for(
    session: Session, poll: Poll, key: str, scope: str, title: str, event_key: str | None, due_at
) -> Document:
    """The document row, created once; its title and deadline kept up to date."""
    doc = session.exec(
        select(Document).where(Document.poll_id == poll.id, Document.key == key, Document.scope == scope)
    ).first()
    if doc is None:
        doc = Document(poll_id=poll.id, key=key, scope=scope, title=title, event_key=event_key, due_at=due_at)
        session.add(doc)
        session.flush()
    elif (doc.title, doc.event_key, doc.due_at) != (title, event_key, due_at):
        doc.title, doc.event_key, doc.due_at, doc.updated_at = title, event_key, due_at, utcnow()
    return doc


def documents_of(session: Session, poll: Poll) -> list[Document]:
    return list(session.exec(select(Document).where(Document.poll_id == poll.id).order_by(Document.id)).all())


def find_document(session: Session, election_or_poll: str, key: str, known_keys: list[str] | None = None):
    """(poll, document) for an election id (or a poll's key) and a document key."""
    poll = find_poll(session, election_or_poll)
    docs = [d for d in documents_of(session, poll) if d.key == key]
    if known_keys is not None and key not in known_keys:
        raise PollflowError(f"unknown document '{key}': documents are {', '.join(known_keys)}")
    mine = [d for d in docs if d.scope == election_or_poll] or (docs if len(docs) == 1 else [])
    if not mine:
        if docs:
            raise PollflowError(
                f"{election_or_poll} has a {key} for each of its elections: name one of "
                f"{', '.join(d.scope for d in docs)}"
            )
        raise NotFoundError(
            f"no {key} for {election_or_poll} yet: it is made when it is due "
            f"(`pollflow document produce {election_or_poll}`; "
            f"`pollflow documents {election_or_poll}` lists them)"
        )
    return poll, mine[0]


def versions_of(session: Session, doc: Document) -> list[DocumentVersion]:
    return list(
        session.exec(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == doc.id)
            .order_by(DocumentVersion.number)
        ).all()
    )


def latest_version(session: Session, doc: Document) -> DocumentVersion | None:
    return session.exec(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == doc.id)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    ).first()


def steps_of(session: Session, version: DocumentVersion) -> dict[str, DocumentStep]:
    return {
        s.step: s for s in session.exec(select(DocumentStep).where(DocumentStep.version_id == version.id))
    }


def published_version(session: Session, doc: Document) -> DocumentVersion | None:
    return session.exec(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == doc.id, DocumentVersion.status == "published")
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    ).first()


@dataclass
class Saved:
    version: DocumentVersion
    created: bool
    superseded: DocumentVersion | None = None
    after_approval: bool = False  # the content changed after a version was approved (or published)


def save_version(
    session: Session,
    poll: Poll,
    doc: Document,
    *,
    template: str,
    context: dict,
    html: str,
    content_hash: str,
    actor: str,
    flow_run_id: str | None = None,
) -> Saved:
    """A new version if the content differs from the latest one's; the same version otherwise."""
    latest = latest_version(session, doc)
    if latest is not None and latest.content_hash == content_hash:
        return Saved(latest, created=False)
    version = DocumentVersion(
        document_id=doc.id,
        number=(latest.number + 1) if latest else 1,
        template=template,
        content_hash=content_hash,
        context=context,
        html=html,
        created_by=actor,
    )
    session.add(version)
    session.flush()
    audit = dict(poll_id=poll.id, subject=f"{doc.key}:{doc.scope}", flow_run_id=flow_run_id)
    after_approval = False
    if latest is not None:
        after_approval = latest.status in ("approved", "published") or (
            published_version(session, doc) is not None
        )
        if latest.status != "published":
            latest.status, latest.superseded_at = "superseded", utcnow()
        cancel_version_work(session, poll, doc, latest)
        if after_approval:
            record(
                session,
                actor,
                "document changed after approval",
                details={
                    "from_version": latest.number,
                    "to_version": version.number,
                    "was": latest.status if latest.status != "superseded" else "approved",
                    "needs": "proof-check and approval again",
                },
                **audit,
            )
    record(
        session,
        actor,
        "document generated",
        details={"version": version.number, "template": template, "content_hash": content_hash},
        **audit,
    )
    return Saved(version, created=True, superseded=latest, after_approval=after_approval)


def _version_for_step(session: Session, doc: Document, number: int | None) -> DocumentVersion:
    latest = latest_version(session, doc)
    if latest is None:
        raise DocumentError(f"{doc.key} for {doc.scope} has no version yet: run `pollflow document produce`")
    if number is not None and number != latest.number:
        why = "it replaced yours when the content changed" if number < latest.number else "no such version"
        raise DocumentError(
            f"version {number} of {doc.key} is not the latest: version {latest.number} is ({why})"
        )
    return latest


def _step(session, version, step, person, actor, note=None, details=None) -> DocumentStep:
    row = DocumentStep(
        version_id=version.id,
        step=step,
        person_id=person.id if person else None,
        actor=actor,
        note=note,
        details=details or {},
    )
    session.add(row)
    return row


def proof(
    session: Session,
    doc: Document,
    poll: Poll,
    by_email: str,
    *,
    version: int | None = None,
    note: str | None = None,
    current_hash: str | None = None,
) -> tuple[DocumentVersion, bool]:
    """Record the proof-check of the latest version by a named person; (version, newly done).

    ``current_hash`` (the hash of the document as the data now stand) refuses a proof of a
    version the data have moved on from."""
    by = find_person(session, by_email)
    target = _version_for_step(session, doc, version)
    steps = steps_of(session, target)
    if "proof" in steps:
        return target, False
    if target.status == "superseded":
        raise DocumentError(f"version {target.number} of {doc.key} was superseded")
    _check_current(doc, target, current_hash)
    _step(session, target, "proof", by, by.email, note)
    target.status = "proofed"
    record(
        session,
        by.email,
        "document proof-checked",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": target.number, "content_hash": target.content_hash, "note": note},
    )
    _complete_work(session, poll, doc, target, "proof", by)
    return target, True


def approve(
    session: Session,
    doc: Document,
    poll: Poll,
    by_email: str,
    *,
    version: int | None = None,
    note: str | None = None,
    current_hash: str | None = None,
) -> tuple[DocumentVersion, bool]:
    """Record the Returning Officer's (or a deputy's) approval of the proof-checked latest version;
    refused without the role, before the proof-check, or by the person who proof-checked it."""
    by = find_person(session, by_email)
    held = roles_of(session, by) & set(SIGNOFF_ROLES)
    if not held:
        raise DocumentError(
            f"{by.email} cannot approve {doc.key}: approval needs the returning-officer or "
            f"deputy-returning-officer role, and {by.email} holds neither"
        )
    target = _version_for_step(session, doc, version)
    steps = steps_of(session, target)
    if "approval" in steps:
        return target, False
    if "proof" not in steps:
        raise DocumentError(
            f"version {target.number} of {doc.key} has not been proof-checked: "
            f"`pollflow document proof {doc.scope} {doc.key} --by EMAIL` first"
        )
    if steps["proof"].person_id == by.id:
        raise DocumentError(
            f"{by.email} proof-checked version {target.number} of {doc.key}: the approval must be "
            "by someone else (a second pair of eyes)"
        )
    _check_current(doc, target, current_hash)
    _step(session, target, "approval", by, by.email, note, {"role": sorted(held)[0]})
    target.status = "approved"
    record(
        session,
        by.email,
        "document approved",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": target.number, "content_hash": target.content_hash, "role": sorted(held)[0]},
    )
    _complete_work(session, poll, doc, target, "approve", by)
    return target, True


def _check_current(doc: Document, version: DocumentVersion, current_hash: str | None) -> None:
    if current_hash is not None and current_hash != version.content_hash:
        raise DocumentError(
            f"the data behind {doc.key} changed after version {version.number} was made: run "
            f"`pollflow document produce {doc.scope}` to make the next version, and check that one"
        )


def check_publishable(session: Session, doc: Document, publish_from: dt.datetime | None, as_of: dt.datetime):
    """The latest version, if it may be published now; else why not. None if already published."""
    latest = _version_for_step(session, doc, None)
    steps = steps_of(session, latest)
    if "publication" in steps:
        return None
    if "approval" not in steps:
        missing = "proof-checked or approved" if "proof" not in steps else "approved"
        raise DocumentError(
            f"version {latest.number} of {doc.key} has not been {missing}: it cannot be published "
            f"before the Returning Officer or a deputy approves it"
        )
    if publish_from is not None and as_of < publish_from:
        day = local(publish_from)
        raise DocumentError(
            f"{doc.key} is dated {day:%A} {day.day} {day:%B %Y}: it cannot be published before that day "
            f"(to publish earlier, set the date: `pollflow replan {doc.scope} --set {doc.event_key}=DATE`, "
            "which makes a new version for sign-off)"
        )
    return latest


def record_publication(
    session: Session,
    poll: Poll,
    doc: Document,
    version: DocumentVersion,
    actor: str,
    files: list[dict],
    as_of: dt.datetime,
    flow_run_id: str | None = None,
    publish_work: str | None = None,
) -> DocumentStep:
    """Record that the version was published (files written, where); complete the work item that
    carried the publishing deadline, in the name of the person who approved the version."""
    late = doc.due_at is not None and as_of > doc.due_at
    details = {
        "files": files,
        "late": late,
        "deadline": local(doc.due_at).isoformat() if doc.due_at else None,
    }
    step = _step(session, version, "publication", None, actor, details=details)
    version.status = "published"
    for older in versions_of(session, doc):
        if older.number < version.number and older.status not in ("published", "superseded"):
            older.status = "superseded"
    record(
        session,
        actor,
        "document published",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": version.number, "content_hash": version.content_hash, **details},
        flow_run_id=flow_run_id,
    )
    approval = steps_of(session, version).get("approval")
    approver = session.get(Person, approval.person_id) if approval and approval.person_id else None
    if publish_work and close_work(
        session, poll, publish_work, "done", f"published version {version.number}", approver
    ):
        record(
            session,
            actor,
            "completed",
            poll_id=poll.id,
            subject=publish_work,
            details={
                "note": f"{doc.key} version {version.number} published",
                "signoff": approver.email if approver else None,
            },
            flow_run_id=flow_run_id,
        )
    return step


def record_webhook(
    session: Session, poll: Poll, doc: Document, version: DocumentVersion, url_host: str
) -> None:
    _step(session, version, "webhook", None, "flow:produce-documents", details={"to": url_host})
    record(
        session,
        "flow:produce-documents",
        "document sent to webhook",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": version.number, "to": url_host},
    )


# --------------------------------------------------------------------------------------------
# Work: proof-checks, approvals, missing details and publication deadlines as work items

PROOF_ROLE = "electoral-services-officer"
APPROVE_ROLE = "returning-officer"
PUBLISH_ROLE = "electoral-services-manager"


def work_key(step: str, doc: Document, version: DocumentVersion | None = None) -> str:
    return f"{step}_{doc.key}:{doc.scope}" + (f":v{version.number}" if version else "")


def _work(session: Session, poll: Poll, key: str) -> WorkItem | None:
    return session.exec(select(WorkItem).where(WorkItem.poll_id == poll.id, WorkItem.key == key)).first()


def ensure_work(
    session: Session,
    poll: Poll,
    key: str,
    *,
    title: str,
    role: str,
    due_at: dt.datetime,
    event_key: str | None,
    election_id: str | None,
    signoff: bool = False,
    description: str | None = None,
    depends_on: WorkItem | None = None,
    actor: str = "flow:produce-documents",
) -> tuple[WorkItem, bool]:
    """A work item of this module's, created once (and its due date kept up to date)."""
    from store.planning import OwnerPicker

    item = _work(session, poll, key)
    if item is not None:
        if item.status == "open" and (item.due_at != due_at or item.title != title):
            item.due_at, item.title = due_at, title
        return item, False
    owner = OwnerPicker(session).pick(role)
    item = WorkItem(
        poll_id=poll.id,
        key=key,
        title=title,
        description=description,
        owner_role=role,
        owner_id=owner.id if owner else None,
        due_at=due_at,
        anchor=event_key or "poll",
        event_key=event_key,
        needs_signoff=signoff,
        source=SOURCE,
        election_id=election_id,
    )
    session.add(item)
    session.flush()
    if depends_on is not None:
        session.add(WorkDependency(work_item_id=item.id, depends_on_id=depends_on.id))
    record(
        session,
        actor,
        "work raised",
        poll_id=poll.id,
        subject=key,
        details={"title": title, "owner": owner.email if owner else None, "due": local(due_at).isoformat()},
    )
    return item, True


def close_work(
    session: Session, poll: Poll, key: str, status: str, note: str, by: Person | None = None
) -> bool:
    item = _work(session, poll, key)
    if item is None or item.status != "open":
        return False
    item.status, item.note = status, note
    if status == "done":
        item.completed_at, item.completed_by_id = utcnow(), by.id if by else None
    return True


def _complete_work(session, poll, doc, version, step, by: Person | None) -> None:
    close_work(session, poll, work_key(step, doc, version), "done", f"version {version.number}", by)


def cancel_version_work(session: Session, poll: Poll, doc: Document, version: DocumentVersion) -> None:
    for step in ("proof", "approve"):
        close_work(
            session, poll, work_key(step, doc, version), "cancelled", f"version {version.number} superseded"
        )


def publish_work_key(
    session: Session, poll: Poll, doc: Document, catalogue_key: str | None = None
) -> str | None:
    """The work item that carries the document's publishing deadline: the catalogue's own task
    where the plan has one (``publish_sopn``, or ``publish_sopn:<election>`` in a combined poll),
    else this module's ``publish_<key>:<scope>``."""
    candidates = []
    if catalogue_key:
        candidates += [f"{catalogue_key}:{doc.scope}", catalogue_key]
    candidates.append(work_key("publish", doc))
    for key in candidates:
        item = _work(session, poll, key)
        if item is not None and item.status != "cancelled":
            return key
    return None
