"""The command line acts as a proven person: a personal access token (POLLFLOW_TOKEN), or else
the machine's shell, recorded as such. A name typed with --by is never believed; the acts that
must be a named person's are refused without a token, in one line saying how to get one; and
each write checks the token's person holds the permission, for every role."""

from __future__ import annotations

import getpass
import io

import pytest
from sqlmodel import select

from pollflow.cli import main
from store.models import DEFAULT_ROLES, AccessToken, AuditEntry, Notification
from tests.support.identity import PASSWORD, token_of
from tests.support.workspace import POLL, TEAM, seed_team

SHELL = f"local-shell:{getpass.getuser()}"


def run(capsys, *args, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def team(sqlite_store):
    seed_team(sqlite_store)
    return sqlite_store


def test_the_first_administrator_is_made_from_the_shell(sqlite_store, capsys, monkeypatch):
    code, out, err = run(
        capsys,
        "users",
        "create-admin",
        "Ada@Wychwood.gov.uk",
        "--name",
        "Ada Admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    assert "Added: Ada Admin <ada@wychwood.gov.uk>, roles administrator." in out and "/sign-in" in out
    code, out, _ = run(capsys, "users", "list")
    assert "ada@wychwood.gov.uk" in out and "administrator" in out
    with sqlite_store.session() as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "person added")).one()
    assert (entry.actor, entry.auth_method, entry.via, entry.person_id) == (SHELL, "local-shell", "cli", None)


def test_an_invitation_is_queued_with_a_single_use_link(sqlite_store, capsys):
    code, out, err = run(
        capsys,
        "users",
        "add",
        "bo@wychwood.gov.uk",
        "--name",
        "Bo",
        "--role",
        "electoral-services-officer",
        "--invite",
    )
    assert code == 0, err
    link = next(line.strip() for line in out.splitlines() if "/account/invitation/" in line)
    with sqlite_store.session() as s:
        message = s.exec(select(Notification).where(Notification.kind == "invitation")).one()
    assert message.recipient == "bo@wychwood.gov.uk" and link in message.body
    assert "within 7 days" in message.body and "pollflow done" not in message.body


def test_bad_users_and_roles_are_one_line(sqlite_store, capsys):
    code, _, err = run(capsys, "users", "add", "x@wychwood.gov.uk", "--name", "X", "--role", "tsar")
    assert code == 2 and "unknown role(s) tsar: roles are" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "users", "add", "not-an-email", "--role", "poll-clerk", "--name", "X")
    assert code == 2 and "is not an email address" in err
    code, out, _ = run(capsys, "users", "roles")
    assert "Head of Electoral Services" in out and "signs in to nothing" in out


def test_a_token_is_shown_once_and_then_acts_as_its_person(team, capsys, monkeypatch):
    officer = TEAM["electoral-services-officer"]
    code, out, err = run(capsys, "tokens", "create", officer, "--name", "laptop")
    assert code == 0, err
    secret = next(line for line in out.splitlines() if line.startswith("pf_"))
    code, out, _ = run(capsys, "tokens", "list")
    assert "laptop" in out and secret not in out
    monkeypatch.setenv("POLLFLOW_TOKEN", secret)
    code, out, err = run(capsys, "done", "book_polling_stations")
    assert code == 2 and "waits for project_plan" in err  # who is fine; the work is not ready
    code, _, err = run(capsys, "done", "book_polling_stations", "--by", TEAM["returning-officer"])
    assert code == 2 and f"is not who POLLFLOW_TOKEN belongs to ({officer})" in err
    monkeypatch.delenv("POLLFLOW_TOKEN")
    with team.session() as s:
        row = s.exec(select(AccessToken).where(AccessToken.name == "laptop")).one()
    assert run(capsys, "tokens", "revoke", str(row.id))[0] == 0
    monkeypatch.setenv("POLLFLOW_TOKEN", secret)
    code, _, err = run(capsys, "done", "book_polling_stations")
    assert code == 2 and "was revoked" in err and len(err.strip().splitlines()) == 1


def test_a_completion_records_the_tokens_person_and_how(team, capsys):
    with token_of(TEAM["returning-officer"]):
        code, out, err = run(capsys, "done", "project_plan", "--note", "agreed")
    assert code == 0 and "by returning-officer@wychwood.gov.uk" in out, err
    with team.session() as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "completed")).one()
    assert entry.actor == TEAM["returning-officer"] and entry.person_id is not None
    assert (entry.auth_method, entry.via) == ("token", "cli")


@pytest.mark.parametrize(
    "args, named",
    [
        (["done", "project_plan"], "completing work"),
        (["document", "proof", POLL, "sopn"], "a proof-check"),
        (["document", "approve", POLL, "sopn"], "an approval"),
        (["document", "publish", POLL, "sopn"], "publishing a document"),
        (["payroll", POLL, "--include-bank-details", "--output", "pay.csv"], "exporting bank details"),
        (["canvass", "defer", "canvass.2027"], "deciding when the revised register is published"),
    ],
)
def test_acts_that_must_be_a_named_persons_need_a_token(team, capsys, args, named):
    code, _, err = run(capsys, *args)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{named} must be recorded as a named person" in err and "POLLFLOW_TOKEN" in err
    code, _, err = run(capsys, *args, "--by", TEAM["returning-officer"])
    assert code == 2 and "--by is not believed without a token" in err


# Each CLI write and the permission it needs; with the permission the command gets past who is
# acting (and may then fail for its own reasons, never "may not").
WRITES = [
    (["users", "add", "new@wychwood.gov.uk", "--name", "New", "--role", "poll-clerk"], "administer"),
    (["tokens", "create", "{someone else}", "--name", "theirs"], "administer"),
    (["document", "proof", POLL, "sopn"], "proof"),
    (["document", "approve", POLL, "sopn"], "approve"),
    (["document", "publish", POLL, "sopn"], "publish"),
    (["payroll", POLL, "--include-bank-details", "--output", "pay.csv"], "export_bank_details"),
    (["payroll", POLL], "manage_staff"),
    (["staff", "withdraw", POLL, "nobody@example.com"], "manage_staff"),
    (["replan", POLL, "--unset", "nonsense"], "plan"),
    (
        ["law", "amend", "ref", "2016-06-23", "nonsense", "2016-06-09", "--citation", "SI 2016/668 (test)"],
        "plan",
    ),
    (["done", "project_plan"], "complete_others"),
]


@pytest.mark.parametrize("role", list(DEFAULT_ROLES))
def test_every_cli_write_for_every_role(team, capsys, role, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    permissions = set(DEFAULT_ROLES[role][1])
    with token_of(TEAM[role]):
        other = TEAM["finance-officer" if role == "poll-clerk" else "poll-clerk"]
        for args, permission in WRITES:
            code, out, err = run(capsys, *[other if a == "{someone else}" else a for a in args])
            refused = "may not" in err
            allowed = permission in permissions
            assert refused != allowed, f"{role}: {' '.join(args)}: {err or out}"
            assert code in (0, 1, 2) and "Traceback" not in err
