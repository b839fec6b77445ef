"""When a poll allows the revised register to be deferred to 1 February (domain notes §11.1: a UK
Parliamentary, principal council, mayoral, parish, GLA or PCC election, or a neighbourhood planning
referendum, between 1 July and 1 December), with the plain functions the flows wrap, on SQLite and
PostgreSQL."""

import datetime as dt

import pytest
from sqlalchemy import select

from store import canvass
from store.canvass import deferral as canvass_deferral
from store.models import Notification, Poll, WorkItem
from tasks.canvass.messages import deferral_messages
from tests.support.helpers import plan, seed_people

D = dt.date.fromisoformat


@pytest.fixture
def year(store):
    with store.session() as s:
        seed_people(s)
        plan(s, ids=["canvass.2027"], kinds=None, nation="england")
    return store


def review(store, changed="x"):
    with store.session() as s:
        changes = canvass_deferral.review_deferral(s, changed, "test")
        deferral_messages(s, changes)
        return [c.kind for c in changes]


def item(store, key=canvass_deferral.DEFERRAL_OFFER):
    with store.session() as s:
        return s.scalars(select(WorkItem).where(WorkItem.key == key)).first()


def plan_poll(store, ids, kinds=None, nation=None):
    with store.session() as s:
        poll, *_ = plan(s, ids=ids, kinds=kinds, nation=nation)
        return poll.key


@pytest.mark.parametrize(
    "ids,kinds,nation,offered",
    [
        (["local.wychwood.abbey.by.2027-07-01"], None, None, True),  # the first day of the period
        (["local.wychwood.abbey.by.2027-12-01"], None, None, True),  # and the last
        (["local.wychwood.abbey.by.2027-06-24"], None, None, False),
        (["local.wychwood.abbey.by.2027-12-02"], None, None, False),
        (["parl.wychwood.by.2027-10-14"], None, "england", True),
        (["pcc.thames-valley.by.2027-09-16"], None, None, True),
        (["local.wychwood-parishes.by.2027-09-16"], ["parish"], None, True),
        (["local.highland.by.2027-09-16"], None, "scotland", False),  # another nation's register
        (["ref.wychwood.2027-09-16"], None, None, True),  # only if neighbourhood planning: says so
    ],
)
def test_which_polls_offer_the_deferral(year, ids, kinds, nation, offered):
    plan_poll(year, ids, kinds, nation)
    assert review(year) == (["offered"] if offered else [])
    found = item(year)
    assert (found is not None and found.status == "open") == offered
    if offered and ids[0].startswith("ref."):
        assert "only a neighbourhood planning referendum allows it" in found.description


def test_the_offer_goes_to_the_ero_once_and_is_withdrawn_when_the_poll_is_cancelled(year):
    key = plan_poll(year, ["local.wychwood.abbey.by.2027-09-16"])
    assert review(year) == ["offered"]
    assert review(year) == []  # nothing new the second time
    with year.session() as s:
        (sent,) = s.scalars(select(Notification).where(Notification.kind == "canvass-deferral-offered")).all()
        assert sent.recipient == "dan@wychwood.gov.uk"
        assert sent.subject == "You may defer the 2027 revised register to 1 February 2028"
        offer = s.scalars(select(WorkItem).where(WorkItem.key == canvass_deferral.DEFERRAL_OFFER)).one()
        assert offer.due_at.date() == D("2027-11-22")  # the 1 December timetable's last applications
        s.scalars(select(Poll).where(Poll.key == key)).one().status = "cancelled"
    assert review(year) == ["withdrawn"]
    assert item(year).status == "cancelled"
    with year.session() as s:
        (sent,) = s.scalars(
            select(Notification).where(Notification.kind == "canvass-deferral-withdrawn")
        ).all()
        assert sent.subject == "The offer to defer the 2027 revised register is withdrawn"


def test_a_deferral_that_loses_its_poll_is_flagged_to_the_ero(year):
    key = plan_poll(year, ["local.wychwood.abbey.by.2027-09-16"])
    assert review(year) == ["offered"]
    with year.session() as s:
        plan(
            s,
            ids=["canvass.2027"],
            kinds=None,
            nation="england",
            overrides={"revised_register": "2028-02-01"},
            actor="dan@wychwood.gov.uk",
        )
    assert review(year, "canvass.2027") == ["accepted"]
    assert item(year).status == "done"
    with year.session() as s:
        s.scalars(select(Poll).where(Poll.key == key)).one().status = "cancelled"
    assert review(year) == ["unsupported"]
    flagged = item(year, canvass_deferral.DEFERRAL_UNSUPPORTED)
    assert flagged.status == "open" and flagged.owner_role == "electoral-registration-officer"
    assert "pollflow canvass undefer canvass.2027" in flagged.description
    # The deferral undone: the flag is resolved.
    with year.session() as s:
        plan(s, ids=["canvass.2027"], kinds=None, nation="england")
    review(year, "canvass.2027")
    assert item(year, canvass_deferral.DEFERRAL_UNSUPPORTED).status == "done"


def test_the_eros_decision_is_checked(year):
    with year.session() as s, pytest.raises(canvass.CanvassError, match="no planned poll allows deferring"):
        canvass_deferral.check_deferral(s, "canvass.2027", "dan@wychwood.gov.uk")
    plan_poll(year, ["local.wychwood.abbey.by.2027-09-16"])
    with year.session() as s:
        with pytest.raises(
            canvass.CanvassError, match="alice@wychwood.gov.uk is not an electoral registration"
        ):
            canvass_deferral.check_deferral(s, "canvass.2027", "alice@wychwood.gov.uk")
        with pytest.raises(canvass.CanvassError, match="after 1 December 2027 and by 1 February 2028"):
            canvass_deferral.check_deferral(s, "canvass.2027", "dan@wychwood.gov.uk", D("2027-12-01"))
        with pytest.raises(canvass.CanvassError, match="is a poll, not a registration year"):
            canvass_deferral.check_deferral(s, "local.wychwood.abbey.by.2027-09-16", "dan@wychwood.gov.uk")
        with pytest.raises(canvass.CanvassError, match="is not deferred"):
            canvass_deferral.check_undeferral(s, "canvass.2027", "dan@wychwood.gov.uk")
        _, person, day, polls = canvass_deferral.check_deferral(
            s, "canvass.2027", "dan@wychwood.gov.uk", D("2028-01-15")
        )
        assert (person.email, day, [p.poll_key for p in polls]) == (
            "dan@wychwood.gov.uk",
            D("2028-01-15"),
            ["local.wychwood.abbey.by.2027-09-16"],
        )
