"""A database refusing a change is one readable line: never the SQL, never the values it carried
(issue 16: on PostgreSQL an error printed the whole INSERT with names, emails and bank data).
Provoked for real, on SQLite and PostgreSQL, through the commands people run."""

from __future__ import annotations

import logging

from sqlalchemy import text

from pollflow.cli import main
from tests.support.staff import FIXTURES

SECRET_NAME = "Alice Secretname"
SECRET_EMAILS = ("alice.secret@wychwood.gov.uk", "alice.other@wychwood.gov.uk")
SQL_WORDS = ("INSERT", "SELECT", "UPDATE", "[parameters", "[SQL", "sqlalche.me")


def assert_one_clean_line(err: str, reason: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0] == f"pollflow: error: the database refused the change: {reason}; nothing was saved"
    for word in (*SQL_WORDS, SECRET_NAME, *SECRET_EMAILS, "OX7 1AB", "12345678"):
        assert word not in err, word


def test_a_duplicate_refused_by_the_database_is_one_line_without_sql_or_values(
    store, tmp_path, capsys, caplog
):
    # A rule the command does not check for itself, as when another session saved the same row a
    # moment before: the database is the one to refuse it.
    with store.engine.begin() as connection:
        connection.execute(text("CREATE UNIQUE INDEX test_person_name ON person (name)"))
    team = tmp_path / "team.csv"
    team.write_text(
        "name,email,roles\n"
        f"{SECRET_NAME},{SECRET_EMAILS[0]},electoral-services-manager\n"
        f"{SECRET_NAME},{SECRET_EMAILS[1]},staffing-officer\n"
    )
    with caplog.at_level(logging.DEBUG, logger="pollflow.store"):
        code = main(["people", "import", str(team)])
    out, err = capsys.readouterr()
    assert code == 2
    assert_one_clean_line(err, "a duplicate of something that must be unique")
    assert SECRET_NAME not in out
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "pollflow.store")
    assert "INSERT INTO person" in logged  # the detail is for the log, at DEBUG, without the values
    assert SECRET_NAME not in logged and SECRET_EMAILS[0] not in logged
    with store.engine.connect() as connection:
        saved = connection.execute(text("SELECT count(*) FROM person WHERE name = :n"), {"n": SECRET_NAME})
        assert saved.scalar() == 0  # nothing was saved


def test_a_value_too_long_for_postgresql_is_one_line_without_sql_or_values(postgres_store, tmp_path, capsys):
    # PostgreSQL enforces a column's length (SQLite does not): a station code of 150 characters.
    long_code = "W" + "9" * 149
    stations = (FIXTURES / "pollflow_stations.csv").read_text().replace("\nW01,", f"\n{long_code},", 1)
    bad = tmp_path / "stations.csv"
    bad.write_text(stations)
    code = main(["stations", "import", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert_one_clean_line(err, "a value too long")
    assert long_code not in err and "Church Lane" not in err
