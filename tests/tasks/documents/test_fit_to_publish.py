"""Notices fit to publish (issue 14): what a Returning Officer signs carries no developer wording
(tests/tasks/documents/test_render.py checks every notice of every kind for it), prints on A4 in
Word with a DRAFT mark until approved, is refused when it lacks what the law needs on it, and at a
combined poll says which polls are taken together."""

from __future__ import annotations

import io

from docx import Document as Word

from store.documents.versions import find_document, latest_version
from tasks.documents.catalogue import CATALOGUE
from tasks.documents.produce import produce
from tasks.documents.rendering import render_as
from tasks.documents.signoff import sign_step
from tests.tasks.documents.test_samples import PROOFER, RO_EMAIL, poll_as_of, setup_sample


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
