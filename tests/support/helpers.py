"""Planning polls and seeding people in tests, with the plain functions the flows wrap."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from store.models import Notification
from store.people import PersonRow, save_people
from store.planning import sync_poll
from timetables import timetable_for
from timetables.work import load_overlay, plan_work

LONDON = ZoneInfo("Europe/London")

PEOPLE = [
    PersonRow(2, "Alice Manager", "alice@wychwood.gov.uk", "01234 567890", ["electoral-services-manager"]),
    PersonRow(
        3, "Bob Officer", "bob@wychwood.gov.uk", None, ["electoral-services-officer", "postal-votes-officer"]
    ),
    PersonRow(4, "Carol Returning", "carol@wychwood.gov.uk", None, ["returning-officer"]),
    PersonRow(
        5,
        "Dan Registration",
        "dan@wychwood.gov.uk",
        None,
        ["electoral-registration-officer", "staffing-officer"],
    ),
    PersonRow(6, "Erin Finance", "erin@wychwood.gov.uk", None, ["finance-officer"]),
]
DISTRICT_AND_PARISH = (
    ["local.wychwood.2027-05-06", "local.wychwood-parishes.2027-05-06"],
    ["local", "parish"],
)


def seed_people(session, people=PEOPLE):
    return save_people(session, list(people), actor="test")


def plan(
    session,
    ids=DISTRICT_AND_PARISH[0],
    kinds=DISTRICT_AND_PARISH[1],
    nation=None,
    overrides=None,
    overlay=None,
    actor="test",
    poll_key=None,
):
    tt = timetable_for(ids, kind=kinds, nation=nation, overrides=overrides)
    planned = plan_work(tt, load_overlay(overlay) if overlay else None)
    poll, changes = sync_poll(
        session,
        poll_key or tt.election_id,
        tt,
        planned,
        overrides={k: str(v) for k, v in (overrides or {}).items()},
        overlay=str(overlay) if overlay else None,
        actor=actor,
    )
    return poll, changes, tt, planned


def london(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON)


def went_once(session) -> int:
    """Check that every message in the outbox went, on its own or gathered into one message for
    its person (the alert policy, tasks/messaging/gather.py), and say how many went."""
    rows = session.scalars(select(Notification)).all()
    sent = {n.id for n in rows if n.status == "sent"}
    stray = [f"{n.dedupe_key} ({n.status})" for n in rows if n.id not in sent and n.gathered_into not in sent]
    assert not stray, f"not sent, nor gathered into a message sent: {stray}"
    return len(sent)
