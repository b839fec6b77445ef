"""Rendering: every document for a sample poll of every kind, read back from the PDF with pypdf;
strict rendering; dates as a notice writes them; bilingual Welsh notices; Word; a page as an image."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from store.documents.council_details import parse_details, save_details
from store.documents.versions import documents_of, find_document, latest_version
from tasks.documents.catalogue import CATALOGUE, area_results
from tasks.documents.law import CANDIDATE_KINDS
from tasks.documents.produce import produce, step_deadlines
from tasks.documents.rendering import (
    MissingFieldError,
    html_to_pdf,
    render_as,
    render_docx,
    render_html,
)
from tasks.documents.sources import load_sources
from tasks.documents.text import date_cy, date_text, on_cy, time_cy, time_text, when_cy, when_text
from tests.tasks.documents.test_samples import (
    NO_CANDIDATES,
    SAMPLE_IDS,
    STANDING_ORDER,
    SURNAME_ORDER,
    details_for,
    every_kind,
    poll_as_of,
    setup_sample,
)

UNFILLED = ("None", "{{", "}}", "{%", "undefined", "Undefined")
# How pollflow found or would set a date: the workspace's business, never a published notice's.
DEVELOPER = (
    "--set",
    "basis:",
    "derived",
    "unconfirmed",
    "rule text",
    "not seen",
    "pollflow",
    "Pollflow",
    "assumed",
    "until set",
    "check the Order",
    "PARO",
)


def public_wording(text: str) -> list[str]:
    """The developer wording a notice's text still holds (none, for one fit to publish)."""
    return [phrase for phrase in DEVELOPER if phrase in text]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def in_order(text: str, names: list[str]) -> bool:
    positions = [text.find(name) for name in names]
    return all(p >= 0 for p in positions) and positions == sorted(positions)


# ---- dates and times as a notice writes them


def test_dates_and_times_as_a_notice_writes_them():
    day = dt.date(2024, 6, 4)  # the notice of election deadline for the 4 July 2024 general election
    assert when_text(day, dt.time(16, 0)) == "4pm on Tuesday 4 June 2024"
    assert when_text(day, None) == "Tuesday 4 June 2024"
    assert time_text(dt.time(12, 0)) == "noon"
    assert time_text(dt.time(23, 59)) == "11:59pm"
    assert time_text(dt.time(10, 0)) == "10am"
    assert time_text(dt.time(16, 30)) == "4:30pm"
    assert when_cy(day, dt.time(16, 0)) == "4 o'r gloch y prynhawn ar ddydd Mawrth 4 Mehefin 2024"
    assert date_cy(dt.date(2027, 5, 6)) == "dydd Iau 6 Mai 2027"
    assert on_cy(dt.date(2027, 5, 6)) == "ar ddydd Iau 6 Mai 2027"
    assert time_cy(dt.time(10, 0)) == "10 o'r gloch y bore"
    assert time_cy(dt.time(22, 0)) == "10 o'r gloch yr hwyr"
    assert time_cy(dt.time(12, 0)) == "hanner dydd"


# ---- strict rendering

BASE = {
    "doc": {"key": "x", "title": "Notice of election", "citation": "RPA 1983"},
    "bilingual": False,
    "council": "Wychwood District Council",
    "ro": {"name": "Carol Returning", "title": "Returning Officer", "address_line": "1 High Street"},
    "election": {"heading": "Election of Councillors", "poll_date": "Thursday 6 May 2027", "photo_id": False},
    "dated": "Wednesday 31 March 2027",
    "polling_stations": [{"number": "1", "place": "Church Hall", "voters": "AA1"}],
}


def context(**changes) -> dict:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for p in parents:
            target = target[p]
        if value is ...:
            target.pop(last, None)
        else:
            target[last] = value
    return data


def test_a_complete_context_renders():
    html = render_html("situation_of_polling_stations.html.j2", context())
    assert "Church Hall" in html and "Carol Returning" in html
    assert not any(bad in html for bad in UNFILLED)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"ro__address_line": ...}, "ro.address_line"),  # absent
        ({"ro__name": None}, "ro.name"),  # None
        ({"ro__name": "  "}, "ro.name"),  # blank
        ({"council": ...}, "council"),  # a top-level name
        ({"polling_stations": []}, "polling_stations"),  # an empty list where one is needed
    ],
)
def test_a_missing_value_is_an_error_naming_it(change, named):
    with pytest.raises(MissingFieldError) as caught:
        render_html("situation_of_polling_stations.html.j2", context(**change), name="polling stations")
    assert caught.value.field == named
    assert f"no value for {named}" in str(caught.value) and str(caught.value).startswith("polling stations: ")


