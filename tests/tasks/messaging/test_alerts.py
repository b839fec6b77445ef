"""The deadline check and the messages it queues, on SQLite and PostgreSQL: reminders once,
overdue alerts once per due date, missed statutory deadlines escalated, unassigned work to the
managers, the morning digest, moved deadlines and unblocked work."""

import datetime as dt

import jinja2
import pytest
from sqlalchemy import select

from store.identity.council import council_name
from store.models import AuditEntry, Notification, Person, Reminder, WorkItem
from tasks.messaging import alerts
from tasks.messaging.changes import moved_messages, unblocked_messages
from tasks.messaging.digest import digest
from tasks.messaging.render import render
from tests.support.helpers import PEOPLE, london, plan, seed_people, went_once
from tests.timetables.pinned_catalogue import pinned_overlay

HARTFIELD = ["local.hartfield.2027-05-06"]
ALICE, BOB, CAROL = "alice@wychwood.gov.uk", "bob@wychwood.gov.uk", "carol@wychwood.gov.uk"


def plan_hartfield(s, **kwargs):
    # The catalogue before issue 14: these scenarios are timed around its 35 tasks.
    return plan(s, ids=HARTFIELD, kinds=None, overlay=pinned_overlay(), **kwargs)


def notes(s, kind=None, key=None):
    """Queued messages (of a kind, for a work item key), oldest first."""
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    if key:
        query = query.join(WorkItem, WorkItem.id == Notification.work_item_id).where(WorkItem.key == key)
    return list(s.scalars(query).all())


def assert_clean(s):
    """Every message rendered whole: no 'None', nothing left of the template."""
    for note in notes(s):
        for text in (note.subject, note.body):
            assert "None" not in text and "{{" not in text and "{%" not in text, note.dedupe_key
        assert note.body.endswith("\n") and "\n" not in note.subject


@pytest.fixture
def planned(store):
    with store.session() as s:
        seed_people(s)
        plan_hartfield(s)
    return store


def test_reminders_are_queued_once_when_they_fall_due(planned):
    with planned.session() as s:
        first = alerts.scan(s, london("2027-03-08T09:30"))
        assert (first.reminders, first.overdue, first.missed, first.queued) == (1, 0, 0, 1)
    with planned.session() as s:
        (note,) = notes(s)
        assert (note.kind, note.recipient, note.channel) == ("reminder", ALICE, "email")
        assert note.subject == (
            "Agree the project plan and risk register with the Returning Officer: "
            "due Mon 15 Mar 2027 at 17:00"
        )
        assert "This is a reminder (5 working days before)" in note.body
        item = s.get(WorkItem, note.work_item_id)
        assert f"/work/{item.id}" in note.body and "--by" not in note.body
        assert "Dear Alice Manager" in note.body
    for as_of in ("2027-03-08T09:30", "2027-03-08T12:00"):
        with planned.session() as s:
            again = alerts.scan(s, london(as_of))
            assert (again.reminders, again.queued) == (0, 0)
    with planned.session() as s:
        # A week on: the bookings' first reminders, and the project plan's latest (its "1 working
        # day before" came due with it since the last check, and is not sent as well).
        later = alerts.scan(s, london("2027-03-15T09:30"))
        assert later.reminders == 3 and later.overdue == 0
        sent = sorted((n.subject.split(":")[0], n.body.split("(")[1].split(")")[0]) for n in notes(s)[1:])
        assert sent == [
            ("Agree the project plan and risk register with the Returning Officer", "on the day"),
            (
                "Book polling places and stations (and confirm access, keys and accessibility)",
                "5 working days before",
            ),
            ("Book the verification and count venue", "5 working days before"),
        ]
        assert_clean(s)


def test_reminders_missed_by_a_late_check_are_sent_once_not_all_at_once(planned):
    with planned.session() as s:
        # No check ran while the project plan's three reminders came due; it is still not due.
        result = alerts.scan(s, london("2027-03-15T09:00"))
        plan_notes = notes(s, "reminder", "project_plan")
        assert len(plan_notes) == 1 and "(on the day)" in plan_notes[0].body
        item = s.scalars(select(WorkItem).where(WorkItem.key == "project_plan")).one()
        reminders = s.scalars(select(Reminder).where(Reminder.work_item_id == item.id)).all()
        assert all(r.sent_at is not None for r in reminders)
        assert result.reminders == len(notes(s, "reminder"))


