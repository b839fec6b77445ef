"""A checked progress file stored: the import (one a file, kept for the record and the trend) and
the current report's properties, replaced in bulk and read back. The same file twice is one import;
a report on an older day than the current one changes no property.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from store.audit import record
from store.canvass import CanvassError
from store.canvass.progress import PROP_FIELDS, ProgressFile, Prop
from store.canvass.rules import analyse, rules_for
from store.models import Poll
from store.models.canvass import CanvassImport, CanvassProperty


@dataclass
class ImportOutcome:
    poll_key: str
    import_id: int
    report_date: dt.date
    properties: int
    status: str  # current | superseded | already imported
    superseded_id: int | None = None
    figures: dict = field(default_factory=dict)
    groups: dict | None = None  # the need groups, when computed now (not persisted)
    notes: list[str] = field(default_factory=list)

    @property
    def already(self) -> bool:
        return self.status == "already imported"

    def summary(self) -> dict:
        return {
            "poll_key": self.poll_key,
            "import_id": self.import_id,
            "report_date": self.report_date.isoformat(),
            "properties": self.properties,
            "status": self.status,
            "superseded_import": self.superseded_id,
            "notes": self.notes,
        }


def current_import(session: Session, poll: Poll) -> CanvassImport | None:
    return session.scalars(
        select(CanvassImport).where(CanvassImport.poll_id == poll.id, CanvassImport.status == "current")
    ).first()


def require_import(session: Session, poll: Poll) -> CanvassImport:
    """The current import, or an error saying how to make one."""
    current = current_import(session, poll)
    if current is None:
        raise CanvassError(
            f"no progress report imported for {poll.key} yet: import the EMS's with "
            f"`pollflow canvass import {poll.key} FILE`"
        )
    return current


def import_progress(
    session: Session,
    poll: Poll,
    parsed: ProgressFile,
    actor: str,
    flow_run_id: str | None = None,
) -> ImportOutcome:
    """Store a checked progress file. The same file again changes nothing; a report on an older day
    than the current one is kept for the record and the trend but changes no property."""
    existing = session.scalars(
        select(CanvassImport).where(CanvassImport.poll_id == poll.id, CanvassImport.sha256 == parsed.sha256)
    ).first()
    if existing is not None:
        return ImportOutcome(
            poll.key,
            existing.id,
            existing.report_date,
            existing.properties,
            "already imported",
            figures=existing.figures,
        )
    rules = rules_for(session, poll)
    year = rules.year
    if not (dt.date(year, 1, 1) <= parsed.report_date <= dt.date(year + 1, 3, 31)):
        raise CanvassError(
            f"{parsed.path}: nothing imported: the report date {parsed.report_date.isoformat()} is not in "
            f"the {year} registration year"
        )
    figures, groups = analyse(parsed.rows, parsed.report_date, rules)
    current = current_import(session, poll)
    newest = current is None or parsed.report_date >= current.report_date
    row = CanvassImport(
        poll_id=poll.id,
        sha256=parsed.sha256,
        filename=Path(parsed.path).name,
        report_date=parsed.report_date,
        properties=len(parsed.rows),
        status="current" if newest else "superseded",
        imported_by=actor,
        figures=figures,
    )
    session.add(row)
    session.flush()
    if newest:
        if current is not None:
            current.status = "superseded"
        _replace_properties(session, poll, row.id, parsed.rows)
    record(
        session,
        actor,
        "canvass progress imported",
        poll_id=poll.id,
        subject=row.filename,
        details={
            "import_id": row.id,
            "sha256": parsed.sha256,
            "report_date": parsed.report_date.isoformat(),
            "properties": len(parsed.rows),
            "status": row.status,
            "supersedes": current.id if newest and current is not None else None,
            "superseded_by": None if newest else current.id,
            "response_rate": figures["routes"]["all"]["rate"],
        },
        flow_run_id=flow_run_id,
    )
    return ImportOutcome(
        poll.key,
        row.id,
        parsed.report_date,
        len(parsed.rows),
        row.status,
        superseded_id=current.id if newest and current is not None else None,
        figures=figures,
        groups=groups if newest else None,
        notes=parsed.notes,
    )


COLUMN_NAMES = ("poll_id", "import_id", *PROP_FIELDS)
_DATE_FIELDS = {i for i, f in enumerate(PROP_FIELDS) if Prop.__annotations__[f].startswith("dt.date")}


def _replace_properties(session: Session, poll: Poll, import_id: int, rows: list[Prop]) -> None:
    """The current report's properties, all of them: the old ones out, the new ones in, in one
    transaction (nothing half-replaced). A report has up to a few hundred thousand rows, so they go
    through the driver's own bulk path: COPY on PostgreSQL, executemany of tuples on SQLite."""
    session.execute(delete(CanvassProperty).where(CanvassProperty.poll_id == poll.id))
    connection = session.connection()
    columns = ", ".join(COLUMN_NAMES)
    head = (poll.id, import_id)
    values = (tuple(getattr(p, f) for f in PROP_FIELDS) for p in rows)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY canvass_property ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(head + row)
        return
    if connection.dialect.name != "sqlite":  # any other database: SQLAlchemy's portable path
        session.execute(
            insert(CanvassProperty.__table__),
            [dict(zip(COLUMN_NAMES, head + r, strict=True)) for r in values],
        )
        return

    # SQLite keeps dates as ISO text and booleans as 0/1, as SQLAlchemy's types write them.
    def stored(row: tuple) -> tuple:
        return head + tuple(
            (v.isoformat() if v is not None else None)
            if i in _DATE_FIELDS
            else (int(v) if isinstance(v, bool) else v)
            for i, v in enumerate(row)
        )

    marks = ", ".join("?" for _ in COLUMN_NAMES)
    connection.exec_driver_sql(
        f"INSERT INTO canvass_property ({columns}) VALUES ({marks})", [stored(r) for r in values]
    )


def load_properties(session: Session, poll: Poll) -> list[Prop]:
    """The current report's properties (read through the driver: SQLite's dates come back as
    text, each distinct one parsed once)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        columns = [getattr(CanvassProperty, f) for f in PROP_FIELDS]
        result = session.execute(select(*columns).where(CanvassProperty.poll_id == poll.id))
        return [Prop(*values) for values in result]
    rows = connection.exec_driver_sql(
        f"SELECT {', '.join(PROP_FIELDS)} FROM canvass_property WHERE poll_id = ? ORDER BY line", (poll.id,)
    ).fetchall()
    days: dict[str | None, dt.date | None] = {None: None}

    def day(text: str | None) -> dt.date | None:
        found = days.get(text, days)
        if found is days:
            found = days[text] = dt.date.fromisoformat(text)
        return found

    flags = {i for i, f in enumerate(PROP_FIELDS) if Prop.__annotations__[f] == "bool"}
    out = []
    for values in rows:
        out.append(
            Prop(
                *(
                    day(v) if i in _DATE_FIELDS else (bool(v) if i in flags else v)
                    for i, v in enumerate(values)
                )
            )
        )
    return out


def count_properties(session: Session, poll: Poll) -> int:
    return session.scalar(
        select(func.count()).select_from(CanvassProperty).where(CanvassProperty.poll_id == poll.id)
    )
