"""The audit trail's hash chain (store/audit.py): entries written through pollflow verify clean;
each way of tampering with the rows in SQL is named, with the entry's id, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, select, text
from sqlmodel import select as sqlmodel_select

from flows.daily_digest import daily_digest
from pollflow.cli import main
from store.audit import GENESIS, HASHED_FIELDS, entry_hash, record, verify
from store.db import alembic_config, dispose, get_engine, session_scope, upgrade
from store.models import AuditEntry
from store.planning_rows import insert_entries
from tests.flows.test_plan_and_check import read_artifacts


def _write(store, count: int = 5) -> None:
    """``count`` entries: the first ones through the session's flush, the last two through the
    bulk INSERT planning and the deadline scan use."""
    with store.session() as s:
        for i in range(count - 2):
            record(s, "flow:test", "did", subject=f"item-{i}", details={"i": i, "note": "é", "n": [1, 2]})
    with store.session() as s:
        entries = [record(s, "flow:test", "bulk", details={"i": i}) for i in range(count - 2, count)]
        insert_entries(s, entries)


def _tamper(store, *statements, params: dict | None = None) -> None:
    """As the tables' owner could: with the append-only triggers out of the way."""
    with store.engine.begin() as connection:
        if store.backend == "postgres":
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER ALL"))
        else:
            for name in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS audit_entry_no_{name}"))
        for statement in statements:
            connection.execute(text(statement), params or {})
        if store.backend == "postgres":
            connection.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER ALL"))


def _verdict(store, head=None):
    with store.session() as s:
        return verify(s, head)


def _named(store, head=None) -> set[tuple[int, str]]:
    return {(p.id, p.kind) for p in _verdict(store, head).problems}


def _row(store, ident: int, raw: bool = False) -> dict:
    """An entry's columns, as the database holds them (``raw``) or as Python values."""
    table = AuditEntry.__table__
    query = (
        text("SELECT * FROM audit_entry WHERE id = :id") if raw else select(table).where(table.c.id == ident)
    )
    with store.engine.connect() as connection:
        return dict(connection.execute(query, {"id": ident}).mappings().one())


def test_entries_written_through_pollflow_verify_clean(store):
    _write(store)
    verdict = _verdict(store)
    assert verdict.intact and verdict.entries == 5
    with store.session() as s:
        rows = list(s.exec(sqlmodel_select(AuditEntry).order_by(AuditEntry.id)))
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert (verdict.head_id, verdict.head_hash) == (5, rows[-1].hash)
    assert _verdict(store, (5, rows[-1].hash)).intact


def test_every_column_is_hashed_or_is_the_hash():
    columns = {c.name for c in AuditEntry.__table__.columns}
    assert columns - set(HASHED_FIELDS) == {"hash"}, "a new column: decide whether the hash covers it"


def test_a_rewritten_details_field_is_named(store):
    _write(store)
    _tamper(store, """UPDATE audit_entry SET details = '{"i": 99}' WHERE id = 3""")
    assert _named(store) == {(3, "rewritten")}


def test_a_deleted_entry_is_named(store):
    _write(store)
    _tamper(store, "DELETE FROM audit_entry WHERE id = 3")
    problems = _verdict(store).problems
    assert [(p.id, p.kind) for p in problems] == [(4, "deleted")]
    assert "entry 3 before it is missing" in str(problems[0])


def test_the_first_entry_deleted_is_named(store):
    _write(store)
    _tamper(store, "DELETE FROM audit_entry WHERE id = 1")
    assert _named(store) == {(2, "deleted")}


def test_swapped_ids_are_named_as_reordered(store):
    _write(store)
    _tamper(
        store,
        "UPDATE audit_entry SET id = 100 WHERE id = 2",
        "UPDATE audit_entry SET id = 2 WHERE id = 4",
        "UPDATE audit_entry SET id = 4 WHERE id = 100",
    )
    problems = _verdict(store).problems
    named = {(p.id, p.kind) for p in problems}
    assert {(2, "reordered"), (4, "reordered")} <= named
    assert any(str(p).startswith("entry 2: reordered: it was written as entry 4") for p in problems)


def test_swapped_timestamps_are_named(store):
    _write(store)
    second, fourth = _row(store, 2, raw=True)["at"], _row(store, 4, raw=True)["at"]
    _tamper(
        store,
        "UPDATE audit_entry SET at = :fourth WHERE id = 2",
        "UPDATE audit_entry SET at = :second WHERE id = 4",
        params={"second": second, "fourth": fourth},
    )
    assert _named(store) == {(2, "rewritten"), (4, "rewritten")}


def _insert(store, row: dict) -> None:
    """A plain INSERT, past the session (and so past store.audit's numbering and chaining)."""
    with store.engine.begin() as connection:
        connection.execute(insert(AuditEntry.__table__), row)