def test_an_officers_overdue_work_says_it_goes_to_the_manager_if_it_stays_open(planned):
    with planned.session() as s:
        alerts.scan(s, london("2027-03-23T09:30"))  # the bookings were due yesterday at 17:00
        (overdue,) = notes(s, "overdue", "book_polling_stations")
        assert overdue.recipient == "bob@wychwood.gov.uk"
        body = " ".join(overdue.body.split())
        later = "if it is still open 24 hours after it was due, it is raised with the electoral services"
        assert later in body


def test_reminders_overtaken_by_the_due_date_are_not_sent(planned):
    with planned.session() as s:
        result = alerts.scan(s, london("2027-03-16T09:30"))  # project plan due yesterday at 17:00
        assert notes(s, "reminder", "project_plan") == []
        (overdue,) = notes(s, "overdue", "project_plan")
        assert overdue.recipient == ALICE
        assert overdue.subject.startswith("OVERDUE: Agree the project plan")
        assert "was due Mon 15 Mar 2027 at 17:00" in overdue.body
        # The manager's own work: no "tell the manager"; signed by the council, not the RO.
        assert "do it now or hand it to someone who can" in overdue.body
        assert "raised with the electoral services manager" not in overdue.body
        assert f"pollflow, for {council_name(s)} (" in overdue.body
        assert result.overdue == 1
        # The bookings' reminders (due 22 March) are not overtaken.
        assert len(notes(s, "reminder", "book_polling_stations")) == 1
        assert_clean(s)


def test_overdue_work_is_alerted_once_per_due_date_and_again_when_it_moves(planned):
    as_of = london("2027-04-01T10:00")
    with planned.session() as s:
        first = alerts.scan(s, as_of)
        assert first.overdue == 4  # project plan, both bookings, the notice of election
        assert len(notes(s, "overdue", "publish_notice_of_election")) == 1
    with planned.session() as s:
        again = alerts.scan(s, london("2027-04-01T11:00"))
        assert (again.overdue, again.missed, again.queued) == (0, 0, 0)
    with planned.session() as s:
        # The notice of election set a day earlier: the work moves, and is overdue again.
        poll, changes, _, _ = plan_hartfield(s, overrides={"notice_of_election": "2027-03-30"})
        assert "publish_notice_of_election" in {m.key for m in changes.work_moved}
    with planned.session() as s:
        moved = alerts.scan(s, london("2027-04-01T11:15"))
        assert moved.overdue == 1 and moved.missed == 1
        overdue = notes(s, "overdue", "publish_notice_of_election")
        assert len(overdue) == 2 and "was due Tue 30 Mar 2027 at 17:00" in overdue[1].body
        item = s.scalars(select(WorkItem).where(WorkItem.key == "publish_notice_of_election")).one()
        assert item.alerted_due_at == item.due_at == london("2027-03-30T17:00")
        assert_clean(s)


def test_a_missed_statutory_deadline_escalates_once_when_the_deadline_itself_passes(planned):
    with planned.session() as s:
        # The work was due at 17:00; the law allows until the end of the day.
        evening = alerts.scan(s, london("2027-03-31T18:00"))
        assert evening.missed == 0 and evening.missed_events == []
        assert len(notes(s, "overdue", "publish_notice_of_election")) == 1
        assert notes(s, "missed") == []
    with planned.session() as s:
        night = alerts.scan(s, london("2027-04-01T00:30"))
        assert night.missed == 1 and night.overdue == 0
        (payload,) = night.missed_events
        assert payload == {
            "poll_key": "local.hartfield.2027-05-06",
            "work_item_id": payload["work_item_id"],
            "work_key": "publish_notice_of_election",
            "event_key": "notice_of_election",
            "election_id": None,
            "due": "2027-03-31T17:00:00+01:00",
            "deadline": "2027-03-31T23:59:59+01:00",
            "label": "missed",
        }
        missed = notes(s, "missed")
        # The manager and the Returning Officer (this team has no deputy); no webhook is set.
        assert sorted(n.recipient for n in missed) == [ALICE, CAROL]
        assert all(n.channel == "email" for n in missed)
        note = missed[0]
        assert note.subject.startswith("STATUTORY DEADLINE MISSED: Notice of election")
        assert "Deadline: Notice of election" in note.body and "Wed 31 Mar 2027 at 23:59" in note.body
        assert "Work: Publish the notice of election, due Wed 31 Mar 2027 at 17:00" in note.body
        assert "owner: Alice Manager <alice@wychwood.gov.uk>" in note.body
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == alerts.MISSED)).one()
        assert (
            entry.subject == "publish_notice_of_election"
            and entry.details["event_key"] == "notice_of_election"
        )
    with planned.session() as s:
        later = alerts.scan(s, london("2027-04-01T09:00"))
        assert later.missed == 0 and later.missed_events == [] and len(notes(s, "missed")) == 2
        assert_clean(s)


