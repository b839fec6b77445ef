"""Planning into the store, on SQLite and on PostgreSQL: idempotent, and exact about what moves."""

from sqlalchemy import func, select

from store.models import (
    AuditEntry,
    DateOverride,
    Election,
    Poll,
    Reminder,
    TimetableEvent,
    WorkDependency,
    WorkItem,
)
from store.models.documents import Candidate, Document, DocumentDetails
from store.scratch import statements
from tests.support.helpers import PEOPLE, plan, seed_people

TABLES = (Poll, Election, TimetableEvent, WorkItem, WorkDependency, Reminder, DateOverride, AuditEntry)


def counts(session):
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def test_planning_persists_timetable_work_owners_and_reminders(store):
    with store.session() as s:
        seed_people(s)
        poll, changes, tt, planned = plan(s)
    with store.session() as s:
        c = counts(s)
        assert c["poll"] == 1 and c["election"] == 2
        assert c["timetable_event"] == len(tt.events) > 25
        assert c["work_item"] == len(planned) >= 40
        assert c["reminder"] == sum(len(p.reminders) for p in planned) >= 120
        assert c["work_dependency"] > 20
        poll = s.scalars(select(Poll)).one()
        assert poll.title.startswith("Wychwood council election and Wychwood Parishes parish")
        # Work is assigned by role: the officer's work to the officer.
        owners = {w.key: w.owner_id for w in s.scalars(select(WorkItem).where(WorkItem.poll_id == poll.id))}
        assert all(owner is not None for owner in owners.values())
        sign_off = s.scalars(select(WorkItem).where(WorkItem.key.like("sign_off_poll_cards%"))).all()
        assert sign_off and all(w.needs_signoff for w in sign_off)
        # A combined poll keeps each election's own statutory events, with its id.
        scopes = s.scalars(
            select(TimetableEvent.scope).where(TimetableEvent.key == "close_of_nominations")
        ).all()
        assert sorted(scopes) == ["local.wychwood-parishes.2027-05-06", "local.wychwood.2027-05-06"]
        planned_entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "planned")).one()
        assert planned_entry.actor == "test" and planned_entry.details["work_added"] == len(planned)


def test_planning_twice_adds_no_rows(store):
    with store.session() as s:
        seed_people(s)
        plan(s)
    with store.session() as s:
        before = counts(s)
    with store.session() as s:
        _, changes, _, _ = plan(s)
        assert not changes.changed
    with store.session() as s:
        assert counts(s) == before


def test_replan_with_an_override_moves_what_depends_on_it_and_keeps_it(store):
    by_election = ["parl.wychwood.by.2027-03-04"]
    with store.session() as s:
        seed_people(s)
        poll, _, _, _ = plan(s, ids=by_election, kinds=None, nation="england")
        sopn_before = s.scalars(select(TimetableEvent).where(TimetableEvent.key == "sopn")).one()
        window = (sopn_before.earliest, sopn_before.date)
    with store.session() as s:
        _, changes, _, _ = plan(
            s,
            ids=by_election,
            kinds=None,
            nation="england",
            overrides={"close_of_nominations": "2027-02-05T16:00"},
            poll_key=poll.key,
        )
        moved = {m.key for m in changes.events_moved}
        assert {"close_of_nominations", "sopn"} <= moved
        assert changes.work_moved  # publishing the SOPN moves with it
    with store.session() as s:
        sopn = s.scalars(select(TimetableEvent).where(TimetableEvent.key == "sopn")).one()
        assert (sopn.earliest, sopn.date) != window and sopn.earliest.isoformat() == "2027-02-05"
        override = s.scalars(select(DateOverride)).one()
        assert (override.key, override.value) == ("close_of_nominations", "2027-02-05T16:00")
        actions = s.scalars(select(AuditEntry.action)).all()
        assert "deadline moved" in actions and "date set" in actions and "replanned" in actions


def test_work_that_no_longer_applies_is_cancelled_not_deleted(store, tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("remove: [pay_staff]\n")
    with store.session() as s:
        seed_people(s)
        poll, _, _, _ = plan(s)
    with store.session() as s:
        _, changes, _, _ = plan(s, overlay=overlay)
        assert changes.work_cancelled == ["pay_staff"]
    with store.session() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.key == "pay_staff")).one()
        assert item.status == "cancelled"
    with store.session() as s:
        _, changes, _, _ = plan(s)  # the overlay dropped: the task applies again
        assert changes.work_reopened == ["pay_staff"]


def test_work_with_no_one_in_the_role_is_planned_unassigned(store):
    with store.session() as s:
        seed_people(
            s,
            [p for p in PEOPLE if "finance-officer" not in p.roles],
        )
        _, changes, _, planned = plan(s)
        # The finance officer's work (issue 14's catalogue gives them the budget and accounts too).
        assert "pay_staff" in changes.unassigned
        assert changes.unassigned == [p.key for p in planned if p.owner_role == "finance-officer"]
        assert s.scalars(select(WorkItem.owner_id).where(WorkItem.key == "pay_staff")).one() is None


