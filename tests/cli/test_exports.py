"""Exports cannot run code (formula injection) and are private files (issue 16).

Each export is built by its real command from data with hostile names in it, then every cell of
the workbook and every field of the CSV is scanned: no cell is a formula, no text begins with
'=', '+', '-', '@', a tab or a carriage return, and the file is readable by its owner only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from pollflow.cli import main
from store import exports
from tests.cli.test_staff import tokens
from tests.support.helpers import plan, seed_people
from tests.support.identity import tokens_for_by
from tests.support.staff import FIXTURES, POLL, council_set

pytestmark = pytest.mark.usefixtures("prefect")
HOSTILE = "=cmd|' /C calc'!A0"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
LINK = re.compile(r"/staff/respond/(\S+)")


@pytest.fixture(autouse=True)
def local_links(monkeypatch):
    monkeypatch.setenv("POLLFLOW_ALLOW_LOCAL_LINKS", "1")


def run(capsys, *args):
    with tokens_for_by(args):
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_formula_in_workbook(path) -> int:
    """Every cell of every sheet: never a formula; returns how many text cells were seen."""
    texts = 0
    book = load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    texts += 1
                    assert not cell.value.startswith(DANGEROUS), f"{sheet.title}!{cell.coordinate}"
    return texts


def assert_no_formula_in_csv(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for n, row in enumerate(rows, start=1):
        for field in row:
            assert not field.startswith(DANGEROUS), f"row {n}: {field!r}"
    return rows


def assert_private(path) -> None:
    assert path.stat().st_mode & 0o777 == 0o600, f"{path} is {oct(path.stat().st_mode & 0o777)}"


def test_the_writer_quotes_formula_text_and_leaves_numbers_and_dates(tmp_path):
    for text in (HOSTILE, "+44 1234", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert exports.safe_text(text) == "'" + text
    assert exports.safe_row(["Pat", -3, Decimal("-1.50"), dt.date(2027, 5, 6), None]) == [
        "Pat", -3, Decimal("-1.50"), dt.date(2027, 5, 6), None,
    ]  # fmt: skip
    book = Workbook()
    exports.append(book.active, [HOSTILE, -3, dt.date(2027, 5, 6)])
    book.active.append(["=1+1"])  # a cell written around the writer is still caught on saving
    path = exports.save_workbook(book, tmp_path / "w.xlsx")
    assert assert_no_formula_in_workbook(path) == 2
    sheet = load_workbook(path).active
    assert sheet["A1"].value == "'" + HOSTILE and sheet["B1"].value == -3
    assert sheet["C1"].value == dt.datetime(2027, 5, 6)
    assert_private(path)


def test_a_private_file_written_over_an_open_one_becomes_private(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("x")
    path.chmod(0o644)
    exports.write_text(path, "y")
    assert path.read_text() == "y"
    assert_private(path)


def _hostile_staff(tmp_path):
    text = (FIXTURES / "staff.csv").read_text()
    text = text.replace("Pat Presiding,", f'"{HOSTILE}",').replace(",P0001,", ",+P0001,")
    text = text.replace("P PRESIDING", "@SUM(1+1)*cmd|' /C calc'!A0")
    path = tmp_path / "staff.csv"
    path.write_text(text)
    return path


def test_payroll_csv_and_workbook_with_hostile_names_hold_no_formula(sqlite_store, tmp_path, capsys):
    team = tmp_path / "team.csv"
    team.write_text(
        "name,email,roles\nAlice Manager,alice@wychwood.gov.uk,electoral-services-manager\n"
        "Erin Finance,erin@wychwood.gov.uk,finance-officer\n"
    )
    assert run(capsys, "people", "import", str(team))[0] == 0
    code, _, err = run(
        capsys, "plan", "local.wychwood.2027-05-06", "local.wychwood-parishes.2027-05-06",
        "--kind", "local", "--kind", "parish",
    )  # fmt: skip
    assert code == 0, err
    with sqlite_store.session() as s:
        council_set(s)
    assert run(capsys, "stations", "import", str(FIXTURES / "pollflow_stations.csv"))[0] == 0
    code, _, err = run(capsys, "staff", "import", str(_hostile_staff(tmp_path)))
    assert code == 0, err
    assert run(capsys, "recruit", POLL, "--as-of", "2027-03-10T09:00")[0] == 0
    for token in tokens(sqlite_store, "staff-invitation").values():
        run(capsys, "respond", token, "accept")
    assert run(capsys, "allocate", POLL)[0] == 0
    for token in tokens(sqlite_store, "staff-offer").values():
        run(capsys, "respond", token, "accept")
    erin = ("--by", "erin@wychwood.gov.uk")
    export = tmp_path / "payroll.csv"
    code, _, err = run(capsys, "payroll", POLL, "--include-bank-details", "--output", str(export), *erin)
    assert code == 0, err
    assert_private(export)
    rows = assert_no_formula_in_csv(export.read_text())
    pat = [r for r in rows if r[2] == "pat@example.org"]
    assert pat and pat[0][1] == "'" + HOSTILE and pat[0][0] == "'+P0001"
    assert pat[0][-1].startswith("'@SUM") and pat[0][-2] == "12345678"  # the account number as given
    code, out, _ = run(capsys, "payroll", POLL)  # to the screen, as the payroll officer pipes it
    assert code == 0 and "'" + HOSTILE in out
    assert_no_formula_in_csv(out)
    book = tmp_path / "payroll.xlsx"
    code, _, err = run(
        capsys, "payroll", POLL, "--format", "xlsx", "--include-bank-details", "--output", str(book), *erin
    )
    assert code == 0, err
    assert_private(book)
    assert assert_no_formula_in_workbook(book) > 20
    sheet = load_workbook(book)["Payments"]
    names = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert "'" + HOSTILE in names
    totals = [row[3].value for row in sheet.iter_rows(min_row=2) if row[1].value == "'" + HOSTILE]
    assert isinstance(totals[0], (int, float)) and totals[0] > 0  # amounts stay numbers


def test_the_tasks_workbook_and_timetable_csv_hold_no_formula(sqlite_store, tmp_path, capsys):
    team = tmp_path / "team.csv"
    team.write_text(
        f'name,email,roles\n"{HOSTILE}",alice@wychwood.gov.uk,electoral-services-manager\n'
        "\"-2+3+cmd|' /C calc'!A0\",dan@wychwood.gov.uk,electoral-registration-officer|staffing-officer\n"
    )
    code, _, err = run(capsys, "people", "import", str(team))
    assert code == 0, err
    assert run(capsys, "plan", "local.wychwood.2027-05-06", "--kind", "local")[0] == 0
    workbook = tmp_path / "plan.xlsx"
    code, _, err = run(capsys, "tasks", "--format", "xlsx", "--output", str(workbook))
    assert code == 0, err
    assert_private(workbook)
    assert assert_no_formula_in_workbook(workbook) > 100
    owners = {row[4].value for row in load_workbook(workbook)["Work"].iter_rows(min_row=2)}
    assert "'" + HOSTILE in owners
    code, out, _ = run(capsys, "timetable", "local.wychwood.2027-05-06", "--kind", "local", "--format", "csv")
    assert code == 0 and len(assert_no_formula_in_csv(out)) > 10


def test_canvass_walk_lists_and_problem_reports_hold_no_formula(store, tmp_path, capsys):
    with store.session() as s:
        seed_people(s)
        plan(s, ids=["canvass.2027"], kinds=None, nation="england")
    week1 = (FIXTURES.parent / "canvass" / "progress-2027-09-06.csv").read_text()
    hostile = tmp_path / "progress.csv"
    hostile.write_text(week1.replace("P001,", "\"=cmd|' /C calc'!A0\",").replace("P004,", "@P004,"))
    code, _, err = run(capsys, "canvass", "import", "canvass.2027", str(hostile), "--today", "2027-09-06")
    assert code == 0, err
    code, out, err = run(capsys, "canvass", "list", "canvass.2027", "--format", "csv")
    assert code == 0, err
    rows = assert_no_formula_in_csv(out)
    assert "'@P004" in {row[2] for row in rows}
    bad = tmp_path / "bad.csv"
    bad.write_text(week1.replace("2 Abbey Road,AA,1,", "2 Abbey Road,AA,-9,"))
    problems = tmp_path / "problems.csv"
    args = ("canvass", "check", str(bad), "--today", "2027-09-06", "--problems", str(problems))
    code, _, _ = run(capsys, *args)
    assert code == 2
    assert_private(problems)
    assert len(assert_no_formula_in_csv(problems.read_text())) >= 2