def test_a_missing_value_in_a_list_names_its_place():
    stations = [{"number": "1", "place": "Church Hall", "voters": "AA1"}, {"number": "2", "place": "School"}]
    with pytest.raises(MissingFieldError, match=r"polling_stations\[1\]\.voters"):
        render_html("situation_of_polling_stations.html.j2", context(polling_stations=stations))


def test_a_welsh_notice_without_the_welsh_council_name_is_refused():
    with pytest.raises(MissingFieldError, match="council_cy.*Welsh name"):
        render_html("situation_of_polling_stations.html.j2", context(bilingual=True))


def test_a_notice_of_election_must_state_the_deposit_where_the_law_asks_for_one(sqlite_store):
    with sqlite_store.session() as session:
        poll, election_id = setup_sample(session, "sp", "scotland", details=False)
        data = details_for(election_id, "sp", "scotland")
        del data["elections"][election_id]["deposit"]
        save_details(session, poll, parse_details(data), "test")
        report = produce(session, poll, poll_as_of(poll))
    why = report.blocked[f"notice_of_election:{election_id}"]
    assert "no value for election.deposit" in why and "deposit:" in why


def test_word_rendering_is_strict_too():
    with pytest.raises(MissingFieldError, match="polling_stations"):
        render_docx("polling_stations_notice", context(polling_stations=[]))


# ---- every document of every kind of poll


def _produce(session, kind, nation):
    poll, election_id = setup_sample(session, kind, nation)
    report = produce(session, poll, poll_as_of(poll))
    return poll, election_id, report


@pytest.mark.parametrize(("kind", "nation"), every_kind(), ids=lambda v: v)
def test_every_document_of_every_kind(sqlite_store, kind, nation):
    if (kind, nation) not in SAMPLE_IDS:
        # A kind with no sample poll here (the registration year) must have no candidate notices.
        assert kind not in CANDIDATE_KINDS, f"{kind} has candidate notices but no sample poll here"
        return
    with sqlite_store.session() as session:
        poll, election_id, report = _produce(session, kind, nation)
        if kind in NO_CANDIDATES or kind not in CANDIDATE_KINDS:
            assert not report.generated and not documents_of(session, poll)
            return
        assert not report.blocked, report.blocked
        src = load_sources(session, poll, poll_as_of(poll))
        events = src.events_for(election_id)
        made = {d.key: latest_version(session, d) for d in documents_of(session, poll)}
        results = area_results(src, src.election(election_id))
        contested = any(r.contested for r in results)
        expected = {"candidates_timetable", "notice_of_election", "sopn"}
        if contested:
            expected |= {"postal_vote_openings"} | ({"notice_of_poll"} & set(events))
            expected |= {"polling_stations_notice"} & set(events)
        if not all(r.contested for r in results):
            expected.add("uncontested")
        if "election_agents" in events:
            expected.add("election_agents_notice")
        assert expected <= set(made), f"missing {expected - set(made)}"
        texts = {key: pdf_text(html_to_pdf(v.html)) for key, v in made.items()}
    for key, text in texts.items():
        assert not any(bad in text for bad in UNFILLED), f"{key}: unfilled field in {text[:300]}"
        assert not public_wording(text), f"{key}: {public_wording(text)} in {text}"
        assert "Carol Returning" in text and "Wychwood District Council" in text, key
        # What makes it a notice someone signs and publishes: its date and the imprint.
        assert "Dated:" in text and "Printed and published by the" in text, key
    when = when_text
    noe = texts["notice_of_election"]
    close = events["close_of_nominations"]
    assert when(close.date, close.time) in noe
    assert date_text(events["poll"].date) in noe
    for key in ("registration", "postal_vote", "proxy", "vac"):
        if key in events:
            assert when(events[key].date, events[key].time) in noe, key
    assert date_text(events["notice_of_election"].date) in noe  # the date it is dated
    _check_timetable(texts["candidates_timetable"], events)
    if kind != "senedd":  # a list ballot: parties' lists in their own order
        assert in_order(texts["sopn"], SURNAME_ORDER), texts["sopn"][:600]
        if "notice_of_poll" in texts:
            assert in_order(texts["notice_of_poll"], STANDING_ORDER)
            assert "ZELLER" not in texts["notice_of_poll"]  # withdrawn: on the statement, not the poll
    assert "Withdrawn" in texts["sopn"]
    if "notice_of_poll" in texts:
        _check_notice_of_poll(texts["notice_of_poll"], events, kind)
    if nation == "wales":
        for key, text in texts.items():
            assert "Cyngor Dosbarth Wychwood" in text, key
        assert "HYSBYSIAD ETHOLIAD" in noe and "NOTICE OF ELECTION" in noe
        assert when_cy(close.date, close.time) in noe
        assert on_cy(events["poll"].date) in noe  # "cynhelir y bleidlais ar ddydd Iau ..."
        assert "DATGANIAD O'R PERSONAU A ENWEBWYD" in texts["sopn"]


