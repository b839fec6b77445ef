"""The databases every store benchmark runs on: a fresh SQLite file, then a throwaway schema on
the test PostgreSQL server (``POLLFLOW_TEST_POSTGRES_URL``, as the tests use), dropped afterwards.
Where no server answers, the PostgreSQL run is skipped and the reason printed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from store.scratch import throwaway_schema, unavailable

POSTGRES = os.environ.get("POLLFLOW_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


def databases(prefix: str) -> Iterator[tuple[str, str]]:
    """("SQLite", url) then ("PostgreSQL", url). The SQLite file is migrated on first use, as the
    store does with a new file; the PostgreSQL schema here."""
    from store.db import dispose

    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        try:
            yield "SQLite", url
        finally:
            dispose(url)
    reason = unavailable(POSTGRES)
    if reason:  # no server here: say so and carry on
        print(f"PostgreSQL: skipped ({reason})")
        return
    with throwaway_schema(POSTGRES, "bench") as url:
        yield "PostgreSQL", url
