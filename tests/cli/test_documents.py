"""The candidates and document commands as an officer uses them; bad input is one line, exit 2,
and nothing half-done."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from pollflow.cli import main
from tests.store.documents.test_store import ELECTION, FIXTURES
from tests.support.identity import tokens_for_by
from tests.tasks.documents.test_samples import PROOFER, RO_EMAIL, setup_sample

pytestmark = pytest.mark.usefixtures("prefect")
GE = "parl.stroud.2024-07-04"  # a past poll: every document is due, and may be published now
FUTURE = "local.wychwood.2039-05-05"  # a poll whose deadlines are all still to come, whenever this runs


def run(capsys, *args):
    with tokens_for_by(args):  # a --by stands for that person's own token
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, *fragments):
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture
def wychwood(sqlite_store):
    with sqlite_store.session() as session:
        setup_sample(session, "local", "england", candidates=False)
    return sqlite_store


@pytest.fixture
def future(sqlite_store):
    from store.documents.council_details import parse_details, save_details
    from tests.support.helpers import plan
    from tests.tasks.documents.test_samples import PEOPLE, details_for

    with sqlite_store.session() as session:
        from store.people import save_people

        save_people(session, PEOPLE, actor="test")
        poll, _, tt, _ = plan(session, ids=[FUTURE], kinds=["local"], nation="england")
        save_details(session, poll, parse_details(details_for(FUTURE, "local", "england")), "test")
    return tt


@pytest.fixture
def stroud(sqlite_store, tmp_path, monkeypatch):
    monkeypatch.setenv("POLLFLOW_DOCUMENTS_DIR", str(tmp_path / "published"))
    with sqlite_store.session() as session:
        setup_sample(session, "parl", "england")
    return sqlite_store


def test_candidates_import_and_list(future, capsys):
    code, out, err = run(capsys, "candidates", "import", FUTURE, str(FIXTURES / "wychwood.csv"))
    assert code == 0, err
    assert "6 candidates for local.wychwood.2039-05-05: 6 added, 0 updated, 0 unchanged." in out
    code, out, _ = run(capsys, "candidates", "import", FUTURE, str(FIXTURES / "wychwood.csv"))
    assert "0 added, 0 updated, 6 unchanged" in out
    code, out, _ = run(capsys, "candidates", "list", FUTURE, "--format", "json")
    shown = [c["shown_as"] for c in json.loads(out) if c["area"] == "Abbey"]
    assert shown == ["Ahmed Yusuf", "O'Brien Siân", "Smith Alice", "Smith Bob", "Zeller Max"]


def test_a_candidates_file_with_bad_rows_imports_nothing(future, capsys):
    code, _, err = run(capsys, "candidates", "import", FUTURE, str(FIXTURES / "bad-rows.csv"))
    one_line_error(code, err, "nothing imported", "line 3: no surname", "line 4: area 'Nowhere'")
    _, out, _ = run(capsys, "candidates", "list", FUTURE, "--format", "json")
    assert json.loads(out) == []
    code, _, err = run(capsys, "candidates", "import", FUTURE, "no-such-file.csv")
    one_line_error(code, err, "cannot read no-such-file.csv")


def test_candidate_add_and_withdraw(future, capsys):
    code, out, err = run(
        capsys,
        "candidate",
        "add",
        FUTURE,
        "--surname",
        "Patel",
        "--forenames",
        "Priya",
        "--address",
        "7 Mill Road, Wychwood",
        "--area",
        "Castle",
        "--description",
        "Liberal Democrats",
    )
    assert code == 0 and "Added Priya Patel (Castle)" in out, err
    code, _, err = run(
        capsys,
        "candidates",
        "add",
        FUTURE,
        "--surname",
        "Long",
        "--forenames",
        "Ann",
        "--address",
        "1 Road",
        "--area",
        "Castle",
        "--description",
        "one two three four five six seven",
    )
    one_line_error(code, err, "7 words: the election rules allow at most 6")
    code, out, err = run(capsys, "candidates", "withdraw", FUTURE, "Priya Patel")
    assert code == 0 and "has withdrawn" in out, err


def test_withdrawal_after_the_deadline_is_refused(stroud, capsys):
    code, _, err = run(capsys, "candidates", "withdraw", GE, "Alice Smith")
    one_line_error(code, err, "cannot withdraw now: withdrawals closed at 16:00 on Friday 7 June 2024")


def test_document_details_bad_file(wychwood, capsys, tmp_path):
    bad = tmp_path / "details.yaml"
    bad.write_text("council: Wychwood\nreturning_officer:\n  name: Carol\n")
    code, _, err = run(capsys, "document", "details", ELECTION, str(bad))
    one_line_error(code, err, "returning_officer.address: Field required")
    code, out, _ = run(capsys, "document", "details", ELECTION, "--show")
    assert code == 0 and "council: Wychwood District Council" in out


def test_the_whole_round_produce_render_proof_approve_publish(stroud, capsys, tmp_path):
    code, out, err = run(capsys, "document", "produce", GE)
    assert code == 0, err
    assert f"new version: sopn:{GE} v1" in out
    code, out, _ = run(capsys, "documents", GE, "--format", "json")
    rows = {r["key"]: r for r in json.loads(out)}
    assert rows["sopn"]["status"] == "generated" and rows["sopn"]["version"] == 1
    code, out, _ = run(capsys, "documents", GE)
    assert code == 0 and "Documents:" in out

    pdf = tmp_path / "sopn.pdf"
    code, out, err = run(capsys, "document", "render", GE, "sopn", "--output", str(pdf))
    assert code == 0 and "version 1, generated" in out, err
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "DRAFT" in text and "SMITH" in text
    for fmt in ("html", "docx"):
        path = tmp_path / f"sopn.{fmt}"
        code, _, err = run(capsys, "document", "render", GE, "sopn", "--format", fmt, "--output", str(path))
        assert code == 0 and path.stat().st_size > 1000, err

    code, _, err = run(capsys, "document", "approve", GE, "sopn", "--by", RO_EMAIL)
    one_line_error(code, err, "has not been proof-checked")
    code, _, err = run(capsys, "document", "publish", GE, "sopn")
    one_line_error(code, err, "publishing a document must be recorded as a named person", "POLLFLOW_TOKEN")
    code, _, err = run(capsys, "document", "publish", GE, "sopn", "--by", RO_EMAIL)
    one_line_error(code, err, "cannot be published before the Returning Officer or a deputy approves it")
    code, out, err = run(capsys, "document", "proof", GE, "sopn", "--by", PROOFER, "--version", "1")
    assert code == 0 and "Proof-checked version 1 of sopn" in out, err
    # The manager's and the proof-checker's roles do not allow approval (the store refuses it too).
    code, _, err = run(capsys, "document", "approve", GE, "sopn", "--by", "alice@wychwood.gov.uk")
    one_line_error(code, err, "alice@wychwood.gov.uk may not approve documents")
    code, _, err = run(capsys, "document", "approve", GE, "sopn", "--by", PROOFER)
    one_line_error(code, err, f"{PROOFER} may not approve documents")
    code, _, err = run(capsys, "document", "approve", GE, "sopn")
    one_line_error(code, err, "an approval must be recorded as a named person")
    code, out, err = run(capsys, "document", "approve", GE, "sopn", "--by", RO_EMAIL)
    assert code == 0 and "Approved version 1 of sopn" in out, err

    code, out, err = run(capsys, "document", "publish", GE, "sopn", "--by", RO_EMAIL)
    assert code == 0, err
    assert "Published version 1 of sopn" in out and "sopn-v1.pdf" in out
    published = next(Path(line.strip()) for line in out.splitlines() if line.strip().endswith(".pdf"))
    assert "DRAFT" not in " ".join(p.extract_text() for p in PdfReader(published).pages)
    code, out, _ = run(capsys, "document", "publish", GE, "sopn", "--by", RO_EMAIL)
    assert code == 0 and "already published" in out
    code, out, _ = run(capsys, "audit", GE, "--format", "json")
    actions = [e["action"] for e in json.loads(out)]
    for action in ("document generated", "document proof-checked", "document approved", "document published"):
        assert action in actions


def test_bad_document_commands_are_one_line(wychwood, capsys):
    code, _, err = run(capsys, "document", "render", ELECTION, "no_such_notice")
    one_line_error(code, err, "unknown document 'no_such_notice': documents are", "notice_of_election")
    code, _, err = run(capsys, "document", "render", ELECTION, "sopn", "--format", "odt")
    one_line_error(code, err, "unknown format 'odt': formats are html, pdf, docx")
    code, _, err = run(capsys, "document", "approve", ELECTION, "sopn", "--by", RO_EMAIL)
    one_line_error(code, err, "no sopn for local.wychwood.2027-05-06 yet")
    code, _, err = run(capsys, "documents", "local.nowhere.2027-05-06")
    one_line_error(code, err, "no planned election 'local.nowhere.2027-05-06'")
    # No candidates yet: the statement cannot be drawn up, and says what it needs.
    code, _, err = run(capsys, "document", "render", ELECTION, "sopn")
    one_line_error(code, err, "no value for candidates", "pollflow candidates import")


def test_publishing_before_the_day_the_notice_is_dated_is_refused(future, capsys):
    from tasks.documents.text import date_text

    run(capsys, "candidates", "import", FUTURE, str(FIXTURES / "wychwood.csv"))
    code, out, err = run(capsys, "document", "produce", FUTURE, "--only", "notice_of_election")
    assert code == 0, err
    assert run(capsys, "document", "proof", FUTURE, "notice_of_election", "--by", PROOFER)[0] == 0
    assert run(capsys, "document", "approve", FUTURE, "notice_of_election", "--by", RO_EMAIL)[0] == 0
    dated = date_text(future["notice_of_election"].date)
    code, _, err = run(capsys, "document", "publish", FUTURE, "notice_of_election", "--by", RO_EMAIL)
    one_line_error(code, err, f"is dated {dated}: it cannot be published before that day")
