"""The alert policy before delivery (tasks/messaging/gather.py): quiet hours, gathering a
person's messages into one, the morning-digest-only choice; urgent messages and messages to
people outside the team go as they are."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from store import outbox
from store.models import Notification, Person, WorkItem
from store.outbox import OutgoingMessage
from store.staff.config import ConfigError
from tasks.messaging import alerts
from tasks.messaging.gather import gather
from tasks.messaging.policy import policy
from tests.support.helpers import london, plan, seed_people
from timetables.clock import LONDON

NOON = dt.datetime(2027, 3, 2, 12, 0, tzinfo=LONDON)  # a Tuesday, outside quiet hours


@pytest.fixture(autouse=True)
def shipped_policy(monkeypatch):
    """These tests are of the policy pollflow ships, not the tests' own (tests/support/alerts.yaml)."""
    monkeypatch.delenv("POLLFLOW_ALERTS_CONFIG")


def person(session, email: str, hear_by: str = "email") -> Person:
    p = Person(email=email, name=email.split("@")[0].title(), hear_by=hear_by)
    session.add(p)
    session.flush()
    return p


def queue(session, to: Person | None, kind: str, n: int, at: dt.datetime, prefix: str = "") -> None:
    outbox.enqueue(
        session,
        [
            OutgoingMessage(
                dedupe_key=f"{prefix}{kind}:{to.id if to else 'staff'}:{i}",
                kind=kind,
                channel="email",
                recipient=to.email if to else f"clerk{i}@example.com",
                subject=f"{kind.title()} {i}: publish the notice of election",
                body=f"Dear {to.name if to else 'Clerk'},\n\nItem {i}: see https://elections.wychwood.gov.uk/work/{i}\n",
                person_id=to.id if to else None,
            )
            for i in range(n)
        ],
    )
    session.execute(update(Notification).values(next_attempt_at=at.astimezone(dt.UTC)))


def by_status(session) -> dict[str, list[Notification]]:
    out: dict[str, list[Notification]] = {}
    for n in session.scalars(select(Notification).order_by(Notification.id)):
        out.setdefault(n.status, []).append(n)
    return out


def test_several_messages_for_one_person_go_as_one_and_a_rerun_gathers_nothing_twice(store):
    with store.session() as s:
        alice, bob = person(s, "alice@wychwood.gov.uk"), person(s, "bob@wychwood.gov.uk")
        queue(s, alice, "reminder", 3, NOON)
        queue(s, bob, "overdue", 1, NOON)
        queue(s, alice, "missed", 1, NOON)  # urgent: never gathered
        queue(s, None, "staff-invitation", 2, NOON)  # outside the team: untouched
        assert gather(s, NOON) == {"held": 0, "gathered": 3, "to_digest": 0}
        assert gather(s, NOON) == {"held": 0, "gathered": 0, "to_digest": 0}
        got = by_status(s)
        gathered = [n for n in got["queued"] if n.kind == "gathered"]
        assert len(gathered) == 1 and gathered[0].recipient == "alice@wychwood.gov.uk"
        one = gathered[0]
        assert one.subject == "3 things for you: Reminder 0: publish the notice of election, and more"
        assert "3 things from Wychwood District Council's election work" in one.body
        assert all(f"Reminder {i}: publish" in one.body and f"/work/{i}" in one.body for i in range(3))
        assert one.body.count("Dear Alice,") == 1  # greeted once, not once a message
        assert {n.gathered_into for n in got["gathered"]} == {one.id}
        assert sorted(n.kind for n in got["queued"]) == [
            "gathered", "missed", "overdue", "staff-invitation", "staff-invitation"
        ]  # fmt: skip


def test_quiet_hours_hold_all_but_the_urgent_until_they_end(store):
    evening = dt.datetime(2027, 3, 2, 21, 30, tzinfo=LONDON)
    with store.session() as s:
        alice = person(s, "alice@wychwood.gov.uk")
        queue(s, alice, "reminder", 2, evening)
        queue(s, alice, "missed", 1, evening)
        assert gather(s, evening)["held"] == 2
        got = by_status(s)["queued"]
        held = [n for n in got if n.kind == "reminder"]
        morning = dt.datetime(2027, 3, 3, 7, 0, tzinfo=LONDON)
        assert {n.next_attempt_at.astimezone(LONDON) for n in held} == {morning}
        assert [n for n in got if n.kind == "missed"][0].next_attempt_at <= evening
        # At 07:00 they are due again, and go as one.
        assert gather(s, morning)["gathered"] == 2


