"""The deadline check's statements do not grow with the work it finds (issue 13): its reads and
writes are set-based, so a poll with a hundred more pieces of work due is checked with as many
statements as a small one, on SQLite and PostgreSQL."""

from sqlalchemy import select

from store.models import AuditEntry, Notification, Poll, Reminder, WorkItem
from store.scratch import statements
from tasks.messaging import alerts
from tests.support.helpers import london, plan, seed_people

AS_OF = london("2027-04-06T09:00")  # the notice of election's deadline (31 March) has passed


def overlay(folder, tasks: int):
    """``tasks`` more pieces of work, due over the weeks either side of AS_OF: some overdue (and
    long enough to go to the managers), some with reminders due, some owned by no one (this team
    has no deputy), some delivering the notice of election (missed), all waiting for other work."""
    lines = ["add:"]
    for n in range(tasks):
        lines += [
            f"  extra_{n:03d}:",
            f"    title: Extra task {n}",
            f"    owner: {'deputy-returning-officer' if n % 5 == 0 else 'electoral-services-officer'}",
            f"    due: {{before: poll, working_days: {12 + n % 20}}}",
            "    depends_on: [book_polling_stations, project_plan]",
        ]
        if n % 7 == 0:
            lines.append("    event: notice_of_election")
    path = folder / f"extra-{tasks}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def check(store, ids, folder, tasks):
    """Plan a poll with ``tasks`` extra pieces of work and check it at AS_OF: the poll, the
    statements the check sent, and what it found (which must be what it wrote)."""
    with store.session() as s:
        poll, *_ = plan(s, ids=ids, kinds=None, overlay=overlay(folder, tasks))
    with statements(store.engine) as sent, store.session() as s:
        result = alerts.scan(s, AS_OF)
    with store.session() as s:
        items = s.scalars(select(WorkItem).where(WorkItem.poll_id == poll.id)).all()
        reminders = s.scalars(
            select(Reminder)
            .join(WorkItem, WorkItem.id == Reminder.work_item_id)
            .where(WorkItem.poll_id == poll.id)
        ).all()
        queued = s.scalars(select(Notification).where(Notification.poll_id == poll.id)).all()
        # What the check marked is in the database, for every message it queued.
        alerted = {i.id for i in items if i.alerted_due_at == i.due_at}
        assert {n.work_item_id for n in queued if n.kind == "overdue"} == alerted
        escalated = {i.id for i in items if i.escalated_due_at == i.due_at}
        # (the manager's own work is marked too, but they are not told of it twice)
        assert {n.work_item_id for n in queued if n.kind == "overdue-manager"} <= escalated
        assert (len(alerted), len(escalated)) == (result.overdue, result.escalated)
        assert all(r.sent_at == (AS_OF if r.remind_at <= AS_OF else None) for r in reminders)
        raised = s.scalars(
            select(AuditEntry).where(AuditEntry.action == alerts.MISSED, AuditEntry.poll_id == poll.id)
        )
        assert sorted(e.details["work_item_id"] for e in raised) == sorted(
            e["work_item_id"] for e in result.missed_events
        )
    return poll, len(sent), result


def test_a_scan_sends_as_many_statements_for_a_big_poll_as_for_a_small_one(store, tmp_path):
    with store.session() as s:
        seed_people(s)
    first, small, few = check(store, ["local.hartfield.2027-05-06"], tmp_path, 5)
    with store.session() as s:
        s.get(Poll, first.id).status = "cancelled"  # so that the next check sees only the next poll
    _, big, many = check(store, ["local.wychwood.2027-05-06"], tmp_path, 120)
    # The check found much more to say about the big poll, of every kind...
    assert many.overdue >= few.overdue + 50 and many.queued >= few.queued + 100
    assert many.reminders > few.reminders and many.unassigned > few.unassigned
    assert many.escalated > few.escalated and many.missed > few.missed
    # ...in the same number of statements.
    assert big == small, (small, big)


def test_a_scan_marks_what_it_raised_so_the_next_raises_nothing(store, tmp_path):
    with store.session() as s:
        seed_people(s)
    *_, first = check(store, ["local.hartfield.2027-05-06"], tmp_path, 30)
    assert first.overdue and first.escalated and first.missed and first.reminders
    with store.session() as s:
        again = alerts.scan(s, AS_OF)
    assert (again.overdue, again.escalated, again.missed, again.reminders, again.queued) == (0, 0, 0, 0, 0)
