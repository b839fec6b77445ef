"""Engine, sessions and migrations.

SQLite under POLLFLOW_HOME by default; PostgreSQL when POLLFLOW_DATABASE_URL names one. A new
SQLite file is brought to the current schema on first use; a server database is upgraded with
``pollflow db upgrade`` (so that several machines never race to migrate it).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, event, inspect
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine

from timetables import settings
from timetables.errors import PollflowError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PRIVATE = 0o600  # the store holds names, addresses and (encrypted) bank details: its owner's only
log = logging.getLogger("pollflow.store")


class StoreError(PollflowError):
    """The store cannot be used as asked (no server, not migrated)."""


def database_url() -> str:
    return settings.database_url()


def _normalise(url: str) -> str:
    # "postgresql://" means psycopg 3 here, the driver pollflow installs.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@cache
def _engine(url: str) -> Engine:
    url = _normalise(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        private = path and path != ":memory:" and not path.startswith("file:")
        if private:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _make_private(Path(path))
        # Room for the web server's worker threads (40) as well as flows and commands. Errors never
        # carry the statement's values (names, emails, bank data): hide_parameters.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=10,
            max_overflow=40,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            if private:  # SQLite makes -wal and -shm like the database; an older store may not be
                _make_private(Path(path))

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40, hide_parameters=True)


def _make_private(path: Path) -> None:
    """The SQLite file, created 0600 before SQLite opens it, and its -wal and -shm made so."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if name.stat().st_mode & 0o777 != PRIVATE:
                os.chmod(name, PRIVATE)


# What a refusing database said, as words for the person (never the statement or its values:
# PostgreSQL's own message names the duplicate value). By SQLSTATE, then SQLite's message.
_REASONS = (
    ("23505", "UNIQUE constraint", "a duplicate of something that must be unique"),
    ("23502", "NOT NULL constraint", "a value that must be given is missing"),
    ("23503", "FOREIGN KEY constraint", "it refers to something that is not in the store"),
    ("23514", "CHECK constraint", "a value is not one the store allows"),
    ("22001", "too long", "a value too long"),
    ("40P01", "deadlock", "another change was being saved at the same moment: try again"),
    ("55P03", "database is locked", "the store was busy with another change: try again"),
)


def database_refusal(exc: SQLAlchemyError) -> str:
    """One line for a person: what the database refused, in words, and that nothing was saved.

    The detail (the statement, never its values, and the database's first line) is logged at
    DEBUG for the team's technical staff."""
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or ""
    said = str(orig if orig is not None else "").splitlines()[0:1]
    # PostgreSQL's message can quote a value ('invalid input syntax ...: "..."'): log its names only.
    diag = getattr(orig, "diag", None)
    where = [getattr(diag, k, None) for k in ("table_name", "column_name", "constraint_name")]
    log.debug(
        "the database refused: %s %s: %s; statement: %s",
        type(exc).__name__,
        state,
        ", ".join(w for w in where if w) if state else (said[0] if said else ""),
        getattr(exc, "statement", None),
    )
    known = (r for code, words, r in _REASONS if state == code or (not state and said and words in said[0]))
    reason = next(known, None)
    if reason is None:
        if isinstance(exc, IntegrityError):
            reason = "it breaks one of the store's rules"
        elif isinstance(exc, DataError):
            reason = "a value of the wrong kind or size"
        elif isinstance(exc, OperationalError):
            reason = "it could not be reached or was busy"
        else:
            reason = type(exc).__name__
    return f"the database refused the change: {reason}; nothing was saved"


def dispose(url: str) -> None:
    """Close an engine's connections and forget it (tests make one per database)."""
    engine = _engine(url)
    engine.dispose()
    _engine.cache_clear()
    _checked.discard(str(engine.url))


def get_engine(url: str | None = None, migrate: bool = True) -> Engine:
    """The engine for the store, migrated to the current schema where that is safe."""
    url = url or database_url()
    engine = _engine(url)
    if migrate:
        ensure_schema(engine)
    return engine


def alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine | None = None) -> str:
    """Apply every migration; return the revision(s) the database is now at.

    Each part of pollflow (the core, staff, documents, canvass) keeps its own branch of migrations
    from the core's first one, so "heads": every branch to its latest.
    """
    from alembic import command

    engine = engine or get_engine(migrate=False)
    command.upgrade(alembic_config(engine), "heads")
    return ", ".join(sorted(current_revisions(engine)))


def current_revisions(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(None)).get_heads())


_checked: set[str] = set()


def ensure_schema(engine: Engine) -> None:
    """Migrate a SQLite store automatically; refuse to use a server database not yet migrated."""
    key = str(engine.url)
    if key in _checked:
        return
    try:
        current = current_revisions(engine)
        with engine.connect() as connection:
            has_tables = bool(inspect(connection).get_table_names())
    except OperationalError as exc:
        raise StoreError(f"cannot open the store at {engine.url.render_as_string()}: {exc.orig}") from exc
    heads = head_revisions()
    if current != heads:
        if engine.dialect.name == "sqlite":
            upgrade(engine)
        elif not current and has_tables:
            raise StoreError(f"{engine.url}: the database has tables but no pollflow schema version")
        else:
            raise StoreError(
                f"the store at {engine.url.render_as_string(hide_password=True)} is at schema "
                f"{', '.join(sorted(current)) or 'none'}, not {', '.join(sorted(heads))}: "
                "run `pollflow db upgrade`"
            )
    _checked.add(key)


@contextlib.contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: nothing half-written."""
    session = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