def test_a_message_soon_after_the_last_waits_for_the_gathering_window(store):
    with store.session() as s:
        alice = person(s, "alice@wychwood.gov.uk")
        queue(s, alice, "reminder", 1, NOON, prefix="earlier-")
        s.execute(
            update(Notification).values(
                status="sent", sent_at=(NOON - dt.timedelta(minutes=10)).astimezone(dt.UTC)
            )
        )
        queue(s, alice, "unblocked", 1, NOON)
        assert gather(s, NOON)["held"] == 1
        waiting = [n for n in by_status(s)["queued"]][0]
        assert waiting.next_attempt_at.astimezone(LONDON) == NOON + dt.timedelta(minutes=50)


def test_someone_who_hears_by_the_digest_gets_only_the_urgent_at_once(store):
    with store.session() as s:
        carol = person(s, "carol@wychwood.gov.uk", hear_by="digest")
        queue(s, carol, "reminder", 2, NOON)
        queue(s, carol, "missed", 1, NOON)
        assert gather(s, NOON)["to_digest"] == 2
        got = by_status(s)
        assert [n.kind for n in got["queued"]] == ["missed"]
        assert {n.last_error for n in got["gathered"]} == {"not sent: they hear by the morning digest"}


def test_a_councils_policy_is_laid_over_the_default_and_a_bad_value_named(tmp_path, monkeypatch):
    own = tmp_path / "alerts.yaml"
    own.write_text("gather_minutes: 0\nquiet_hours: null\n")
    monkeypatch.setenv("POLLFLOW_ALERTS_CONFIG", str(own))
    rules = policy()
    assert (rules.gather_minutes, rules.quiet_hours, rules.overdue_to_manager_after_hours) == (0, None, 24)
    own.write_text("overdue_to_manager_after_hours: 0\n")
    with pytest.raises(
        ConfigError, match=r"alerts.yaml: overdue_to_manager_after_hours: .*greater than or equal to 1"
    ):
        policy()
    own.write_text("quiet_hour: {start: '20:00', end: '07:00'}\n")
    with pytest.raises(ConfigError, match=r"quiet_hour: Extra inputs are not permitted"):
        policy()


def test_overdue_work_is_raised_with_the_manager_once_after_the_policys_time(store):
    with store.session() as s:
        seed_people(s)
        plan(s, ids=["local.hartfield.2027-05-06"], kinds=None)
    as_of = london("2027-04-01T10:00")
    with store.session() as s:
        first = alerts.scan(s, as_of)
        raised = list(s.scalars(select(Notification).where(Notification.kind == "overdue-manager")))
        items = {i.id: i for i in s.scalars(select(WorkItem))}
        alice = s.scalars(select(Person).where(Person.email == "alice@wychwood.gov.uk")).one()
        day_before = as_of - dt.timedelta(hours=24)
        late = [
            i for i in items.values()
            if i.status == "open" and i.owner_id not in (None, alice.id) and i.due_at < day_before
        ]  # fmt: skip
        assert late, "the Hartfield poll has someone else's work overdue by a day on 1 April"
        # To the manager, about each such item once; never about the manager's own work.
        assert sorted(n.work_item_id for n in raised) == sorted(i.id for i in late)
        assert {n.recipient for n in raised} == {"alice@wychwood.gov.uk"}
        assert first.escalated >= len(late)
        one = raised[0]
        owner = s.get(Person, items[one.work_item_id].owner_id)
        assert one.subject.startswith("STILL OVERDUE: ") and owner.name in one.subject
        assert "more than 24 hours later" in one.body and f"/work/{one.work_item_id}" in one.body
        assert "Wychwood District Council" in one.body
    with store.session() as s:
        again = alerts.scan(s, as_of + dt.timedelta(hours=1))
        assert again.escalated == 0
        assert len(
            list(s.scalars(select(Notification).where(Notification.kind == "overdue-manager")))
        ) == len(raised)
