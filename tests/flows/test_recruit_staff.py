"""Recruitment end to end under Prefect's test harness, with every email delivered to a real SMTP
server: invitations with personal links, answers through those links, allocation and offers,
acceptance and appointment, a withdrawal replaced from the reserve list. Running the flow again
changes and sends nothing; a crash in the middle loses nothing and duplicates nothing."""

import re

import pytest
from sqlalchemy import func, select

from store.models import AuditEntry, Notification
from store.models.staff import StaffOffer, StaffPost
from tasks import staffing
from tests.support.staff import BEFORE_INVITES, POLL, POLL_KEY, setup_poll


@pytest.fixture(autouse=True)
def public_address(monkeypatch):
    """Staff are sent links to the council's own address (the pre-flight check refuses loopback)."""
    monkeypatch.setenv("POLLFLOW_PUBLIC_URL", "https://elections.wychwood.gov.uk")


pytestmark = pytest.mark.usefixtures("prefect")
LINK = re.compile(r"(https?://\S+/staff/respond/(\S+))")


def links(message) -> list[tuple[str, str]]:
    return LINK.findall(message.get_content())


def subject(message) -> str:
    # Python's email package folds a long subject with an apostrophe straight after "Subject:",
    # and reads it back with a leading space (tasks/channels.py builds the message).
    return message["Subject"].strip()


def by_subject(smtp, start: str) -> list:
    return [m for m in smtp.messages if subject(m).startswith(start)]


def test_recruitment_end_to_end(store, smtp, monkeypatch):
    from flows.recruit_staff import allocate_staff, recruit_staff

    monkeypatch.setenv("POLLFLOW_PUBLIC_URL", "https://elections.wychwood.gov.uk")
    with store.session() as s:
        setup_poll(s)

    # 1. Invitations: one each, with a personal link; a second run sends nothing.
    first = recruit_staff(election_id=POLL, as_of=BEFORE_INVITES)
    result = first["polls"][POLL_KEY]
    assert result["posts"] == 26 and result["invited"] == 30 and first["delivery"]["sent"] == 30
    smtp.wait_for(30)
    invitations = by_subject(smtp, "Can you work at the elections on Thursday 6 May 2027?")
    assert len(invitations) == 30 and len({m["To"] for m in invitations}) == 30
    url, token = links(invitations[0])[0]
    assert url.startswith("https://elections.wychwood.gov.uk/staff/respond/")
    again = recruit_staff(election_id=POLL, as_of=BEFORE_INVITES)
    assert again["polls"][POLL_KEY]["invited"] == 0 and again["delivery"]["sent"] == 0
    assert len(smtp.messages) == 30

    # 2. Everyone answers yes through their own link (one of them twice: no change).
    for message in invitations:
        staffing.respond(links(message)[0][1], True, via="web", now=BEFORE_INVITES)
    assert not staffing.respond(token, True, via="web", now=BEFORE_INVITES).changed

    # 3. A manager allocates: every post filled, each offered by email.
    allocated = allocate_staff(election_id=POLL, as_of=BEFORE_INVITES)
    assert allocated["assigned"] == 26 and allocated["unfilled"] == 0 and allocated["offers"] == 26
    smtp.wait_for(30 + 30 + 26)  # the 30 answers' confirmations, then the offers
    offers = by_subject(smtp, "Offer: ")
    assert len(offers) == 26
    po_offer = next(
        m for m in offers if subject(m).startswith("Offer: Presiding Officer at St Mary's Church Hall")
    )
    assert "Fee: £265.00" in po_offer.get_content()

    # 4. The presiding officer accepts: appointed, with a letter link, asked to book training.
    accepted = staffing.respond(links(po_offer)[0][1], True, via="web")
    assert accepted.changed and accepted.letter_link.startswith(
        "https://elections.wychwood.gov.uk/staff/letter/"
    )

    # 5. A clerk accepts and then withdraws: the staffing officer hears; the next run fills the
    #    post from the reserve list and offers it.
    clerk_offer = next(m for m in offers if "Poll Clerk" in subject(m))
    clerk_token = links(clerk_offer)[0][1]
    staffing.respond(clerk_token, True, via="web")
    withdrawn = staffing.respond(clerk_token, False, via="web", reason="hospital appointment")
    assert withdrawn.released and "withdrawn" in withdrawn.summary
    later = recruit_staff(election_id=POLL, as_of=BEFORE_INVITES)
    steps = later["polls"][POLL_KEY]
    assert steps["replacements"]["assigned"] == 1 and steps["offers"] == 1
    smtp.wait_for(30 + 30 + 26 + 2 + 2 + 1)  # two appointments, two notices, one new offer
    assert len(by_subject(smtp, "Your appointment: Presiding Officer, Thursday 6 May 2027")) == 1
    notice = by_subject(smtp, "Staff change: ")  # to the staffing officer and the manager
    assert sorted(m["To"] for m in notice) == ["alice@wychwood.gov.uk", "dan@wychwood.gov.uk"]
    assert "hospital appointment" in notice[0].get_content()
    assert len(by_subject(smtp, "Offer: ")) == 27
    assert clerk_offer["To"] not in [m["To"] for m in by_subject(smtp, "Offer: ")[26:]]

    # 6. Nothing more to do: a rerun changes and sends nothing.
    sent = len(smtp.messages)
    with store.session() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
    quiet = recruit_staff(election_id=POLL, as_of=BEFORE_INVITES)
    q = quiet["polls"][POLL_KEY]
    assert (q["invited"], q["offers"], q["replacements"]["assigned"], quiet["delivery"]["sent"]) == (
        0,
        0,
        0,
        0,
    )
    assert len(smtp.messages) == sent
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
        assert (
            s.scalar(select(func.count()).select_from(Notification).where(Notification.status != "sent")) == 0
        )


