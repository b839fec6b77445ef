"""Notices fit to publish (issue 14): what a Returning Officer signs carries no developer wording
(tests/tasks/documents/test_render.py checks every notice of every kind for it), prints on A4 in
Word with a DRAFT mark until approved, is refused when it lacks what the law needs on it, and at a
combined poll says which polls are taken together."""

from __future__ import annotations

import io

from docx import Document as Word

from store.documents.council_details import parse_details, save_details
from store.documents.versions import documents_of, find_document, latest_version
from tasks.documents.catalogue import CATALOGUE
from tasks.documents.produce import produce
from tasks.documents.rendering import render_as
from tasks.documents.signoff import sign_step
from tests.tasks.documents.test_samples import PROOFER, RO_EMAIL, details_for, poll_as_of, setup_sample


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