def test_a_missed_deadline_goes_to_the_webhook_too(planned, webhook, smtp):
    from tasks.messaging import delivery
    from timetables import settings

    with planned.session() as s:
        result = alerts.scan(s, london("2027-04-01T10:00"))
        assert result.missed == 1
        (hook,) = [n for n in notes(s, "missed") if n.channel == "webhook"]
        assert hook.recipient == "webhook" and hook.person_id is None
        assert "Dear team" in hook.body
    report = delivery.deliver(planned.engine, settings.load())
    with planned.session() as s:
        went = went_once(s)
    assert report.sent == went and report.failed == 0
    assert report.gathered["gathered"] > 0  # the manager's reminders and overdue alerts, as one
    assert len(webhook.received) == 1
    assert webhook.received[0]["text"].startswith("STATUTORY DEADLINE MISSED: Notice of election")
    smtp.wait_for(went - 1)
    assert len(smtp.messages) == went - 1


def test_statutory_reminders_announce_approaching_deadlines(planned):
    with planned.session() as s:
        result = alerts.scan(s, london("2027-03-22T09:30"))
        approaching = [p for p in result.approaching_events if p["work_key"] == "publish_notice_of_election"]
        assert approaching == [
            {
                "poll_key": "local.hartfield.2027-05-06",
                "work_item_id": approaching[0]["work_item_id"],
                "work_key": "publish_notice_of_election",
                "event_key": "notice_of_election",
                "election_id": None,
                "due": "2027-03-31T17:00:00+01:00",
                "deadline": "2027-03-31T23:59:59+01:00",
                "label": "5 working days before",
            }
        ]
        assert all(p["event_key"] for p in result.approaching_events)
        (note,) = notes(s, "reminder", "publish_notice_of_election")
        assert "Statutory deadline: Notice of election" in note.body
        assert_clean(s)


def test_work_no_one_owns_alerts_the_managers(store):
    with store.session() as s:
        seed_people(s, [p for p in PEOPLE if "finance-officer" not in p.roles])
        plan_hartfield(s)
    with store.session() as s:
        result = alerts.scan(s, london("2027-05-27T09:30"))  # pay_staff's first reminder
        assert result.unassigned == 1
        (note,) = notes(s, "unassigned", "pay_staff")
        assert note.recipient == ALICE
        assert (
            note.subject
            == "No one owns: Pay polling and count staff (payroll export to the council's payroll) "
            "(due Fri 4 Jun 2027 at 17:00)"
        )
        assert "(finance-officer)" in note.body
    with store.session() as s:
        alerts.scan(s, london("2027-06-03T09:30"))  # its next reminder: the managers already know
        assert len(notes(s, "unassigned", "pay_staff")) == 1
    with store.session() as s:
        alerts.scan(s, london("2027-06-05T09:00"))
        (overdue,) = notes(s, "overdue", "pay_staff")
        assert (
            overdue.recipient == ALICE and "No one holds the role it needs (finance-officer)" in overdue.body
        )
        assert_clean(s)


