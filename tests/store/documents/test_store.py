"""Candidates and document versions in the store, on SQLite and PostgreSQL: import (whole or not at
all), the statement's order, withdrawals, uncontested elections, and each version's named steps
(proof-check, approval by the Returning Officer or a deputy, publication), with changes after
approval making a new version that needs sign-off again. Every step is in the audit trail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select

from store.documents.candidates import (
    CandidateRow,
    add_candidate,
    candidates_of,
    find_candidate,
    import_candidates,
    read_candidates_csv,
    shown_names,
    sort_text,
    statement_order,
    withdraw_candidate,
)
from store.documents.council_details import parse_details, save_details
from store.documents.versions import (
    DocumentError,
    approve,
    check_publishable,
    find_document,
    latest_version,
    proof,
    published_version,
    steps_of,
    versions_of,
)
from store.models import AuditEntry, PersonRole, WorkItem
from store.models.documents import DocumentStep
from store.people import BadFileError, find_person
from tasks.documents.catalogue import CATALOGUE
from tasks.documents.produce import produce
from tasks.documents.publishing import publish_one
from tasks.documents.sources import load_sources
from tests.support.helpers import plan
from tests.tasks.documents.test_samples import PROOFER, RO_EMAIL, details_for, entry_as_of, setup_sample
from timetables.clock import LONDON
from timetables.errors import PollflowError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "candidates"
ELECTION = "local.wychwood.2027-05-06"
DEPUTY = "dan@wychwood.gov.uk"
MANAGER = "alice@wychwood.gov.uk"
# Timetable of the 6 May 2027 sample (local, England): close of nominations 16:00 Thu 8 Apr;
# SOPN by 16:00 Fri 9 Apr; notice of poll by Wed 28 Apr.
AFTER_SOPN = dt.datetime(2027, 4, 9, 9, 0, tzinfo=LONDON)
ON_SOPN_DAY = dt.datetime(2027, 4, 9, 15, 0, tzinfo=LONDON)


def wychwood(session, with_candidates: bool = True):
    poll, election_id = setup_sample(session, "local", "england", candidates=False)
    if with_candidates:
        rows = read_candidates_csv(FIXTURES / "wychwood.csv", ["Abbey", "Castle"])
        import_candidates(session, poll, election_id, rows, "test", as_of=entry_as_of(poll))
    return poll


def audit_actions(session, poll) -> list[str]:
    return [e.action for e in session.exec(select(AuditEntry).where(AuditEntry.poll_id == poll.id))]


def sopn(session):
    return find_document(session, ELECTION, "sopn")


# ---- candidates


def test_import_orders_as_the_statement_must_and_is_idempotent(store):
    with store.session() as session:
        poll = wychwood(session)
        rows = candidates_of(session, poll, ELECTION)
        assert len(rows) == 6
        abbey = statement_order([c for c in rows if c.area == "Abbey"])
        # Commonly used forename shown (and sorted) in place of the other: SMITH Bob, not Robert.
        assert [" ".join(shown_names(c)) for c in abbey] == [
            "Ahmed Yusuf",
            "O'Brien Siân",
            "Smith Alice",
            "Smith Bob",
            "Zeller Max",
        ]
        again = import_candidates(
            session,
            poll,
            ELECTION,
            read_candidates_csv(FIXTURES / "wychwood.csv", ["Abbey", "Castle"]),
            "test",
            as_of=entry_as_of(poll),
        )
        assert (again.added, again.updated, again.unchanged) == (0, 0, 6)
        assert audit_actions(session, poll).count("candidates imported") == 1


def test_a_file_with_bad_rows_is_refused_whole_naming_each_line(store):
    with store.session() as session:
        poll = wychwood(session, with_candidates=False)
        with pytest.raises(BadFileError) as caught:
            read_candidates_csv(FIXTURES / "bad-rows.csv", ["Abbey", "Castle"])
        assert caught.value.lines == [3, 4, 5, 6, 7]
        message = str(caught.value)
        assert "nothing imported" in message
        assert "line 3: no surname" in message
        assert "line 4: area 'Nowhere' is not one of this election's: Abbey, Castle" in message
        assert "line 5: no address" in message
        assert candidates_of(session, poll) == []
        with pytest.raises(PollflowError, match="missing column.*surname"):
            read_candidates_csv(FIXTURES / "wrong-columns.csv")


def test_replace_removes_who_is_not_in_the_file(store, tmp_path):
    with store.session() as session:
        poll = wychwood(session)
        short = tmp_path / "short.csv"
        short.write_text(
            'area,surname,forenames,address\nCastle,Brown,Zoë,"5 Mill Road, Wychwood, WY1 3CD"\n'
        )
        rows = read_candidates_csv(short, ["Abbey", "Castle"])
        kept = import_candidates(session, poll, ELECTION, rows, "test", as_of=entry_as_of(poll))
        assert kept.kept == 5 and kept.removed == 0
        gone = import_candidates(session, poll, ELECTION, rows, "test", replace=True, as_of=entry_as_of(poll))
        assert gone.removed == 5 and len(candidates_of(session, poll)) == 1


def test_alphabetical_order_ignores_case_accents_and_apostrophes():
    assert sort_text("O'Brien") == "obrien"
    assert sort_text("Zoë") == "zoe"
    names = ["Smithers", "smith-jones", "Smith", "Ó Dónaill", "ODonnell"]
    assert sorted(names, key=sort_text) == ["Ó Dónaill", "ODonnell", "Smith", "smith-jones", "Smithers"]


def test_withdrawal_is_refused_after_the_deadline(store):
    with store.session() as session:
        poll = wychwood(session)
        before = dt.datetime(2027, 4, 8, 15, 59, tzinfo=LONDON)
        c = withdraw_candidate(session, poll, ELECTION, "Alice Smith", "test", as_of=before)
        assert c.status == "withdrawn"
        with pytest.raises(PollflowError, match="withdrawals closed at 16:00 on Thursday 8 April 2027"):
            withdraw_candidate(session, poll, ELECTION, "O'BRIEN, Siân", "test", as_of=AFTER_SOPN)
        with pytest.raises(PollflowError, match="no candidate 'Nobody Here'"):
            withdraw_candidate(session, poll, ELECTION, "Nobody Here", "test", as_of=before)
        assert "candidate withdrawn" in audit_actions(session, poll)


def test_a_description_of_more_than_six_words_is_refused(store):
    with store.session() as session:
        poll = wychwood(session, with_candidates=False)
        row = CandidateRow(
            0, "Abbey", "Long", "Ann", "1 Road", description="one two three four five six seven"
        )
        with pytest.raises(PollflowError, match="7 words: the election rules allow at most 6"):
            add_candidate(session, poll, ELECTION, row, "test")


# ---- which documents, and uncontested elections


def test_an_uncontested_area_gets_a_notice_of_uncontested_election(store):
    with store.session() as session:
        poll = wychwood(session)
        report = produce(session, poll, AFTER_SOPN)
        assert not report.blocked
        keys = {label.split(":")[0] for label in report.generated}
        assert {"sopn", "uncontested", "notice_of_poll", "polling_stations_notice"} <= keys
        _, doc = find_document(session, ELECTION, "uncontested")
        context = latest_version(session, doc).context
        assert [r["area"]["name"] for r in context["results"]] == ["Castle"]
        assert [c["name"] for c in context["results"][0]["elected"]] == ["Zoë Brown"]
        _, doc = find_document(session, ELECTION, "notice_of_poll")
        polls = latest_version(session, doc).context["polls"]
        assert [p["area"]["name"] for p in polls] == ["Abbey"]
        assert [c["surname"] for c in polls[0]["candidates"]] == ["Ahmed", "O'Brien", "Smith", "Smith"]


def test_documents_wait_for_their_stage_of_the_timetable(store):
    with store.session() as session:
        poll = wychwood(session)
        early = dt.datetime(2027, 3, 20, 9, 0, tzinfo=LONDON)
        report = produce(session, poll, early)
        made = {label.split(":")[0] for label in report.generated}
        assert made == {"notice_of_election", "candidates_timetable"}
        assert {label.split(":")[0] for label in report.not_yet} >= {"sopn", "notice_of_poll"}


def test_missing_details_block_a_document_and_raise_work_until_given(store):
    with store.session() as session:
        poll, election_id = setup_sample(session, "local", "wales", details=False)
        data = details_for(election_id, "local", "wales")
        del data["council_cy"]
        save_details(session, poll, parse_details(data), "test")
        report = produce(session, poll, dt.datetime(2027, 3, 20, 9, 0, tzinfo=LONDON))
        why = report.blocked[f"notice_of_election:{election_id}"]
        assert "no value for council_cy" in why and "Welsh name" in why
        item = session.exec(
            select(WorkItem).where(WorkItem.key == f"details_notice_of_election:{election_id}")
        ).one()
        assert item.status == "open" and item.source == "documents" and "council_cy" in item.title
        data["council_cy"] = "Cyngor Dosbarth Wychwood"
        save_details(session, poll, parse_details(data), "test")
        report = produce(session, poll, dt.datetime(2027, 3, 20, 9, 0, tzinfo=LONDON))
        assert f"notice_of_election:{election_id} v1" in report.generated and not report.blocked
        session.refresh(item)
        assert item.status == "done"


# ---- versions and their steps


def test_a_version_is_proofed_approved_then_published_each_by_a_named_person(store, tmp_path, monkeypatch):
    monkeypatch.setenv("POLLFLOW_DOCUMENTS_DIR", str(tmp_path / "out"))
    with store.session() as session:
        poll = wychwood(session)
        produce(session, poll, AFTER_SOPN)
        _, doc = sopn(session)
        v1 = latest_version(session, doc)
        assert (v1.number, v1.status) == (1, "generated")
        work = {w.key: w for w in session.exec(select(WorkItem).where(WorkItem.source == "documents"))}
        proof_item, approve_item = work[f"proof_sopn:{ELECTION}:v1"], work[f"approve_sopn:{ELECTION}:v1"]
        assert proof_item.owner_role == "electoral-services-officer" and approve_item.needs_signoff
        assert proof_item.due_at <= approve_item.due_at <= doc.due_at  # before the publishing deadline

        with pytest.raises(DocumentError, match="has not been proof-checked"):
            approve(session, doc, poll, RO_EMAIL)
        with pytest.raises(DocumentError, match="has not been proof-checked or approved"):
            check_publishable(session, doc, None, ON_SOPN_DAY)
        proof(session, doc, poll, PROOFER, note="checked against the nomination papers")
        assert proof(session, doc, poll, PROOFER)[1] is False  # once
        with pytest.raises(DocumentError, match="holds neither"):
            approve(session, doc, poll, MANAGER)
        # The proof-checker is also a deputy: still not their own approval.
        session.add(PersonRole(person_id=find_person(session, PROOFER).id, role="deputy-returning-officer"))
        session.flush()
        with pytest.raises(DocumentError, match="must be by someone else"):
            approve(session, doc, poll, PROOFER)
        version, new = approve(session, doc, poll, DEPUTY)
        assert new and version.status == "approved"

        spec = CATALOGUE["sopn"]
        src = load_sources(session, poll, ON_SOPN_DAY)
        early = dt.datetime(2027, 4, 8, 18, 0, tzinfo=LONDON)
        with pytest.raises(DocumentError, match="dated Friday 9 April 2027"):
            check_publishable(session, doc, spec.publish_from(src, ELECTION), early)
        published = publish_one(session, poll, doc, ON_SOPN_DAY, "test")
        assert published.number == 1
        assert publish_one(session, poll, doc, ON_SOPN_DAY, "test") is None  # once
        steps = steps_of(session, published)
        assert {s: steps[s].actor for s in ("proof", "approval", "publication")} == {
            "proof": PROOFER,
            "approval": DEPUTY,
            "publication": "test",
        }
        files = steps["publication"].details["files"]
        assert {Path(f["path"]).name for f in files} == {"sopn-v1.html", "sopn-v1.pdf"}
        assert (tmp_path / "out").rglob("sopn.pdf")
        assert not steps["publication"].details["late"]
        publish_item = session.exec(select(WorkItem).where(WorkItem.key == "publish_sopn")).one()
        assert publish_item.status == "done"  # the plan's own task, completed by the publication
        actions = audit_actions(session, poll)
        for action in (
            "document generated",
            "document proof-checked",
            "document approved",
            "document published",
        ):
            assert action in actions, action


def test_a_change_after_approval_makes_a_new_version_that_needs_sign_off_again(store):
    with store.session() as session:
        poll = wychwood(session)
        produce(session, poll, AFTER_SOPN)
        _, doc = sopn(session)
        proof(session, doc, poll, PROOFER)
        approve(session, doc, poll, RO_EMAIL)
        alice = find_candidate(session, poll, ELECTION, "Alice Smith")
        alice.description = "Labour and Co-operative Party"  # a correction after sign-off
        session.flush()
        report = produce(session, poll, AFTER_SOPN)
        assert f"sopn:{ELECTION} v2" in report.changed_after_approval
        v1, v2 = versions_of(session, doc)
        assert (v1.status, v2.status) == ("superseded", "generated")
        assert "Labour and Co-operative Party" in v2.html and "Labour and Co-operative Party" not in v1.html
        work = {w.key: w.status for w in session.exec(select(WorkItem).where(WorkItem.source == "documents"))}
        assert work[f"proof_sopn:{ELECTION}:v2"] == "open" and work[f"approve_sopn:{ELECTION}:v2"] == "open"
        with pytest.raises(DocumentError, match="has not been proof-checked or approved"):
            check_publishable(session, doc, None, ON_SOPN_DAY)
        with pytest.raises(DocumentError, match="version 1 of sopn is not the latest"):
            approve(session, doc, poll, RO_EMAIL, version=1)
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "document changed after approval")
        ).one()
        assert entry.details["from_version"] == 1 and entry.details["to_version"] == 2


def test_a_change_after_publication_keeps_the_published_version_and_needs_a_new_sign_off(
    store, tmp_path, monkeypatch
):
    monkeypatch.setenv("POLLFLOW_DOCUMENTS_DIR", str(tmp_path))
    with store.session() as session:
        poll = wychwood(session)
        produce(session, poll, AFTER_SOPN)
        _, doc = sopn(session)
        proof(session, doc, poll, PROOFER)
        approve(session, doc, poll, RO_EMAIL)
        publish_one(session, poll, doc, ON_SOPN_DAY, "test")
        yusuf = find_candidate(session, poll, ELECTION, "Yusuf Ahmed")
        yusuf.address = "(address in Wychwood North)"
        session.flush()
        report = produce(session, poll, ON_SOPN_DAY)
        assert f"sopn:{ELECTION} v2" in report.changed_after_approval
        v1, v2 = versions_of(session, doc)
        assert (v1.status, v2.status) == ("published", "generated")
        assert published_version(session, doc).number == 1


def test_a_stale_proof_is_refused_when_the_data_moved_on(store):
    with store.session() as session:
        poll = wychwood(session)
        produce(session, poll, AFTER_SOPN)
        _, doc = sopn(session)
        with pytest.raises(DocumentError, match="changed after version 1 was made"):
            proof(session, doc, poll, PROOFER, current_hash="0" * 64)


def test_producing_twice_changes_nothing(store):
    with store.session() as session:
        poll = wychwood(session)
        first = produce(session, poll, AFTER_SOPN)
        counts = (
            len(session.exec(select(WorkItem)).all()),
            len(session.exec(select(AuditEntry)).all()),
            len(session.exec(select(DocumentStep)).all()),
        )
        second = produce(session, poll, AFTER_SOPN)
        assert first.generated and not second.generated and not second.work_raised
        assert len(second.unchanged) == len(first.generated)
        assert counts == (
            len(session.exec(select(WorkItem)).all()),
            len(session.exec(select(AuditEntry)).all()),
            len(session.exec(select(DocumentStep)).all()),
        )


def test_replanning_the_poll_leaves_document_work_alone(store):
    with store.session() as session:
        poll = wychwood(session)
        produce(session, poll, AFTER_SOPN)
        before = {
            w.key: w.status for w in session.exec(select(WorkItem).where(WorkItem.source == "documents"))
        }
        plan(session, ids=[ELECTION], kinds=["local"], nation="england")
        after = {
            w.key: w.status for w in session.exec(select(WorkItem).where(WorkItem.source == "documents"))
        }
        assert before == after and set(after.values()) == {"open"}
