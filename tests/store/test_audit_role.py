"""On PostgreSQL the application connects as a role that owns nothing (README, PostgreSQL): it can
append to the audit trail and read it, but not lift its triggers, drop it or change a row. The
tables' owner (the migration role) still could: that is what the hash chain is for."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from store.audit import record, verify
from store.db import dispose, get_engine, session_scope


def _schema(url: str) -> str:
    options = parse_qs(urlsplit(url).query)["options"][0]  # -csearch_path=<schema>
    return options.split("=", 1)[1]


@pytest.fixture
def app_role(postgres_store):
    """A login role with only the application's privileges on the store's throwaway schema; the
    store's URL as that role. Dropped afterwards, whatever happened."""
    schema = _schema(postgres_store.url)
    role = f"pollflow_app_test_{uuid.uuid4().hex[:8]}"  # unique: the server is shared by test runs
    grants = [
        f"CREATE ROLE {role} LOGIN",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"REVOKE UPDATE, DELETE ON {schema}.audit_entry FROM {role}",
    ]
    owner = postgres_store.engine
    with owner.begin() as connection:
        for statement in grants:
            connection.execute(text(statement))
    url = postgres_store.url.replace("postgresql://", f"postgresql://{role}@", 1)
    try:
        yield url
    finally:
        dispose(url)
        with owner.begin() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))


def test_the_application_role_appends_to_the_trail_and_reads_it(app_role):
    engine = get_engine(app_role)
    with session_scope(engine) as s:
        record(s, "flow:test", "did", details={"as": "the application"})
        record(s, "flow:test", "did again")
    with session_scope(engine) as s:
        verdict = verify(s)
    assert verdict.intact and verdict.entries == 2


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("ALTER TABLE audit_entry DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TABLE audit_entry", "must be owner"),
        ("UPDATE audit_entry SET actor = 'someone else'", "permission denied"),
        ("DELETE FROM audit_entry", "permission denied"),
        ("TRUNCATE audit_entry", "permission denied"),
        ("ALTER TABLE audit_entry OWNER TO CURRENT_USER", "must be owner"),
    ],
)
def test_the_application_role_cannot_lift_the_guard_drop_or_rewrite_the_trail(app_role, statement, refusal):
    engine = get_engine(app_role)
    with session_scope(engine) as s:
        record(s, "flow:test", "did")
    with pytest.raises(ProgrammingError, match=refusal), engine.begin() as connection:
        connection.execute(text(statement))
    with session_scope(engine) as s:
        assert verify(s).intact