def test_the_digest_lists_overdue_today_and_this_week_once_a_day(planned):
    as_of = london("2027-03-31T08:00")
    with planned.session() as s:
        assert digest(s, as_of) == 4  # Alice, Bob, Carol, Dan: Erin has nothing this week
    with planned.session() as s:
        digests = {n.recipient: n for n in notes(s, "digest")}
        assert set(digests) == {ALICE, BOB, CAROL, "dan@wychwood.gov.uk"}
        alice = digests[ALICE]
        assert alice.subject == "Your election work for Wednesday 31 March: 1 due today, 2 overdue"
        body = alice.body
        assert body.startswith("Good morning Alice Manager,")
        overdue, rest = body.split("Overdue:\n")[1].split("Due today:\n")
        today, week = rest.split("Due in the next week:\n")
        assert overdue.count("  - ") == 2
        assert (
            "  - Agree the project plan and risk register with the Returning Officer "
            "(was due Mon 15 Mar 2027 at 17:00; Hartfield" in overdue
        )
        assert "  - Book the verification and count venue (was due Mon 22 Mar 2027 at 17:00;" in overdue
        assert today.count("  - ") == 1 and "  - Publish the notice of election (by 17:00; Hartfield" in today
        assert week.count("  - ") == 1
        assert (
            "  - Brief candidates and agents (nominations, spending, postal vote openings, the count) "
            "(due Thu 1 Apr 2027 at 17:00;" in week
        )
        assert f"`pollflow tasks --person {ALICE}`" in week
        carol = digests[CAROL].body
        assert "Overdue:" not in carol and "Due today:" not in carol
        assert "Sign off poll card proofs for print (due Mon 5 Apr 2027 at 17:00;" in carol
        assert_clean(s)
    with planned.session() as s:
        assert digest(s, london("2027-03-31T17:30")) == 0  # the same day: none again
    with planned.session() as s:
        assert digest(s, london("2027-04-01T08:00")) >= 4  # the next morning's


def test_the_digest_skips_people_who_left(planned):
    with planned.session() as s:
        s.scalars(select(Person).where(Person.email == BOB)).one().active = False
    with planned.session() as s:
        digest(s, london("2027-03-31T08:00"))
        assert BOB not in {n.recipient for n in notes(s, "digest")}


def test_a_moved_deadline_tells_its_owner_the_old_and_new_times(planned):
    with planned.session() as s:
        poll, changes, _, _ = plan_hartfield(s, overrides={"notice_of_election": "2027-03-30"})
        moved = {m.key: m for m in changes.work_moved}
        assert "publish_notice_of_election" in moved
        queued = moved_messages(s, poll, changes.work_moved, reason="notice of election set")
        assert queued == len(changes.work_moved)
    with planned.session() as s:
        (note,) = notes(s, "moved", "publish_notice_of_election")
        assert note.recipient == ALICE
        assert (
            note.subject == "Deadline moved: Publish the notice of election now due Tue 30 Mar 2027 at 17:00"
        )
        assert "has changed (notice of election set)" in note.body
        assert (
            "was due Wed 31 Mar 2027 at 17:00" in note.body
            and "now due Tue 30 Mar 2027 at 17:00" in note.body
        )
        poll = s.get(WorkItem, note.work_item_id).poll_id
    with planned.session() as s:
        from store.models import Poll

        again = moved_messages(s, s.get(Poll, poll), changes.work_moved, reason="again")
        assert again == 0  # the same move is told once
        assert_clean(s)


def test_completing_work_tells_the_owners_of_what_waited(planned):
    from store.work import complete

    with planned.session() as s:
        done = complete(s, "project_plan", CAROL, note="signed")
        assert unblocked_messages(s, done.item, done.by) == 2
    with planned.session() as s:
        ready = {n.recipient: n for n in notes(s, "unblocked")}
        assert set(ready) == {ALICE, BOB}
        assert ready[BOB].subject.startswith("Ready to start: Book polling places and stations")
        assert "was recorded as done by Carol Returning" in ready[BOB].body
        assert "Still waiting for" not in ready[BOB].body
    with planned.session() as s:
        done = complete(s, "publish_notice_of_election", CAROL)
        unblocked_messages(s, done.item, done.by)
    with planned.session() as s:
        nominations = notes(s, "unblocked", "nominations")[0]
        assert nominations.subject.startswith("Ready to start: Check nomination papers")
        # Proof poll cards also waits for the polling station bookings, still open.
        proof = notes(s, "unblocked", "proof_poll_cards")[0]
        assert proof.subject.startswith(
            "No longer waiting for Publish the notice of election: Proof poll cards"
        )
        assert "Still waiting for: Book polling places and stations" in proof.body
        assert_clean(s)