def test_moving_a_combined_polls_day_moves_each_elections_work_keeping_who_did_what(store):
    moved_ids = ["local.wychwood.2027-05-13", "local.wychwood-parishes.2027-05-13"]
    with store.session() as s:
        seed_people(s)
        poll, _, _, _ = plan(s)
        sopn = s.scalars(
            select(WorkItem).where(WorkItem.key == "publish_sopn:local.wychwood.2027-05-06")
        ).one()
        sopn.status, sopn_id, owner = "done", sopn.id, sopn.owner_id
        # What the documents keep per election: a candidate, a notice with its proof work, and
        # the council's areas for each election.
        old = "local.wychwood.2027-05-06"
        s.add(
            Candidate(
                poll_id=poll.id, election_id=old, area="Abbey", surname="Ng", forenames="Ada", address="x"
            )
        )
        s.add(Document(poll_id=poll.id, key="sopn", scope=old, title="Statement of persons nominated"))
        s.add(
            WorkItem(
                poll_id=poll.id,
                key=f"proof_sopn:{old}:v1",
                source="documents",
                title="Proof",
                owner_role="x",
                due_at=sopn.due_at,
                anchor="poll",
            )
        )
        areas = {"areas": [{"name": "Abbey", "seats": 1}]}
        s.add(
            DocumentDetails(
                poll_id=poll.id, data={"council": "Wychwood", "elections": {old: areas}}, updated_by="t"
            )
        )
    with store.session() as s:
        _, changes, tt, _ = plan(s, ids=moved_ids, poll_key=poll.key)
        assert not changes.work_cancelled and not changes.work_added
        assert changes.work_moved and changes.events_moved
    with store.session() as s:
        item = s.get(WorkItem, sopn_id)
        assert item.key == "publish_sopn:local.wychwood.2027-05-13"
        assert (item.status, item.owner_id, item.election_id) == ("done", owner, "local.wychwood.2027-05-13")
        scopes = s.scalars(
            select(TimetableEvent.scope).where(TimetableEvent.key == "close_of_nominations")
        ).all()
        assert sorted(scopes) == sorted(moved_ids)
        elections = s.scalars(select(Election.election_id)).all()
        assert sorted(elections) == sorted(moved_ids)
        keys = set(s.scalars(select(WorkItem.key)).all())
        assert not any("2027-05-06" in key for key in keys)
        assert "proof_sopn:local.wychwood.2027-05-13:v1" in keys
        assert s.scalars(select(Candidate.election_id)).all() == ["local.wychwood.2027-05-13"]
        assert s.scalars(select(Document.scope)).all() == ["local.wychwood.2027-05-13"]
        details = s.scalars(select(DocumentDetails.data)).one()
        assert details == {"council": "Wychwood", "elections": {"local.wychwood.2027-05-13": areas}}


def stations_overlay(folder, council, stations):
    """An overlay adding a task (and its reminders) for each of ``stations`` polling stations."""
    lines = ["add:"]
    for n in range(1, stations + 1):
        lines += [
            f"  confirm_station_{n:03d}:",
            f"    title: Confirm polling station {n}",
            "    owner: electoral-services-officer",
            f"    due: {{before: poll, working_days: {5 + n % 10}}}",
            "    depends_on: [book_polling_stations]",
        ]
    path = folder / f"{council}-{stations}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_planning_writes_set_based_whatever_the_number_of_work_items(store, tmp_path):
    """Planning, replanning a moved polling day and replanning unchanged each send as many
    statements for a poll with 5 extra tasks as for one with 80: rows go in batches, not one by
    one."""
    with store.session() as s:
        seed_people(s)
    sent = {}
    for council, stations in (("wychwood", 5), ("other", 80)):
        overlay = stations_overlay(tmp_path, council, stations)
        ids = [f"local.{council}.2027-05-06", f"local.{council}-parishes.2027-05-06"]
        moved = [i.replace("2027-05-06", "2027-05-13") for i in ids]
        with statements(store.engine) as fresh, store.session() as s:
            poll, _, _, planned = plan(s, ids=ids, overlay=overlay)
        with statements(store.engine) as replanned, store.session() as s:
            _, changes, _, _ = plan(s, ids=moved, overlay=overlay, poll_key=poll.key)
            assert len(changes.work_moved) == len(planned) and changes.reminders_moved
        with statements(store.engine) as again, store.session() as s:
            _, changes, _, _ = plan(s, ids=moved, overlay=overlay, poll_key=poll.key)
            assert not changes.changed
        sent[stations] = (len(fresh), len(replanned), len(again))
    assert sent[5] == sent[80], sent
    fresh, replanned, again = sent[80]
    assert fresh <= 15 and replanned <= 25 and again <= 7, sent[80]


def test_work_a_caller_has_loaded_sees_the_replan(store):
    """Rows are written in bulk, not through the objects: one already in the session is kept
    in step, not left holding the old due date."""
    with store.session() as s:
        seed_people(s)
        poll, _, _, _ = plan(s)
    with store.session() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.key == "pay_staff")).one()
        before = item.due_at
        moved_day = ["local.wychwood.2027-05-13", "local.wychwood-parishes.2027-05-13"]
        _, changes, _, _ = plan(s, ids=moved_day, poll_key=poll.key)
        moved = {m.key: m for m in changes.work_moved}["pay_staff"]
        assert (moved.old, moved.work_item_id) == (before, item.id)
        assert item.due_at == moved.new != before
    with store.session() as s:
        assert s.get(WorkItem, item.id).due_at == moved.new


def test_the_audit_trail_keeps_the_order_things_were_recorded_in(store):
    by_election = ["parl.wychwood.by.2027-03-04"]
    with store.session() as s:
        seed_people(s)
        poll, _, _, _ = plan(s, ids=by_election, kinds=None, nation="england")
    with store.session() as s:
        plan(
            s,
            ids=by_election,
            kinds=None,
            nation="england",
            overrides={"close_of_nominations": "2027-02-05T16:00"},
            poll_key=poll.key,
        )
    with store.session() as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        replan = actions[actions.index("date set") :]
        assert replan[:2] == ["date set", "replanned"] and "deadline moved" in replan[2:]
        assert replan.index("deadline moved") < replan.index("work due date moved")
