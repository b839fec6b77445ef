"""Engine, sessions and migrations.

SQLite under POLLFLOW_HOME by default; PostgreSQL when POLLFLOW_DATABASE_URL names one. A new
SQLite file is brought to the current schema on first use; a server database is upgraded with
``pollflow db upgrade`` (so that several machines never race to migrate it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, event, inspect
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from timetables import settings
from timetables.errors import PollflowError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


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
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Room for the web server's worker threads (40) as well as flows and commands.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10, max_overflow=40
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)


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
