"""Notices fit to publish (issue 14): what a Returning Officer signs carries no developer wording
(tests/tasks/documents/test_render.py checks every notice of every kind for it), prints on A4 in
Word with a DRAFT mark until approved, is refused when it lacks what the law needs on it, and at a
combined poll says which polls are taken together."""

from __future__ import annotations

import io

from docx import Document as Word

from store.documents.candidates import import_candidates
from store.documents.council_details import parse_details, save_details
from store.documents.versions import documents_of, find_document, latest_version
from store.people import save_people
from tasks.documents.catalogue import CATALOGUE
from tasks.documents.produce import produce
from tasks.documents.rendering import html_to_pdf, render_as
from tasks.documents.signoff import sign_step
from tests.support.helpers import plan
from tests.tasks.documents.test_render import pdf_text, public_wording
from tests.tasks.documents.test_samples import (
    PEOPLE,
    PROOFER,
    RO_EMAIL,
    candidate_rows,
    details_for,
    entry_as_of,
    poll_as_of,
    setup_sample,
)


def _banner(version) -> str | None:
    """The mark the command line and the workspace put on a version that is not yet approved."""
    return None if version.status in ("approved", "published") else f"DRAFT v{version.number}: not approved"


def _word(version, key: str) -> Word:
    data = render_as(
        "docx", version.template, version.context, version.html, CATALOGUE[key].word, key, _banner(version)
    )
    return Word(io.BytesIO(data))


def _marks(word: Word) -> list[str]:
    """Where a DRAFT mark shows: each page's header, and the body."""
    headers = [p.text for s in word.sections for p in s.header.paragraphs]
    return [text for text in [*headers, *(p.text for p in word.paragraphs)] if "DRAFT" in text]


def test_word_notices_are_a4_and_marked_draft_until_approved(sqlite_store):
    with sqlite_store.session() as session:
        poll, election_id = setup_sample(session, "local", "england")
        produce(session, poll, poll_as_of(poll))
        _, doc = find_document(session, election_id, "notice_of_poll")
        draft = _word(latest_version(session, doc), "notice_of_poll")
        sign_step(session, doc, "proof", PROOFER, version=None, note=None)
        sign_step(session, doc, "approve", RO_EMAIL, version=None, note=None)
        approved = _word(latest_version(session, doc), "notice_of_poll")
    for word in (draft, approved):
        for section in word.sections:
            # Word keeps sizes in twentieths of a point: A4 is 11906 x 16838, a fraction of a mm off.
            assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert draft.paragraphs[0].text == "DRAFT v1: not approved"  # above the notice's first line
    assert all("DRAFT v1: not approved" in p.text for s in draft.sections for p in s.header.paragraphs[:1])
    assert not _marks(approved)
    assert "NOTICE OF POLL" in "\n".join(p.text for p in approved.paragraphs)


def test_a_notice_of_poll_without_polling_stations_is_refused_and_the_rest_produce(sqlite_store):
    with sqlite_store.session() as session:
        poll, election_id = setup_sample(session, "parish", "england", details=False)
        data = details_for(election_id, "parish", "england")
        # The district's stations, each for a district ward: none is for the parishes polled.
        for station in data["polling_stations"]:
            station["area"] = "Northgate"
        save_details(session, poll, parse_details(data), "test")
        first = produce(session, poll, poll_as_of(poll))
        again = produce(session, poll, poll_as_of(poll))
        blocked = {d.key: d.blocked for d in documents_of(session, poll) if d.blocked}
        made = {d.key for d in documents_of(session, poll) if latest_version(session, d)}

        data["polling_stations"][0]["area"] = None  # a station that every area votes at
        save_details(session, poll, parse_details(data), "test")
        given = produce(session, poll, poll_as_of(poll))
    for key in ("notice_of_poll", "polling_stations_notice"):
        why = first.blocked[f"{key}:{election_id}"]
        assert "no value for polling_stations" in why and "Abbey, Castle" in why, why
        assert "'Book polling places and stations" in why and "(book_polling_stations)" in why, why
        assert blocked[key] == why
        assert f"details_{key}:{election_id}" in first.work_raised
    assert {"notice_of_election", "sopn", "candidates_timetable", "postal_vote_openings"} <= made
    assert not made & {"notice_of_poll", "polling_stations_notice"}
    # Producing again changes nothing: the same refusals, no new versions, no new work.
    assert again.blocked == first.blocked and not again.generated and not again.work_raised
    assert f"notice_of_poll:{election_id} v1" in given.generated and not given.blocked


