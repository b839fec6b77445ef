"""The page invited staff answer on, in a real headless browser (Chromium) on a phone-sized
screen: say which days and roles, accept an offered post, book training, download the letter,
withdraw. And what a forged, expired or closed link gets."""

import datetime as dt
import io

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import select

from store.models import Notification, PollingPlace, PollingStation
from store.models.staff import StaffOffer, StaffRecruitment, TrainingBooking
from store.staff import recruitment as staff_recruitment
from store.staff import training as staff_training
from tasks import staffing
from tests.support.helpers import london
from tests.support.staff import (
    BEFORE_INVITES,
    everyone_available,
    member,
    offer_of,
    posts,
    setup_poll,
    start,
)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def invited(store):
    """The Wychwood poll with staff invited; returns the poll and a clerk's invitation token."""
    with store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test", as_of=dt.datetime.now(dt.UTC))
        clerk = member(s, "staff0020@example.org")  # count assistant and postal opener
        rec = staff_recruitment.recruitment_for(s, poll, clerk)
        return poll, staffing.invitation_token(rec, plan)


def test_answering_an_invitation_on_a_phone(sqlite_store, web_server, page, tmp_path):
    poll, token = invited(sqlite_store)
    page.goto(f"{web_server}/staff/respond/{token}")
    assert page.locator("h1").inner_text() == "Can you work at the elections on Thursday 6 May 2027?"
    days = page.get_by_role("checkbox", name="Wednesday 28 April 2027")
    assert days.is_checked() and page.get_by_role("checkbox", name="Thursday 6 May 2027").is_checked()
    # Nothing overflows a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(tmp_path / "invitation.png"), full_page=True)
    # Untick polling day and the count role: only the postal vote opening, as an opener.
    page.get_by_role("checkbox", name="Thursday 6 May 2027").uncheck()
    page.get_by_role("checkbox", name="Count Assistant", exact=True).uncheck()
    page.get_by_role("button", name="Yes, I can work").click()
    assert "Thank you: we have your answer" in page.get_by_role("status").inner_text()
    assert "You told us you can work on Wednesday 28 April 2027" in page.content()
    with sqlite_store.session() as s:
        rec = s.scalars(
            select(StaffRecruitment).where(StaffRecruitment.staff_id == member(s, "staff0020@example.org").id)
        ).one()
        assert (rec.status, rec.available_dates, rec.roles, rec.responded_via) == (
            "available", ["2027-04-28"], ["postal-vote-opener"], "web",
        )  # fmt: skip
    # Reloading or submitting the same again changes nothing and says so.
    page.get_by_role("button", name="Yes, I can work").click()
    assert "nothing has changed" in page.get_by_role("status").inner_text()
    # Ticking no day is refused with a clear message, and nothing is recorded.
    for box in page.get_by_role("checkbox").all():
        box.uncheck()
    page.get_by_role("button", name="Yes, I can work").click()
    assert "tick at least one day you can work" in page.get_by_role("alert").inner_text()
    # Saying no.
    page.get_by_role("button", name="No, I cannot work this time").click()
    assert "We will not chase you" in page.get_by_role("status").inner_text()
    with sqlite_store.session() as s:
        assert (
            s.scalars(select(StaffRecruitment.status).where(StaffRecruitment.id == rec.id)).one()
            == "declined"
        )
        kinds = s.scalars(
            select(Notification.kind).where(Notification.recipient == "staff0020@example.org")
        ).all()
        assert kinds.count("staff-answer") == 2  # one confirmation for each change of answer


