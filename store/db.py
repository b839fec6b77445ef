"""Engine, sessions and migrations.

SQLite under POLLFLOW_HOME by default; PostgreSQL when POLLFLOW_DATABASE_URL names one. A new
SQLite file is brought to the current schema on first use; a server database is upgraded with
``pollflow db upgrade`` (so that several machines never race to migrate it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, event, inspect
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from timetables.errors import PollflowError
from timetables.paths import pollflow_home

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(PollflowError):
    """The store cannot be used as asked (no server, not migrated)."""


def database_url() -> str:
    return os.environ.get("POLLFLOW_DATABASE_URL") or f"sqlite:///{pollflow_home() / 'pollflow.db'}"


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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


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
    """Apply every migration; return the revision the database is now at."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    engine = engine or get_engine(migrate=False)
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


_checked: set[str] = set()


def ensure_schema(engine: Engine) -> None:
    """Migrate a SQLite store automatically; refuse to use a server database not yet migrated."""
    key = str(engine.url)
    if key in _checked:
        return
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            has_tables = bool(inspect(connection).get_table_names())
    except OperationalError as exc:
        raise StoreError(f"cannot open the store at {engine.url.render_as_string()}: {exc.orig}") from exc
    head = head_revision()
    if current != head:
        if engine.dialect.name == "sqlite":
            upgrade(engine)
        elif current is None and has_tables:
            raise StoreError(f"{engine.url}: the database has tables but no pollflow schema version")
        else:
            raise StoreError(
                f"the store at {engine.url.render_as_string(hide_password=True)} is at schema "
                f"{current or 'none'}, not {head}: run `pollflow db upgrade`"
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
