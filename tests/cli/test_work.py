"""The work commands as an officer uses them: plan, people, tasks, done, check, replan, audit, ics."""

import json

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session, select

from pollflow.cli import main
from store.audit import AuditTrailError
from store.models import AuditEntry
from tests.support.identity import tokens_for_by
from tests.timetables.pinned_catalogue import pinned_overlay

pytestmark = pytest.mark.usefixtures("prefect")

PEOPLE = """name,email,phone,roles
Alice Manager,alice@wychwood.gov.uk,01234 567890,electoral-services-manager
Bob Officer,bob@wychwood.gov.uk,,electoral-services-officer;postal-votes-officer
Carol Returning,carol@wychwood.gov.uk,,returning-officer
Dan Registration,dan@wychwood.gov.uk,,electoral-registration-officer|staffing-officer
Erin Finance,erin@wychwood.gov.uk,,finance-officer
"""


def run(capsys, *args):
    with tokens_for_by(args):  # a --by stands for that person's own token
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def planned(sqlite_store, tmp_path, capsys):
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE)
    assert run(capsys, "people", "import", str(people))[0] == 0
    code, out, err = run(
        capsys,
        "plan",
        "local.wychwood.2027-05-06",
        "local.wychwood-parishes.2027-05-06",
        "--kind",
        "local",
        "--kind",
        "parish",
        # The catalogue before issue 14: these scenarios are timed around its 35 tasks.
        "--overlay",
        str(pinned_overlay()),
        "--by",
        "alice@wychwood.gov.uk",
    )
    assert code == 0, err
    assert "Planned local.wychwood.2027-05-06+local.wychwood-parishes.2027-05-06" in out
    return sqlite_store


def test_plan_again_is_unchanged(planned, capsys):
    code, out, _ = run(
        capsys,
        "plan",
        "local.wychwood.2027-05-06",
        "local.wychwood-parishes.2027-05-06",
        "--kind",
        "local",
        "--kind",
        "parish",
        "--overlay",
        str(pinned_overlay()),
    )
    assert code == 0 and out.startswith("Unchanged")


def test_tasks_json_has_the_fixed_fields(planned, capsys):
    code, out, _ = run(capsys, "tasks", "--format", "json")
    items = json.loads(out)
    assert code == 0 and len(items) >= 40
    for item in items:
        assert {"id", "key", "title", "election_id", "owner", "due", "status"} <= set(item)
        assert item["due"].endswith(("+00:00", "+01:00"))  # ISO with an offset
    sopn = next(i for i in items if i["key"] == "publish_sopn:local.wychwood.2027-05-06")
    assert sopn["due"] == "2027-04-09T16:00:00+01:00" and sopn["owner"] == "alice@wychwood.gov.uk"
    assert sopn["election_id"] == "local.wychwood.2027-05-06" and sopn["status"] == "open"


def test_tasks_filters(planned, capsys):
    _, out, _ = run(capsys, "tasks", "--person", "bob@wychwood.gov.uk", "--format", "json")
    assert {i["owner"] for i in json.loads(out)} == {"bob@wychwood.gov.uk"}
    _, out, _ = run(capsys, "tasks", "--due", "7d", "--as-of", "2027-03-20", "--format", "json")
    assert {i["key"] for i in json.loads(out)} >= {"book_polling_stations", "book_count_venue"}
    assert all(i["due"] <= "2027-03-28" for i in json.loads(out))
    _, out, _ = run(capsys, "tasks", "--overdue", "--as-of", "2027-03-20", "--format", "json")
    assert [i["key"] for i in json.loads(out)] == ["project_plan"]
    code, out, _ = run(capsys, "tasks", "--as-of", "2027-03-20")
    assert code == 0 and "Agree the project plan" in out


def test_done_records_who_and_when_and_refuses_what_it_must(planned, capsys):
    code, _, err = run(capsys, "done", "project_plan", "--by", "alice@wychwood.gov.uk")
    assert code == 2 and "needs a named sign-off" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "done", "book_count_venue", "--by", "alice@wychwood.gov.uk")
    assert code == 2 and "waits for project_plan" in err
    # A name typed is not proof: without the person's token, --by is refused.
    code, _, err = run(capsys, "done", "project_plan", "--by", "nobody@wychwood.gov.uk")
    assert code == 2 and "--by is not believed without a token" in err
    code, _, err = run(capsys, "done", "project_plan")
    assert code == 2 and "completing work must be recorded as a named person" in err
    code, _, err = run(capsys, "done", "no_such_task", "--by", "carol@wychwood.gov.uk")
    assert code == 2 and "no work item 'no_such_task'" in err
    code, out, _ = run(capsys, "done", "project_plan", "--by", "carol@wychwood.gov.uk", "--note", "signed")
    assert code == 0 and "Now ready: book_polling_stations, book_count_venue" in out
    code, out, _ = run(capsys, "done", "project_plan", "--by", "carol@wychwood.gov.uk")
    assert code == 0 and "already done" in out