def _backdated(store, **extra) -> dict:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    row = dict(id=6, at=at, actor="someone", action="approved", details={}, prev_hash=_row(store, 5)["hash"])
    return {**row, **extra}


def test_a_backdated_entry_is_named_even_with_a_forged_hash(store):
    _write(store)
    row = _backdated(store)
    # The algorithm is no secret: whoever can write the table can chain a row properly.
    row["hash"] = entry_hash(row)
    _insert(store, row)
    problems = _verdict(store).problems
    assert [(p.id, p.kind) for p in problems] == [(6, "backdated")]
    assert "47 hours before entry 5" in str(problems[0]) or "48 hours before entry 5" in str(problems[0])


def test_an_entry_inserted_without_a_hash_is_named(store):
    _write(store)
    _insert(store, _backdated(store, at=dt.datetime.now(dt.UTC)))
    assert _named(store) == {(6, "unchained")}
    with store.session() as s:  # and the next entry written through pollflow chains after it
        record(s, "flow:test", "after")
    assert _named(store) == {(6, "unchained")}


def test_replace_into_on_sqlite_is_named(sqlite_store):
    _write(sqlite_store)
    row = _row(sqlite_store, 3, raw=True)
    row["details"] = '{"i": 99}'
    columns = ", ".join(row)
    # REPLACE deletes and re-inserts without firing the delete trigger: no triggers to lift.
    with sqlite_store.engine.begin() as connection:
        connection.execute(
            text(f"REPLACE INTO audit_entry ({columns}) VALUES ({', '.join(f':{c}' for c in row)})"), row
        )
    assert _row(sqlite_store, 3)["details"] == {"i": 99}
    assert _named(sqlite_store) == {(3, "rewritten")}


def test_a_rehashed_rewrite_breaks_the_next_link(store):
    _write(store)
    row = _row(store, 3)
    forged = entry_hash({**row, "details": {"i": 99}})
    _tamper(
        store,
        """UPDATE audit_entry SET details = '{"i": 99}', hash = :h WHERE id = 3""",
        params={"h": forged},
    )
    assert _named(store) == {(4, "broken")}


def test_the_published_head_catches_entries_deleted_from_the_end(store):
    _write(store)
    head = (5, _row(store, 5)["hash"])
    _tamper(store, "DELETE FROM audit_entry WHERE id = 5")
    assert _verdict(store).intact  # the chain alone cannot tell
    assert _named(store, head) == {(5, "deleted")}


def test_concurrent_writers_still_make_one_chain(store):
    barrier = threading.Barrier(4)
    errors = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                with store.session() as s:
                    record(s, f"flow:writer-{n}", "did", details={"i": i})
                    record(s, f"flow:writer-{n}", "did again", details={"i": i})
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    assert store.engine  # a new SQLite store is migrated on first use: once, before the writers
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    verdict = _verdict(store)
    assert verdict.intact and verdict.entries == 80 and verdict.head_id == 80


def test_pollflow_audit_verify_exits_1_naming_the_entry(store, capsys):
    _write(store)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    head = _row(store, 5)["hash"]
    assert "audit trail intact: 5 entries" in out and f"head: 5:{head}" in out
    _tamper(store, "DELETE FROM audit_entry WHERE id = 5")
    assert main(["audit", "verify", "--head", f"5:{head}"]) == 1
    out = capsys.readouterr().out
    assert "entry 5: deleted: the published head is gone (the last entry is 4)" in out
    assert main(["audit", "verify", "--head", "5"]) == 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_migration_chains_entries_already_there(tmp_path, backend):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    command.upgrade(alembic_config(engine), "0006_messages")
    old = "INSERT INTO audit_entry (id, at, actor, action, details) VALUES (:i, :at, 'x', 'y', '{}')"
    with engine.begin() as connection:
        for i in (1, 2, 4):  # ids with a gap: chained as they stand
            connection.execute(text(old), {"i": i, "at": f"2026-01-0{i} 09:00:00.000000"})
    engine.dispose()
    upgrade(get_engine(url, migrate=False))
    with session_scope(get_engine(url)) as s:
        assert verify(s).intact
    with pytest.raises(Exception, match="append-only"), get_engine(url).begin() as connection:
        connection.execute(text("UPDATE audit_entry SET actor = 'z'"))  # the guard is back
    dispose(url)


def test_the_daily_digest_publishes_the_chain_head(sqlite_store, prefect):
    _write(sqlite_store)
    as_of = dt.datetime(2027, 3, 1, 8, tzinfo=dt.UTC)
    daily_digest(as_of=as_of, deliver=False)
    (artifact,) = read_artifacts(["audit-head-20270301"])
    assert f"- 5:{_row(sqlite_store, 5)['hash']}" in artifact.data