def test_scan_ignores_done_work(planned):
    from store.work import complete

    with planned.session() as s:
        complete(s, "project_plan", CAROL)
    with planned.session() as s:
        result = alerts.scan(s, london("2027-03-16T09:30"))
        assert notes(s, key="project_plan") == [] and result.overdue == 0


def test_a_template_missing_a_value_is_an_error_not_a_blank():
    person = {"name": "Alice", "email": ALICE}
    poll = {"title": "Hartfield", "key": "local.hartfield.2027-05-06"}
    item = {
        "id": 1,
        "url": "http://127.0.0.1:8080/work/1",
        "title": "Publish the notice of election",
        "due_text": "Wed 31 Mar 2027 at 17:00",
        "event_label": None,
        "waits_for": [],
    }
    subject, body = render("reminder", person=person, poll=poll, item=item, label="on the day")
    assert subject == "Publish the notice of election: due Wed 31 Mar 2027 at 17:00"
    with pytest.raises(jinja2.UndefinedError, match="label"):
        render("reminder", person=person, poll=poll, item=item)
    with pytest.raises(jinja2.UndefinedError, match="due_text"):
        render("overdue", person=person, poll=poll, item={k: v for k, v in item.items() if k != "due_text"})


def test_at_a_combined_poll_each_elections_missed_deadline_is_its_own(store):
    district, parish = "local.wychwood.2027-05-06", "local.wychwood-parishes.2027-05-06"
    with store.session() as s:
        seed_people(s)
        plan(s)  # the district and parish elections, combined
    with store.session() as s:
        result = alerts.scan(s, london("2027-04-10T09:00"))
        missed = {(p["work_key"], p["election_id"]) for p in result.missed_events}
        assert {
            (f"publish_sopn:{district}", district),
            (f"publish_sopn:{parish}", parish),
            # Only the district election has election agents: its notice is the district's.
            ("publish_election_agents_notice", district),
            ("publish_first_interim_notice", None),
        } <= missed
        agents = notes(s, "missed", "publish_election_agents_notice")
        assert sorted(n.recipient for n in agents) == [ALICE, CAROL]
        assert "Deadline: Notice of election agents' names and offices" in agents[0].body
        assert_clean(s)


def test_a_missed_statutory_deadline_is_one_escalation_however_much_work_serves_it(planned):
    """The notice of election's proof-check, approval and publication are one missed deadline: the
    Returning Officer and the manager each get one email listing all the open work under it."""
    with planned.session() as s:
        notice = s.scalars(select(WorkItem).where(WorkItem.key == "publish_notice_of_election")).one()
        bob = s.scalars(select(Person).where(Person.email == BOB)).one()
        for key, title, hours in (
            ("proof_notice", "Proof-check the notice of election", 30),
            ("approve_notice", "Approve the notice of election", 26),
        ):
            s.add(
                WorkItem(
                    poll_id=notice.poll_id,
                    key=key,
                    title=title,
                    owner_role="electoral-services-officer",
                    owner_id=bob.id,
                    due_at=notice.due_at - dt.timedelta(hours=hours),
                    anchor="poll",
                    event_key="notice_of_election",
                    source="documents",
                )
            )
    with planned.session() as s:
        night = alerts.scan(s, london("2027-04-01T00:30"))
        assert night.missed == 3  # each piece of work is recorded and announced as missed...
        missed = notes(s, "missed")
        assert sorted(n.recipient for n in missed) == [ALICE, CAROL]  # ...but each person is told once
        body = missed[0].body
        for title in (
            "Proof-check the notice of election",
            "Approve the notice of election",
            "Publish the notice of election",
        ):
            assert f"Work: {title}" in body
        assert body.count("/work/") == 3 and "\n\n\n" not in body
    with planned.session() as s:
        alerts.scan(s, london("2027-04-01T09:00"))
        assert len(notes(s, "missed")) == 2  # a later check adds no escalation for the same deadline