def test_check_delivers_each_message_once(planned, smtp, capsys):
    # A future time only shows what would be sent, and changes nothing.
    code, out, _ = run(capsys, "check", "--as-of", "2027-03-16T09:30")
    assert code == 0 and "a check would queue 3 messages" in out and "Nothing was sent or changed" in out
    code, out, _ = run(capsys, "outbox")
    assert "sent 3" not in out
    code, out, _ = run(capsys, "check", "--as-of", "2027-03-16T09:30", "--simulate")
    # The two for one person go as one message (the alert policy gathers them).
    assert code == 0 and "Reminders 2, overdue 1" in out and "3 new messages; sent 2" in out
    assert "Of the messages due: 2 gathered into one message for each person." in " ".join(out.split())
    smtp.wait_for(2)
    code, out, _ = run(capsys, "check", "--as-of", "2027-03-16T09:30", "--simulate")
    assert "0 new messages; sent 0" in out and "Of the messages" not in out
    assert len(smtp.messages) == 2
    _, out, _ = run(capsys, "outbox")
    assert "sent 2" in out
    code, out, _ = run(capsys, "outbox", "retry")
    assert code == 0 and "Queued again: 0 failed messages" in out
    code, _, err = run(capsys, "outbox", "retry", "424242")
    assert code == 2 and "no message 424242 in the outbox" in err


def test_replan_moves_polling_day_and_keeps_overrides(planned, capsys):
    code, out, err = run(
        capsys, "replan", "local.wychwood.2027-05-06", "--set", "second_interim_notice=2027-04-20"
    )
    assert code == 0, err
    code, out, err = run(capsys, "replan", "local.wychwood.2027-05-06", "--poll-date", "2027-05-13")
    assert code == 0, err
    assert "poll" in out and "2027-05-13" in out
    _, out, _ = run(capsys, "audit", "local.wychwood.2027-05-13", "--format", "json")
    entries = json.loads(out)
    actions = [e["action"] for e in entries]
    assert actions[0] == "planned" and entries[0]["actor"] == "alice@wychwood.gov.uk"
    assert "polling day moved" in actions and "date set" in actions
    assert "date unset" not in actions  # the override set by hand was kept
    code, _, err = run(capsys, "replan", "local.wychwood.2027-05-13", "--unset", "nonsense")
    assert code == 2 and "nonsense is not set" in err


def test_ics_feed_and_excel_plan(planned, capsys, tmp_path):
    code, out, _ = run(capsys, "ics", "--person", "alice@wychwood.gov.uk")
    cal = Calendar.from_ical(out)
    entries = list(cal.walk("VEVENT"))
    assert code == 0 and len(entries) >= 10
    assert all(len(list(e.walk("VALARM"))) == 3 for e in entries)
    workbook = tmp_path / "plan.xlsx"
    code, out, _ = run(
        capsys,
        "tasks",
        "--format",
        "xlsx",
        "--output",
        str(workbook),
        "--election",
        "local.wychwood.2027-05-06",
    )
    book = load_workbook(workbook)
    assert code == 0 and book.sheetnames == ["Timetable", "Work"]
    assert book["Work"].max_row > 40 and book["Timetable"].max_row > 25
    headers = [c.value for c in book["Work"][1]]
    assert headers[:4] == ["Id", "Key", "Title", "Election"]


def test_audit_trail_cannot_be_changed_through_the_application(planned):
    with Session(planned.engine) as s:
        entry = s.exec(select(AuditEntry)).first()
        entry.action = "rewritten"
        with pytest.raises(AuditTrailError, match="append-only"):
            s.flush()
        s.rollback()
        s.delete(s.exec(select(AuditEntry)).first())
        with pytest.raises(AuditTrailError, match="cannot be deleted"):
            s.flush()
        s.rollback()
    with planned.session() as s:
        assert s.exec(select(AuditEntry)).first().action == "person added"


@pytest.mark.parametrize("statement", ["UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"])
def test_audit_trail_cannot_be_changed_by_sql(store, statement):
    with store.session() as s:
        s.add(AuditEntry(actor="test", action="planned"))
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as connection:
        connection.execute(text(statement))
    with store.session() as s:
        assert s.exec(select(AuditEntry)).one().actor == "test"


def test_bad_people_file_writes_nothing(sqlite_store, tmp_path, capsys):
    bad = tmp_path / "people.csv"
    bad.write_text("name,email,roles\nA,not-an-email,returning-officer\nB,b@x.gov.uk,wizard\n")
    code, _, err = run(capsys, "people", "import", str(bad))
    assert code == 2 and "line 2" in err and "line 3" in err and len(err.strip().splitlines()) == 1
    _, out, _ = run(capsys, "people", "list")
    assert "@" not in out


def test_commands_on_an_election_not_planned(sqlite_store, capsys):
    for args in (["audit", "local.nowhere.2027-05-06"], ["tasks", "--election", "local.nowhere.2027-05-06"]):
        code, _, err = run(capsys, *args)
        assert code == 2 and "no planned election 'local.nowhere.2027-05-06'" in err
