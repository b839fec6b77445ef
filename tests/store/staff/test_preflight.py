"""The pre-flight check: nothing goes to temporary staff while the council's details are
pollflow's example or links would point at this machine; one line says what to set, and nothing
is half-written. Messages within the council's own team are not held back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from store.identity.council import not_ready_to_send, save_council
from store.models import Notification
from store.models.staff import StaffRecruitment
from tasks import staffing
from tests.support.staff import BEFORE_INVITES, council_set, setup_poll, start
from timetables.errors import PollflowError

ADDRESS = "https://elections.wychwood.gov.uk"


@pytest.fixture
def real_links(monkeypatch):
    """This machine's links are not meant for anyone else (the other staff tests allow them)."""
    monkeypatch.delenv("POLLFLOW_ALLOW_LOCAL_LINKS", raising=False)


def counts(store) -> tuple[int, int]:
    with store.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Notification)),
            s.scalar(select(func.count()).select_from(StaffRecruitment)),
        )


def test_example_details_and_loopback_links_are_refused_in_one_line(store, real_links):
    with store.session() as s:
        poll = setup_poll(s, council=False)
        start(s, poll)
    before = counts(store)
    with pytest.raises(PollflowError) as refused:
        staffing.send_invitations(poll.id, BEFORE_INVITES, "test")
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith("not sending to temporary staff: ")
    assert "the council's details are pollflow's example (Wychwood District Council)" in line
    assert "links would point at http://127.0.0.1:8080, which only this machine can reach" in line
    assert "The council's details" in line and "POLLFLOW_PUBLIC_URL" in line
    # Nothing half-written: no invitation recorded, no message queued.
    assert counts(store) == before


def test_each_problem_is_named_alone_and_once_both_are_fixed_invitations_go(store, real_links, monkeypatch):
    with store.session() as s:
        poll = setup_poll(s, council=False)
        start(s, poll)
    monkeypatch.setenv("POLLFLOW_PUBLIC_URL", ADDRESS)
    with pytest.raises(PollflowError, match=r"example \(Wychwood District Council\); an administrator"):
        staffing.send_invitations(poll.id, BEFORE_INVITES, "test")
    monkeypatch.delenv("POLLFLOW_PUBLIC_URL")
    with store.session() as s:
        council_set(s)
    with pytest.raises(PollflowError, match=r"^not sending to temporary staff: links would point at http"):
        staffing.send_invitations(poll.id, BEFORE_INVITES, "test")
    # The address saved with the council's details is the one links use.
    with store.session() as s:
        save_council(s, {"name": "Wychwood District Council", "public_url": ADDRESS + "/"}, "test")
    assert staffing.send_invitations(poll.id, BEFORE_INVITES, "test") == 30
    with store.session() as s:
        bodies = [
            n.body for n in s.scalars(select(Notification).where(Notification.kind == "staff-invitation"))
        ]
    assert len(bodies) == 30 and all(f"{ADDRESS}/staff/respond/" in b for b in bodies)
    assert not any("127.0.0.1" in b for b in bodies)


@pytest.mark.parametrize(
    "address",
    ["http://localhost:8080", "http://wychwood.localhost", "http://[::1]:8080", "http://127.1.2.3"],
)
def test_every_loopback_form_is_refused(sqlite_store, real_links, monkeypatch, address):
    monkeypatch.setenv("POLLFLOW_PUBLIC_URL", address)
    with sqlite_store.session() as s:
        council_set(s)
        problems = not_ready_to_send(s)
    assert problems == [f"links would point at {address}, which only this machine can reach"]


def test_nothing_to_send_is_not_refused(store, real_links):
    """A run with no one to write to (all invited already, say) goes on: the check is for sending."""
    with store.session() as s:
        poll = setup_poll(s, people=[])
        start(s, poll)
    assert staffing.send_invitations(poll.id, BEFORE_INVITES, "test") == 0
