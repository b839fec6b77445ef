"""The flows under Prefect's test harness: what they store, the events they emit, the artifacts
they publish. The harness starts once per session (the ``prefect`` fixture)."""

import datetime as dt
import time

import pytest
from sqlalchemy import func, select

from store.models import AuditEntry, Notification, WorkItem
from tests.support.helpers import DISTRICT_AND_PARISH, london, seed_people, went_once
from tests.timetables.pinned_catalogue import pinned_overlay

pytestmark = pytest.mark.usefixtures("prefect")
STARTED = dt.datetime.now(dt.UTC)


@pytest.fixture(autouse=True)
def started():
    """When the test began: the harness is shared, so tests read only their own events."""
    global STARTED
    STARTED = dt.datetime.now(dt.UTC)


def read_events(name: str, timeout: float = 15) -> list:
    """This test's events, once the harness server has persisted them (it writes in batches)."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    deadline = time.monotonic() + timeout
    wanted = EventFilter(event=EventNameFilter(name=[name]), occurred=EventOccurredFilter(since=STARTED))
    with get_client(sync_client=True) as client:
        while True:
            found = client.read_events(filter=wanted, limit=50).events
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


def read_artifacts(keys: list[str]) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import Artifact

    with get_client(sync_client=True) as client:
        response = client.request(
            "POST",
            "/artifacts/filter",
            json={
                "artifacts": {"key": {"any_": keys}},
                "sort": "CREATED_DESC",
                "limit": 50,
                "offset": 0,
            },
        )
    return Artifact.model_validate_list(response.json())


def test_plan_election_flow_stores_emits_and_publishes(sqlite_store):
    from flows.plan_election import plan_election

    with sqlite_store.session() as s:
        seed_people(s)
    ids, kinds = DISTRICT_AND_PARISH
    first = plan_election(election_ids=ids, kind=kinds, actor="alice@wychwood.gov.uk")
    assert first["poll_created"] and first["work_items"] >= 40 and first["reminders"] >= 120
    again = plan_election(election_ids=ids, kind=kinds, actor="alice@wychwood.gov.uk")
    assert not again["poll_created"] and not again["work_added"] and not again["events_moved"]

    events = read_events("pollflow.election.planned")
    assert len(events) == 1  # the second run changed nothing, so announced nothing
    event = events[0]
    assert event.resource.id == f"pollflow.poll.{'+'.join(ids)}"
    related = {r.id: r.role for r in event.related}
    assert related["pollflow.election.local.wychwood.2027-05-06"] == "election"
    assert related["pollflow.election.local.wychwood-parishes.2027-05-06"] == "election"

    artifacts = read_artifacts(["timetable-local-wychwood-2027-05-06-local-wychwood-parishes-2027-05-06"])
    assert artifacts and "close_of_nominations" in artifacts[0].data
    with sqlite_store.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "planned")).one()
        assert entry.actor == "alice@wychwood.gov.uk" and entry.flow_run_id


def test_check_deadlines_flow_queues_once_and_emits_missed_deadlines(sqlite_store, smtp):
    from flows.check_deadlines import check_deadlines
    from flows.plan_election import plan_election

    with sqlite_store.session() as s:
        seed_people(s)
    plan_election(election_ids=["local.hartfield.2027-05-06"])
    as_of = london("2027-04-01T10:00")  # the notice of election (31 March) has passed undone
    first = check_deadlines(as_of=as_of)
    assert first["missed_statutory_deadlines"] >= 1 and first["messages_queued"] > 0
    with sqlite_store.session() as s:
        went = went_once(s)  # several for one person gathered into one message
    assert first["delivery"]["sent"] == went < first["messages_queued"]
    smtp.wait_for(went)
    again = check_deadlines(as_of=as_of)
    assert again["messages_queued"] == 0 and again["delivery"]["sent"] == 0
    assert len(smtp.messages) == went  # each exactly once
    subjects = [m["Subject"] for m in smtp.messages]
    assert any(s.startswith("STATUTORY DEADLINE MISSED: Notice of election") for s in subjects)
    missed = read_events("pollflow.deadline.missed")
    assert any(e.payload.get("event_key") == "notice_of_election" for e in missed)


def test_completing_work_unblocks_and_emits(sqlite_store, smtp):
    from flows.complete_work import complete_work_item
    from flows.plan_election import plan_election

    with sqlite_store.session() as s:
        seed_people(s)
    # The catalogue before issue 14, whose project plan unblocks the two bookings and no more.
    plan_election(election_ids=["local.hartfield.2027-05-06"], overlay=str(pinned_overlay()))
    done = complete_work_item(ref="project_plan", by="carol@wychwood.gov.uk", note="signed")
    assert set(done["unblocked"]) == {"book_polling_stations", "book_count_venue"}
    smtp.wait_for(2)
    assert {m["To"] for m in smtp.messages} == {"alice@wychwood.gov.uk", "bob@wychwood.gov.uk"}
    assert all(m["Subject"].startswith("Ready to start") for m in smtp.messages)
    events = read_events("pollflow.workitem.completed")
    assert events and events[0].payload["key"] == "project_plan"
    again = complete_work_item(ref="project_plan", by="carol@wychwood.gov.uk")
    assert again["already_done"]


def test_replan_moves_deadlines_tells_owners_and_emits(sqlite_store, smtp):
    from flows.plan_election import plan_election
    from flows.replan import replan

    with sqlite_store.session() as s:
        seed_people(s)
    plan_election(election_ids=["local.hartfield.2027-05-06"])
    result = replan(election_id="local.hartfield.2027-05-06", poll_date=dt.date(2027, 5, 13))
    assert any(m["key"] == "poll" for m in result["events_moved"])
    assert result["work_moved"]
    with sqlite_store.session() as s:
        moved = s.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "moved"))
        assert moved == len([m for m in result["work_moved"]])
        assert s.scalars(select(WorkItem.due_at).where(WorkItem.key == "count_setup")).one().day == 13
    assert read_events("pollflow.timetable.changed")
    unchanged = replan(election_id="local.hartfield.2027-05-06")
    assert not unchanged["events_moved"] and not unchanged["work_moved"]