DISTRICT, PARISHES = "local.wychwood.2027-05-06", "local.wychwood-parishes.2027-05-06"


def test_a_combined_polls_notices_say_which_polls_are_taken_together(sqlite_store):
    with sqlite_store.session() as session:
        save_people(session, PEOPLE, actor="test")
        poll, _, _, _ = plan(session, ids=[DISTRICT, PARISHES], kinds=["local", "parish"])
        data = details_for(DISTRICT, "local", "england")
        parishes = [{"name": "Little Wychwood", "seats": 1}, {"name": "Wychwood Town", "seats": 1}]
        data["elections"][PARISHES] = {"areas": parishes}
        save_details(session, poll, parse_details(data), "test")
        wards = {DISTRICT: ["Abbey", "Castle"], PARISHES: [a["name"] for a in parishes]}
        for election_id, areas in wards.items():
            kind = "local" if election_id == DISTRICT else "parish"
            rows = candidate_rows(kind, "england", areas)
            import_candidates(session, poll, election_id, rows, "test", as_of=entry_as_of(poll))
        report = produce(session, poll, poll_as_of(poll))
        assert not report.blocked, report.blocked
        texts = {
            (d.scope, d.key): pdf_text(html_to_pdf(latest_version(session, d).html))
            for d in documents_of(session, poll)
        }
        _, doc = find_document(session, DISTRICT, "notice_of_poll")
        word = _word(latest_version(session, doc), "notice_of_poll")
    district = "The poll for this election is taken together with the poll for the election of parish "
    district += "councillors for Little Wychwood and Wychwood Town."
    parish = "The poll for this election is taken together with the poll for the election of councillors "
    parish += "for Abbey and Castle."
    assert district in texts[(DISTRICT, "notice_of_poll")]
    assert parish in texts[(PARISHES, "notice_of_poll")]
    assert district[:-1] + ", at the same polling stations." in texts[(DISTRICT, "polling_stations_notice")]
    assert district in "\n".join(p.text for p in word.paragraphs)
    for key, text in texts.items():
        assert not public_wording(text), (key, public_wording(text))
    # Each notice cites its own kind's rules, not a parliamentary or PCC rule "for example".
    assert "SI 2006/3304 Sch 2, notice of poll." in texts[(DISTRICT, "notice_of_poll")]
    # (The timetable is left out: each of its rows cites the law of its own date, whatever the kind.)
    notices = [text for (_, key), text in texts.items() if key != "candidates_timetable"]
    assert not any("SI 2012/1917" in text or "RPA 1983 Sch 1 r." in text for text in notices)


def test_a_notice_of_poll_names_each_candidates_proposer_and_seconder_where_given(sqlite_store):
    with sqlite_store.session() as session:
        poll, election_id = setup_sample(session, "parish", "england", candidates=False)
        rows = candidate_rows("parish", "england", ["Abbey", "Castle"])
        for row in rows:
            row.proposer, row.seconder = f"Proposer {row.line}", f"Seconder {row.line}"
        import_candidates(session, poll, election_id, rows, "test", as_of=entry_as_of(poll))
        produce(session, poll, poll_as_of(poll))
        _, doc = find_document(session, election_id, "notice_of_poll")
        text = pdf_text(html_to_pdf(latest_version(session, doc).html))
    assert "Proposer (+) and seconder (++)" in text
    assert "Proposer 6 (+) Seconder 6 (++)" in text  # AHMED Yusuf, the first standing in Abbey


def test_a_statement_without_candidates_names_the_work_that_supplies_them(sqlite_store):
    with sqlite_store.session() as session:
        poll, election_id = setup_sample(session, "local", "england", candidates=False)
        report = produce(session, poll, poll_as_of(poll))
    why = report.blocked[f"sopn:{election_id}"]
    assert "no value for candidates (import the candidates" in why
    assert "'Check nomination papers as they arrive" in why and "(nominations)" in why
    assert f"notice_of_election:{election_id}" not in report.blocked  # the rest still produce


def test_a_gla_notice_of_poll_in_word_is_headed_in_capitals(sqlite_store):
    with sqlite_store.session() as session:
        poll, election_id = setup_sample(session, "gla", "england")
        produce(session, poll, poll_as_of(poll))
        _, doc = find_document(session, election_id, "notice_of_poll")
        word = _word(latest_version(session, doc), "notice_of_poll")
    assert "GREATER LONDON AUTHORITY ELECTION" in [p.text for p in word.paragraphs]  # SI 2007/3541 r.23(4)