def _check_notice_of_poll(text: str, events: dict, kind: str) -> None:
    assert date_text(events["poll"].date) in text
    if kind == "gla":  # SI 2007/3541 Sch 6 r.23(4)
        assert "GREATER LONDON AUTHORITY ELECTION" in text


def _check_timetable(tt: str, events: dict) -> None:
    close = events["close_of_nominations"]
    assert when_text(close.date, close.time) in tt and date_text(events["poll"].date) in tt
    if "declaration" in events and not events["declaration"].overridden:
        # A date the Returning Officer has not fixed yet, said as the public would understand it.
        assert f"{date_text(events['declaration'].date)} (expected; to be confirmed)" in tt


def test_a_list_ballot_shows_each_party_list_in_its_order(sqlite_store):
    with sqlite_store.session() as session:
        poll, election_id, _ = _produce(session, "senedd", "wales")
        sopn = latest_version(session, find_document(session, election_id, "sopn")[1])
        text = pdf_text(html_to_pdf(sopn.html))
    # The party's list in list order (Bob 1, Alice 2, Siân 3), among the individuals by name.
    assert in_order(text, ["AHMED Yusuf", "1. SMITH Bob", "2. SMITH Alice", "3. O'BRIEN Siân"])


def test_word_versions_of_each_document(sqlite_store):
    from docx import Document as Word

    with sqlite_store.session() as session:
        poll, election_id, _ = _produce(session, "local", "england")
        found = {}
        for doc in documents_of(session, poll):
            v = latest_version(session, doc)
            data = render_as("docx", v.template, v.context, v.html, CATALOGUE[doc.key].word, doc.key)
            word = Word(io.BytesIO(data))
            text = "\n".join(p.text for p in word.paragraphs)
            text += "\n".join(c.text for t in word.tables for r in t.rows for c in r.cells)
            found[doc.key] = text
    for key, text in found.items():
        assert not any(bad in text for bad in UNFILLED), key
        assert not public_wording(text), (key, public_wording(text))
        assert "Carol Returning" in text, key
    assert in_order(found["sopn"], SURNAME_ORDER)


def test_a_draft_is_marked_across_the_page_and_the_approved_version_is_not():
    html = render_html("situation_of_polling_stations.html.j2", context(), banner="DRAFT v1: not approved")
    assert "DRAFT v1" in pdf_text(html_to_pdf(html))
    clean = render_html("situation_of_polling_stations.html.j2", context())
    assert "DRAFT" not in pdf_text(html_to_pdf(clean))


def test_a_page_renders_to_an_image_as_people_see_it(tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    data = {**details_for(SAMPLE_IDS[("local", "england")], "local", "england")}
    assert data["council"]  # the sample the docs' example is made from
    html = render_html("situation_of_polling_stations.html.j2", context())
    page = pdfium.PdfDocument(html_to_pdf(html))[0]
    image = page.render(scale=1).to_pil()
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.01  # A4 portrait
    # Ink on the page: the heading and table are there, not a blank sheet.
    histogram = image.convert("L").histogram()
    dark = sum(histogram[:128])
    assert dark > 2000


def test_the_docs_example_image_is_kept():
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "docs" / "examples" / "notice-of-election.png"
    assert example.exists() and example.stat().st_size > 10_000


def test_proof_and_approval_fall_due_before_the_publishing_deadline():
    due = dt.datetime(2027, 4, 9, 16, 0, tzinfo=dt.UTC)  # a statement of persons nominated
    early = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
    assert step_deadlines(early, due, dt.timedelta(days=2), dt.timedelta(days=1)) == (
        due - dt.timedelta(days=2),
        due - dt.timedelta(days=1),
    )
    # Drawn up at 16:05 the day before (after nominations closed): 6 and 2 hours before.
    late = dt.datetime(2027, 4, 8, 16, 5, 33, tzinfo=dt.UTC)
    proof, approve = step_deadlines(late, due, dt.timedelta(hours=6), dt.timedelta(hours=2))
    assert (proof.hour, approve.hour) == (10, 14) and proof.second == 0
    # Drawn up later still: half and three quarters of the time left.
    later = dt.datetime(2027, 4, 9, 12, 0, tzinfo=dt.UTC)
    assert step_deadlines(later, due, dt.timedelta(hours=6), dt.timedelta(hours=2)) == (
        dt.datetime(2027, 4, 9, 14, 0, tzinfo=dt.UTC),
        dt.datetime(2027, 4, 9, 15, 0, tzinfo=dt.UTC),
    )
