"""The databases every store benchmark runs on: a fresh SQLite file, then a throwaway schema on
the test PostgreSQL server (``POLLFLOW_TEST_POSTGRES_URL``, as the tests use), dropped afterwards.
Where no server answers, the PostgreSQL run is skipped and the reason printed."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES = os.environ.get("POLLFLOW_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


def databases(prefix: str) -> Iterator[tuple[str, str]]:
    """("SQLite", url) then ("PostgreSQL", url). The SQLite file is migrated on first use, as the
    store does with a new file; the PostgreSQL schema here."""
    from store.db import dispose, get_engine, upgrade

    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        try:
            yield "SQLite", url
        finally:
            dispose(url)
    admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://"))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # no server here: say so and carry on
        admin.dispose()
        print(f"PostgreSQL: skipped ({exc.__class__.__name__} at {POSTGRES})")
        return
    url = f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{schema}"
    try:
        upgrade(get_engine(url, migrate=False))
        yield "PostgreSQL", url
    finally:
        dispose(url)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
