"""The staffing commands as an officer uses them (in process, under Prefect's test harness where a
command runs a flow): stations and staff, recruit, respond, allocate, pin, staffing, training,
letters, payroll, purge. Bad input is one line and exit 2, before Prefect starts."""

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from pollflow.cli import main
from store.models import AuditEntry, Notification
from store.models.staff import StaffPost
from tests.support.identity import tokens_for_by
from tests.support.staff import FIXTURES, POLL, POLL_KEY, council_set, register, wychwood_register


@pytest.fixture(autouse=True)
def local_links(monkeypatch):
    """A test machine: the links staff are sent lead to it, as meant."""
    monkeypatch.setenv("POLLFLOW_ALLOW_LOCAL_LINKS", "1")


pytestmark = pytest.mark.usefixtures("prefect")
LINK = re.compile(r"/staff/respond/(\S+)")
PEOPLE = """name,email,phone,roles
Alice Manager,alice@wychwood.gov.uk,01234 567890,electoral-services-manager
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
    team = tmp_path / "team.csv"
    team.write_text(PEOPLE)
    assert run(capsys, "people", "import", str(team))[0] == 0
    code, _, err = run(
        capsys, "plan", "local.wychwood.2027-05-06", "local.wychwood-parishes.2027-05-06",
        "--kind", "local", "--kind", "parish",
    )  # fmt: skip
    assert code == 0, err
    with sqlite_store.session() as s:
        council_set(s)  # as an administrator does in the workspace before staff are written to
    return sqlite_store


def tokens(store, kind: str) -> dict[str, str]:
    with store.session() as s:
        return {
            n.recipient: LINK.search(n.body).group(1)
            for n in s.scalars(select(Notification).where(Notification.kind == kind))
        }


def test_recruit_refuses_at_once_what_it_cannot_do(planned, capsys):
    code, _, err = run(capsys, "recruit", "local.nowhere.2027-05-06")
    assert (
        code == 2 and "no planned election 'local.nowhere.2027-05-06'" in err and len(err.splitlines()) == 1
    )
    code, _, err = run(capsys, "recruit", POLL)
    assert code == 2 and "no active polling stations: import them with `pollflow stations import FILE`" in err
    code, _, err = run(capsys, "respond", "abc.def", "maybe")
    assert code == 2 and "answer 'maybe': say accept or decline" in err
    code, _, err = run(capsys, "respond", "abc.def", "accept")
    assert code == 2 and "this link is not valid" in err
    code, _, err = run(capsys, "payroll", POLL, "--format", "xlsx")
    assert code == 2 and "--format xlsx needs --output FILE.xlsx" in err
    code, _, err = run(capsys, "staffing", POLL)
    assert (
        code == 2 and "staffing for local.wychwood" in err and "has not started: run `pollflow recruit" in err
    )
    code, _, err = run(capsys, "recruit", POLL, "--ballot-papers", "-5")
    assert code == 2 and "--ballot-papers -5: give a number of 0 or more" in err


def test_the_staffing_commands_from_import_to_payroll(planned, capsys, tmp_path, monkeypatch):
    assert run(capsys, "stations", "import", str(FIXTURES / "pollflow_stations.xlsx"))[0] == 0
    with planned.session() as s:
        register(s, wychwood_register())
    # Recruit: invitations out.
    code, out, err = run(
        capsys, "recruit", POLL, "--as-of", "2027-03-10T09:00", "--by", "dan@wychwood.gov.uk"
    )
    assert code == 0, err
    assert f"{POLL_KEY}: 26 posts (26 new). Invited 30;" in out
    # An officer takes a phone answer with the person's link.
    code, out, _ = run(capsys, "staff", "link", POLL, "staff0001@example.org")
    assert code == 0 and out.startswith("invitation: http://") and "/staff/respond/" in out
    invitations = tokens(planned, "staff-invitation")
    code, out, err = run(
        capsys, "respond", invitations["staff0021@example.org"], "accept", "--day", "2027-04-28",
        "--by", "dan@wychwood.gov.uk",
    )  # fmt: skip
    assert code == 0, err
    assert (
        "Staff 0021 (staff0021@example.org), invitation: available on Wednesday 28 April 2027: recorded."
        in out
    )
    code, _, err = run(
        capsys, "respond", invitations["staff0022@example.org"], "accept", "--day", "2027-05-01"
    )
    assert code == 2 and "2027-05-01: not a day staff0022@example.org can work" in err
    for email, token in invitations.items():
        if email != "staff0021@example.org":
            assert run(capsys, "respond", token, "accept")[0] == 0
    # A manager pins a person, looks at the plan, then allocates.
    code, out, err = run(capsys, "pin", POLL, "W03", "staff0013@example.org", "--role", "poll-clerk")
    assert code == 0 and "Pinned staff0013@example.org to W03 1st Wychwood Scout Hut: Poll Clerk 1." in out
    code, out, _ = run(capsys, "allocate", POLL, "--dry-run")
    assert code == 0 and "Would fill 25 of 26 posts' vacancies; 0 unfilled" in out
    code, out, err = run(capsys, "allocate", POLL, "--by", "alice@wychwood.gov.uk")
    assert code == 0, err
    assert "Filled 25 of 26 posts' vacancies; 0 unfilled" in out and "Offers sent: 26." in out
    # The fill table and the staffing list.
    code, out, _ = run(capsys, "staffing", POLL)
    assert code == 0 and "filled 26 of 26 posts, 0 accepted" in out and "W02 Wychwood Village Hall" in out
    code, out, _ = run(capsys, "staffing", POLL, "--list")
    assert code == 0 and "W03:poll-clerk:1" in out and "Staff 0013 (pinned)" in out
    data = json.loads(run(capsys, "staffing", POLL, "--format", "json")[1])
    assert data["totals"]["poll-clerk"] == {"need": 7, "filled": 7, "accepted": 0, "allocated": 7}
    # Everyone accepts their offer; training is added, booked and attended.
    offers = tokens(planned, "staff-offer")
    for token in offers.values():
        assert run(capsys, "respond", token, "accept")[0] == 0
    code, out, err = run(
        capsys, "training", "add", POLL, "T1", "--starts", "2027-04-20T18:00", "--ends", "20:30",
        "--venue", "Council Chamber", "--capacity", "40",
    )  # fmt: skip
    assert code == 0, err
    assert "Training session T1: Tue 20 Apr 2027 18:00-20:30, Council Chamber, 40 places." in out
    code, _, err = run(
        capsys, "training", "add", POLL, "T9", "--starts", "2027-05-06T08:00", "--ends", "09:00",
        "--venue", "x", "--capacity", "4",
    )  # fmt: skip
    assert code == 2 and "is not before polling day" in err
    assert run(capsys, "training", "book", POLL, "staff0001@example.org", "T1")[0] == 0
    appointed = [p["email"] for p in data["untrained"]]
    code, out, _ = run(capsys, "training", "attended", POLL, "T1", *appointed)
    assert code == 0 and f"T1: {len(appointed)} marked attended." in out
    code, out, _ = run(capsys, "training", "list", POLL)
    assert code == 0 and "Council Chamber" in out
    # Letters: one PDF per appointed person (rendered for real for one of them here; the
    # letters themselves are checked in test_staff_web and test_staff_store).
    letters = tmp_path / "letters"
    code, out, err = run(
        capsys, "staff", "letters", POLL, "--email", "staff0004@example.org", "--output", str(letters)
    )
    assert code == 0, err
    text = " ".join(
        PdfReader(letters / "appointment-staff0004_at_example_org.pdf").pages[0].extract_text().split()
    )
    assert "Letter of appointment" in text and "Presiding Officer" in text
    import tasks.staffing

    monkeypatch.setattr(tasks.staffing, "appointment_letter", lambda session, poll, member: b"%PDF-1.7 stub")
    code, out, err = run(capsys, "staff", "letters", POLL, "--output", str(letters))
    with planned.session() as s:
        holders = set(s.scalars(select(StaffPost.staff_id).where(StaffPost.status == "accepted")))
    assert code == 0 and f"Wrote {len(holders)} appointment letter(s)" in out
    assert len(list(letters.glob("appointment-*.pdf"))) == len(holders)
    code, out, _ = run(
        capsys, "staff", "letters", POLL, "--kind", "training", "--email", "staff0004@example.org",
        "--output", str(letters),
    )  # fmt: skip
    assert code == 0 and [p.name for p in letters.glob("training-*.pdf")] == [
        "training-staff0004_at_example_org.pdf"
    ]
    # Payroll, CSV and Excel, from the fee schedule.
    code, out, _ = run(capsys, "payroll", POLL)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and set(rows[0]) == {
        "payroll_ref", "name", "email", "element", "description", "quantity", "rate", "amount",
    }  # fmt: skip
    po_lines = [r for r in rows if r["email"] == "staff0004@example.org"]
    assert {r["element"] for r in po_lines} >= {"ELF01", "ELF20", "ELF21", "ELF10"}
    total = sum(Decimal(r["amount"]) for r in rows)
    book = tmp_path / "payroll.xlsx"
    code, out, _ = run(capsys, "payroll", POLL, "--format", "xlsx", "--output", str(book))
    assert code == 0 and f"Wrote {book}." in out
    sheet = load_workbook(book)["Payments"]
    totals = [row for row in sheet.iter_rows(values_only=True) if row[1] == "Total"]
    assert Decimal(str(totals[0][3])) == total
    with planned.session() as s:
        exports = s.scalars(select(AuditEntry).where(AuditEntry.action == "payroll exported")).all()
        assert len(exports) == 2 and exports[0].details["bank_and_ni_details_included"] is False
    # Withdrawal by an officer, and the recruit run that replaces from the reserve.
    code, out, _ = run(capsys, "staff", "withdraw", POLL, "staff0001@example.org", "--reason", "moved away")
    assert code == 0 and "1 post(s) vacant" in out
    code, out, _ = run(capsys, "recruit", POLL, "--as-of", "2027-03-12T09:00")
    assert code == 0 and "1 replacements from the reserve; 1 offers sent." in out
    code, out, _ = run(capsys, "tasks", "--format", "json")
    keys = {t["key"]: t for t in json.loads(out)}
    assert keys["staffing_fill"]["owner"] == "dan@wychwood.gov.uk"
    # Purge: nothing held, nothing to delete.
    code, out, _ = run(capsys, "staff", "purge", "--dry-run")
    assert code == 0 and "Would delete bank and NI details of 0 people" in out


def test_payroll_with_bank_details_is_recorded_and_config_is_shown(planned, capsys, tmp_path):
    assert run(capsys, "stations", "import", str(FIXTURES / "pollflow_stations.csv"))[0] == 0
    assert run(capsys, "staff", "import", str(FIXTURES / "staff.csv"))[0] == 0
    assert run(capsys, "recruit", POLL, "--as-of", "2027-03-10T09:00")[0] == 0
    for token in tokens(planned, "staff-invitation").values():
        run(capsys, "respond", token, "accept")
    assert run(capsys, "allocate", POLL)[0] == 0
    for token in tokens(planned, "staff-offer").values():
        run(capsys, "respond", token, "accept")
    code, _, err = run(capsys, "payroll", POLL, "--include-bank-details")
    assert code == 2 and "exporting bank details must be recorded as a named person" in err
    erin = ("--by", "erin@wychwood.gov.uk")  # the finance officer, with her own token
    code, _, err = run(capsys, "payroll", POLL, "--include-bank-details", *erin)
    assert code == 2 and "bank details and NI numbers are never printed: add --output FILE" in err
    code, _, err = run(
        capsys,
        "payroll",
        POLL,
        "--include-bank-details",
        "--output",
        "x.csv",
        "--by",
        "alice@wychwood.gov.uk",
    )
    assert code == 2 and "may not export poll staff's bank details" in err
    export = tmp_path / "payroll-with-bank.csv"
    code, out, _ = run(capsys, "payroll", POLL, "--include-bank-details", "--output", str(export), *erin)
    assert code == 0 and "It holds bank details" in out and "12345678" not in out
    assert export.stat().st_mode & 0o777 == 0o600
    pat = [r for r in csv.DictReader(io.StringIO(export.read_text())) if r["email"] == "pat@example.org"]
    assert pat and pat[0]["account_number"] == "12345678" and pat[0]["ni_number"] == "AB123456C"
    mileage = [r for r in pat if r["element"] == "ELF30"]
    assert mileage and Decimal(mileage[0]["quantity"]) == Decimal("0.3")  # 224 m each way, in miles
    with planned.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "payroll exported")).one()
        assert entry.details["bank_and_ni_details_included"] is True and "12345678" not in str(entry.details)
    code, out, _ = run(capsys, "staff", "config")
    assert (
        code == 0
        and "up to 1,250: 1 presiding-officer, 2 poll-clerk" in out
        and "no station above 2,250" in out
    )