def test_accepting_an_offer_booking_training_and_downloading_the_letter(
    sqlite_store, web_server, page, tmp_path
):
    with sqlite_store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test", as_of=BEFORE_INVITES)
        everyone_available(s, poll)
        staff_training.add_session(
            s, poll, "T1", title="Polling station staff training", venue="Council Chamber", capacity=30,
            starts_at=london("2027-04-20T18:00"), ends_at=london("2027-04-20T20:30"), roles=[], actor="m",
        )  # fmt: skip
        staff_training.add_session(
            s, poll, "T2", title="Polling station staff training", venue="Scout Hut, Mill Road", capacity=1,
            starts_at=london("2027-04-22T10:00"), ends_at=london("2027-04-22T12:30"), roles=[], actor="m",
        )  # fmt: skip
    staffing.fill(poll.id, "test", first=True)
    staffing.send_offers(poll.id, "test")
    with sqlite_store.session() as s:
        po = next(p for p in posts(s, poll) if p.key == "station:W01:presiding-officer:1")
        token = staffing.offer_token(offer_of(s, po), poll)
        holder = s.get(type(member(s, "staff0001@example.org")), po.staff_id).email
    page.goto(f"{web_server}/staff/respond/{token}")
    assert page.locator("h1").inner_text() == "We offer you a post"
    assert "St Mary's Church Hall (W01)" in page.content() and "£265.00" in page.content()
    page.screenshot(path=str(tmp_path / "offer.png"), full_page=True)
    page.get_by_role("button", name="Accept this post").click()
    assert page.locator("h1").inner_text() == "You are appointed"
    page.get_by_role("radio", name="Thu 22 Apr 2027, 10:00-12:30, Scout Hut, Mill Road").check()
    page.get_by_role("button", name="Book this session").click()
    assert "Your training place is booked" in page.get_by_role("status").inner_text()
    assert (
        "You are booked: Polling station staff training, Thu 22 Apr 2027, 10:00-12:30"
        in page.locator("main").inner_text()
    )
    assert page.get_by_role("radio", name="Thu 22 Apr 2027, 10:00-12:30, Scout Hut, Mill Road").is_checked()
    page.screenshot(path=str(tmp_path / "appointed.png"), full_page=True)
    href = page.get_by_role("link", name="Download your appointment letter (PDF)").get_attribute("href")
    response = page.request.get(f"{web_server}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    (tmp_path / "letter.pdf").write_bytes(response.body())
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(tmp_path / "letter.pdf").pages).split())
    assert "Letter of appointment" in text and "Presiding Officer" in text and "Section 66" in text
    assert "Scout Hut, Mill Road" in text
    with sqlite_store.session() as s:
        offer = s.scalars(select(StaffOffer).where(StaffOffer.post_id == po.id)).one()
        assert offer.status == "accepted"
        booking = s.scalars(select(TrainingBooking)).one()
        assert booking.status == "booked"
        sent = s.scalars(select(Notification.kind).where(Notification.recipient == holder)).all()
        assert {"staff-appointment", "staff-training"} <= set(sent)
    # Withdrawing from the page: the post is free again.
    page.goto(f"{web_server}/staff/respond/{token}")
    page.get_by_label("Tell us why (optional)").fill("I have broken my leg")
    page.get_by_role("button", name="I can no longer do this post").click()
    assert "We will find someone else" in page.get_by_role("status").inner_text()
    assert page.locator("h1").inner_text() == "This offer is closed"
    with sqlite_store.session() as s:
        assert s.get(type(po), po.id).staff_id is None
        offer = s.scalars(select(StaffOffer).where(StaffOffer.post_id == po.id)).one()
        assert (offer.status, offer.reason) == ("withdrawn", "I have broken my leg")


def test_links_that_cannot_be_used(sqlite_store, web_server):
    poll, token = invited(sqlite_store)
    forged = requests.get(f"{web_server}/staff/respond/{token[:-4]}abcd", timeout=10)
    assert forged.status_code == 404 and "This link cannot be used" in forged.text
    with sqlite_store.session() as s:
        rec = s.scalars(select(StaffRecruitment)).first()
        from tasks.messaging.tokens import sign

        expired = sign(
            staffing.INVITATION, {"r": rec.id}, expires=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        )
    gone = requests.get(f"{web_server}/staff/respond/{expired}", timeout=10)
    assert gone.status_code == 410 and "this link has expired" in gone.text
    posted = requests.post(f"{web_server}/staff/respond/{expired}", data={"action": "accept"}, timeout=10)
    assert posted.status_code == 410
    no_letter = requests.get(f"{web_server}/staff/letter/{token}.pdf", timeout=10)
    assert no_letter.status_code == 404 and "accept the offer first" in no_letter.text
    bad = requests.post(f"{web_server}/staff/respond/{token}", data={"action": "maybe"}, timeout=10)
    assert bad.status_code == 400 and "choose an answer" in bad.text
    page = requests.get(f"{web_server}/staff/respond/{token}", timeout=10)
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="viewport"' in page.text


def test_template_syntax_in_a_station_name_is_shown_as_written(sqlite_store, web_server):
    """A station named with braces (as a mistyped import might have it) is text, never a template:
    the offer page and the appointment letter show it as written, and nothing answers 500."""
    with sqlite_store.session() as s:
        poll = setup_poll(s)
        for station in s.scalars(select(PollingStation)).all():
            station.name = "{{ 7*7 }} Hall {% if %}"
        for place in s.scalars(select(PollingPlace)).all():
            place.name = "{{ poll.key }} Rooms"
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test", as_of=BEFORE_INVITES)
        everyone_available(s, poll)
    staffing.fill(poll.id, "test", first=True)
    staffing.send_offers(poll.id, "test")
    with sqlite_store.session() as s:
        po = next(p for p in posts(s, poll) if p.key == "station:W01:presiding-officer:1")
        token = staffing.offer_token(offer_of(s, po), poll)
    offer = requests.get(f"{web_server}/staff/respond/{token}", timeout=30)
    assert offer.status_code == 200 and ">49<" not in offer.text
    assert "{{ 7*7 }} Hall" in offer.text
    accepted = requests.post(f"{web_server}/staff/respond/{token}", data={"action": "accept"}, timeout=60)
    assert accepted.status_code in (200, 303)
    letter = requests.get(f"{web_server}/staff/letter/{token}.pdf", timeout=60)
    assert letter.status_code == 200, letter.text[:300]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.content)).pages)
    assert "49 Hall" not in text and "{{ 7*7 }} Hall" in text