def test_a_crash_in_the_middle_loses_nothing_and_sends_nothing_twice(sqlite_store, smtp, monkeypatch):
    from flows.recruit_staff import allocate_staff, recruit_staff
    from store.staff import recruitment as staff_recruitment

    with sqlite_store.session() as s:
        setup_poll(s)
    # Invitations queued but the run dies before delivering them.
    recruit_staff(election_id=POLL, as_of=BEFORE_INVITES, deliver=False)
    assert smtp.messages == []
    with sqlite_store.session() as s:
        recs = s.scalars(select(Notification).where(Notification.kind == "staff-invitation")).all()
        tokens = [LINK.search(n.body).group(2) for n in recs]
    for token in tokens:
        staffing.respond(token, True, via="web", now=BEFORE_INVITES)

    # Allocation saved, then the offers step fails half-way: its transaction is rolled back.
    real = staff_recruitment.make_offers

    def crash(session, poll, as_of=None):
        real(session, poll, as_of)
        raise RuntimeError("the machine lost power")

    monkeypatch.setattr(staff_recruitment, "make_offers", crash)
    with pytest.raises(RuntimeError, match="lost power"):
        allocate_staff(election_id=POLL, as_of=BEFORE_INVITES)
    with sqlite_store.session() as s:
        assert s.scalar(select(func.count()).select_from(StaffOffer)) == 0
        assert (
            s.scalar(select(func.count()).select_from(StaffPost).where(StaffPost.status == "allocated")) == 26
        )
    monkeypatch.setattr(staff_recruitment, "make_offers", real)

    # The rerun finishes the job: every invitation, answer and offer sent exactly once.
    recruit_staff(election_id=POLL, as_of=BEFORE_INVITES)
    smtp.wait_for(30 + 30 + 26)
    subjects = [subject(m) for m in smtp.messages]
    assert len(subjects) == 86
    assert sum(s.startswith("Can you work") for s in subjects) == 30
    assert sum(s.startswith("Offer: ") for s in subjects) == 26
    recruit_staff(election_id=POLL, as_of=BEFORE_INVITES)
    assert len(smtp.messages) == 86


def test_recruitment_advances_every_poll_under_way_on_a_schedule(sqlite_store, smtp):
    from flows.recruit_staff import purge_staff_data, recruit_staff

    with sqlite_store.session() as s:
        setup_poll(s)
    assert recruit_staff(as_of=BEFORE_INVITES)["polls"] == {}  # nothing started yet
    recruit_staff(election_id=POLL, as_of=BEFORE_INVITES, deliver=False)
    scheduled = recruit_staff(as_of=BEFORE_INVITES)
    assert list(scheduled["polls"]) == [POLL_KEY] and scheduled["delivery"]["sent"] == 30
    purged = purge_staff_data(dry_run=True)
    assert purged == {"purged": [], "kept": 0, "retention_days": 90, "dry_run": True}
