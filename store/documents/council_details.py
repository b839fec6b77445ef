"""A poll's council details: what its notices need beyond the timetable.

The council, the Returning Officer, each election's electoral areas and seats (and title and
deposit where the law or the council wants them said), polling stations and postal vote opening
sessions. They come in as one YAML file (``pollflow document details``), checked whole by the
models here, and are stored as one row per poll. Kept apart from candidates and document versions
because they change rarely and are read by everything that draws up a notice.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session, select

from store.audit import record
from store.models import Poll, utcnow
from store.models.documents import DocumentDetails
from store.queries import elections_of
from timetables.clock import LONDON
from timetables.errors import PollflowError


class _Strict(BaseModel):
    """A misspelt key in the file is an error naming it, never a value silently ignored."""

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
