"""A throwaway schema on a PostgreSQL server: made, migrated, handed over, dropped. The tests and
the benchmarks both run the store on one, so that each run starts empty and leaves nothing behind
on a shared server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text

from store.db import dispose, get_engine, upgrade


def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def unavailable(url: str) -> str | None:
    """None if the server answers, else why not (for a skip message)."""
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # any failure to connect means "no server here"
        return f"no PostgreSQL at {url}: {exc.__class__.__name__}"
    finally:
        engine.dispose()
    return None


@contextmanager
def throwaway_schema(url: str, prefix: str = "pf") -> Iterator[str]:
    """The store's URL on a new, migrated schema of the server at ``url``; dropped on the way out,
    whatever happened inside."""
    admin = _engine(url)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    try:
        upgrade(get_engine(scoped, migrate=False))
        yield scoped
    finally:
        dispose(scoped)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    """The statements sent to the database while the block runs (a multi-row INSERT or an
    executemany is one call to the driver, so one statement): the tests and benchmarks that pin
    how many a piece of work sends count them with this."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)
