"""The SQLite store holds names, addresses and (encrypted) bank details: its files are its
owner's only (0600), the database and its -wal and -shm, whatever the umask (issue 16)."""

from __future__ import annotations

import os

from sqlalchemy import text

from store.db import dispose, get_engine


def modes(path) -> dict[str, int]:
    files = (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
    return {p.name: p.stat().st_mode & 0o777 for p in files if p.exists()}


def test_a_new_store_and_its_wal_files_are_private_whatever_the_umask(tmp_path):
    path = tmp_path / "new" / "pollflow.db"
    url = f"sqlite:///{path}"
    old = os.umask(0o022)  # the usual umask, that made the store 0644
    try:
        engine = get_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            connection.execute(text("INSERT INTO probe VALUES (1)"))
        found = modes(path)
        assert set(found) == {"pollflow.db", "pollflow.db-wal", "pollflow.db-shm"}
        assert set(found.values()) == {0o600}, {k: oct(v) for k, v in found.items()}
    finally:
        os.umask(old)
        dispose(url)


def test_an_older_store_left_readable_is_made_private(tmp_path):
    path = tmp_path / "pollflow.db"
    path.touch()
    path.chmod(0o644)
    url = f"sqlite:///{path}"
    try:
        with get_engine(url, migrate=False).connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        assert set(modes(path).values()) == {0o600}
    finally:
        dispose(url)
