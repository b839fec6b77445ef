"""The work catalogue and a council's overlay: tasks added, changed and removed; clear errors for
bad overlays; and the work planned for real polls (due dates, reminders, per-election copies)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from store.models import WorkDependency, WorkItem
from tests.support.helpers import DISTRICT_AND_PARISH, plan, seed_people
from timetables import timetable_for
from timetables.work import OverlayError, load_overlay, plan_work

LONDON = ZoneInfo("Europe/London")
HART = "local.hart.2027-05-06"
DISTRICT, PARISH = DISTRICT_AND_PARISH[0]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture(scope="module")
def hart():
    return timetable_for([HART])


def work(tt, overlay_text: str | None = None, tmp_path=None) -> dict:
    overlay = None
    if overlay_text is not None:
        path = tmp_path / "overlay.yaml"
        path.write_text(overlay_text)
        overlay = load_overlay(path)
    return {p.key: p for p in plan_work(tt, overlay)}


def refused(tt, tmp_path, text: str) -> str:
    with pytest.raises(OverlayError) as caught:
        work(tt, text, tmp_path)
    message = str(caught.value)
    assert "\n" not in message  # one line on the command line
    return message


# The catalogue, planned for real polls.


def test_publish_sopn_is_due_at_the_sopn_deadline_with_its_reminders(hart):
    tasks = work(hart)
    sopn = tasks["publish_sopn"]
    assert sopn.due == at("2027-04-09T16:00")  # Friday 9 April 2027, 4pm
    assert sopn.due.strftime("%a") == "Fri"
    assert sopn.event_key == "sopn" and sopn.needs_signoff and sopn.source == "catalogue"
    assert sopn.depends_on == ("nominations",)
    # 5 working days before Fri 9 April, over the Easter bank holidays of 2027, is Fri 2 April.
    assert sopn.reminders == (
        ("5 working days before", at("2027-04-02T09:00")),
        ("1 working day before", at("2027-04-08T09:00")),
        ("on the day", at("2027-04-09T08:00")),
    )
    assert tasks["nominations"].due == at("2027-04-08T16:00")  # the close of nominations' own time
    # Counted from an event with no time of its own: due at 17:00.
    assert tasks["publish_notice_of_election"].due == at("2027-03-31T17:00")
    # Counted from polling day in working days, and in months rolled off a weekend.
    assert tasks["train_polling_staff"].due == at("2027-04-28T17:00")  # over May Day
    assert tasks["project_plan"].due == at("2026-11-06T17:00")  # six months ahead (issue 14)
    assert tasks["document_retention"].due == at("2028-05-08T17:00")
    assert tasks["document_retention"].reminders == (("5 working days before", at("2028-04-28T09:00")),)


def test_every_task_is_keyed_once_and_waits_only_for_planned_tasks(hart):
    planned = plan_work(hart)
    keys = [p.key for p in planned]
    assert len(keys) == len(set(keys)) >= 35
    assert all(dep in set(keys) for p in planned for dep in p.depends_on)
    assert all(p.due.tzinfo is not None for p in planned)
    assert all(when < p.due for p in planned for _, when in p.reminders)


def test_a_parish_poll_has_no_election_agents_notice():
    tasks = work(timetable_for(["local.stroud-parish.2027-05-06"], kind="parish"))
    assert "publish_election_agents_notice" not in tasks
    assert "publish_sopn" in tasks


def test_a_referendum_has_no_nominations_and_dependents_lose_them():
    tt = timetable_for(["ref.x.2027-05-06"], nation="england")
    tasks = work(tt)
    assert "nominations" not in tasks and "publish_sopn" not in tasks
    assert "candidate_agent_briefing" not in tasks  # counted from the close of nominations
    # The notice of poll waited for the statement of persons nominated; at a referendum it waits
    # for nothing, and the ballot papers are no longer counted from a SOPN.
    assert tasks["publish_notice_of_poll"].depends_on == ()
    assert "order_ballot_papers" not in tasks
    assert tasks["publish_notice_of_election"].event_key == "notice_of_election"


def test_a_general_election_receives_and_returns_the_writ():
    tt = timetable_for(["parl.2024-07-04"], nation="england")
    tasks = work(tt)
    writ = tasks["receive_writ"]
    assert writ.event_key == "writ_received" and writ.owner_role == "returning-officer"
    assert writ.due.date() == tt["writ_received"].date
    returned = tasks["return_the_writ"]
    assert returned.depends_on == ("declaration_of_result",) and returned.needs_signoff
    assert returned.due == at("2024-07-08T17:00")  # 1 working day after the declaration (Fri 5th)


def test_a_combined_poll_has_one_copy_per_election_of_per_election_work():
    tt = timetable_for([DISTRICT, PARISH], kind=["local", "parish"])
    tasks = work(tt)
    for task in ("publish_sopn", "nominations", "publish_notice_of_election", "declaration_of_result"):
        assert task not in tasks
        for election in (DISTRICT, PARISH):
            copy = tasks[f"{task}:{election}"]
            assert copy.task == task and copy.election_id == election
    # Each election's copy waits for the same election's copy.
    assert tasks[f"publish_sopn:{PARISH}"].depends_on == (f"nominations:{PARISH}",)
    # Work for the whole poll is one shared copy, waiting for every election's copy.
    notice = tasks["publish_notice_of_poll"]
    assert notice.election_id is None
    assert set(notice.depends_on) == {f"publish_sopn:{DISTRICT}", f"publish_sopn:{PARISH}"}
    assert tasks["book_polling_stations"].election_id is None
    # An event only the district election has: one task, which belongs to the district election.
    agents = tasks["publish_election_agents_notice"]
    assert agents.election_id == DISTRICT and agents.event_key == "election_agents_notice"


# An overlay adds, changes and removes tasks.

ADD = """
add:
  order_postal_stationery:
    title: Order extra postal vote stationery
    owner: postal-votes-officer
    due: {after: sopn, working_days: 2}
    time: "12:00"
    reminders: [2, 0]
  brief_count_staff:
    title: Brief count supervisors
    owner: staffing-officer
    due: {before: count_setup, working_days: 1}
    depends_on: [train_polling_staff, order_postal_stationery]
    event: poll
"""


def test_an_overlay_adds_tasks_counted_from_an_event_and_from_another_task(hart, tmp_path):
    tasks = work(hart, ADD, tmp_path)
    stationery = tasks["order_postal_stationery"]
    assert stationery.source == "overlay" and stationery.anchor == "sopn"
    assert stationery.due == at("2027-04-13T12:00")  # 2 working days after Fri 9 April, at noon
    assert stationery.reminders == (
        ("2 working days before", at("2027-04-09T09:00")),
        ("on the day", at("2027-04-13T08:00")),
    )
    brief = tasks["brief_count_staff"]
    assert brief.anchor == "count_setup" and brief.due == at("2027-05-05T17:00")
    assert brief.depends_on == ("train_polling_staff", "order_postal_stationery")
    assert tasks["publish_sopn"].source == "catalogue"


def test_an_overlay_changes_owner_due_date_and_reminders(hart, tmp_path):
    overlay = """
change:
  publish_sopn:
    owner: electoral-services-officer
    due: {after: sopn, working_days: 1}
    time: "10:00"
    reminders: [3]
"""
    sopn = work(hart, overlay, tmp_path)["publish_sopn"]
    assert sopn.owner_role == "electoral-services-officer" and sopn.source == "overlay"
    assert sopn.due == at("2027-04-12T10:00")
    assert sopn.reminders == (("3 working days before", at("2027-04-07T09:00")),)
    # What the change leaves alone stays as the catalogue has it.
    assert sopn.title == "Publish the statement of persons nominated"
    assert sopn.depends_on == ("nominations",) and sopn.needs_signoff and sopn.event_key == "sopn"


def test_an_overlay_removes_a_task_and_its_dependents_no_longer_wait(hart, tmp_path):
    tasks = work(hart, "remove: [nominations, proof_poll_cards]\n", tmp_path)
    assert "nominations" not in tasks and "proof_poll_cards" not in tasks
    assert tasks["publish_sopn"].depends_on == ()
    assert tasks["sign_off_poll_cards"].depends_on == ()


def test_a_task_counted_in_a_named_calendar(hart, tmp_path):
    overlay = """
add:
  canvass_check:
    title: Check late registrations
    owner: electoral-registration-officer
    due: {before: notice_of_election, working_days: 2, calendar: registration}
"""
    # Two working days before the notice of election (Wed 31 March 2027) in England and Wales
    # skip Easter Monday and Good Friday; in Scotland, Easter Monday is a working day.
    assert work(hart, overlay, tmp_path)["canvass_check"].due == at("2027-03-25T17:00")
    scottish = overlay.replace("calendar: registration", "calendar: scotland")
    assert work(hart, scottish, tmp_path)["canvass_check"].due == at("2027-03-29T17:00")
    bad = overlay.replace("calendar: registration", "calendar: martian")
    assert "unknown calendar 'martian'" in refused(hart, tmp_path, bad)


def test_an_overlay_planned_into_the_store(store, tmp_path):
    path = tmp_path / "overlay.yaml"
    path.write_text(ADD)
    with store.session() as s:
        seed_people(s)
        plan(s, ids=[HART], kinds=None, overlay=path)
    with store.session() as s:
        added = {w.key: w for w in s.scalars(select(WorkItem).where(WorkItem.source == "overlay"))}
        assert set(added) == {"order_postal_stationery", "brief_count_staff"}
        waits = s.scalars(
            select(WorkItem.key)
            .join(WorkDependency, WorkDependency.depends_on_id == WorkItem.id)
            .where(WorkDependency.work_item_id == added["brief_count_staff"].id)
        ).all()
        assert sorted(waits) == ["order_postal_stationery", "train_polling_staff"]
        assert added["order_postal_stationery"].owner_id is not None


# Overlays that cannot apply say why.

TASK = "    title: A task\n    owner: staffing-officer\n    due: {before: poll, working_days: 3}\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "change:\n  publish_sopm:\n    owner: returning-officer\n",
            ["overlay changes unknown task 'publish_sopm'", "tasks are ", "publish_sopn"],
            id="change-unknown",
        ),
        pytest.param(
            "remove: [pay_staf]\n",
            ["overlay removes unknown task 'pay_staf'", "pay_staff"],
            id="remove-unknown",
        ),
        pytest.param(
            "remove: [pay_staff]\nchange:\n  pay_staff:\n    owner: returning-officer\n",
            ["overlay changes unknown task 'pay_staff': which it also removes"],
            id="change-removed",
        ),
        pytest.param(
            "add:\n  publish_sopn:\n" + TASK,
            ["overlay adds task 'publish_sopn', which the catalogue already has", "use 'change'"],
            id="add-existing",
        ),
        pytest.param(
            "add:\n  my_task:\n" + TASK + "    depends_on: [no_such_task]\n",
            ["task 'my_task' depends on unknown task(s) no_such_task", "tasks are "],
            id="unknown-dependency",
        ),
        pytest.param(
            "add:\n  my_task:\n" + TASK + "    depends_on: [pay_staff]\n"
            "change:\n  declaration_of_result:\n    depends_on: [my_task]\n",
            ["in a cycle: declaration_of_result -> my_task -> pay_staff -> declaration_of_result"],
            id="cycle",
        ),
        pytest.param(
            "add:\n  my_task:\n" + TASK + "    depends_on: [my_task]\n",
            ["in a cycle: my_task -> my_task"],
            id="self-cycle",
        ),
        pytest.param(
            "add:\n  sopn:\n" + TASK,
            ["task 'sopn' has the name of a statutory event"],
            id="named-like-an-event",
        ),
        pytest.param(
            "add:\n  writ_received:\n" + TASK,
            ["task 'writ_received' has the name of a statutory event"],
            id="named-like-an-event-of-another-kind",
        ),
        pytest.param(
            "add:\n  my_task:\n" + TASK.replace("before: poll", "after: close_of_nominatons"),
            ["task 'my_task' is due counting from 'close_of_nominatons'", "neither 'poll'"],
            id="unknown-anchor",
        ),
        pytest.param(
            "remove: [postal_vote_opening_first]\n",
            [
                "task 'notice_postal_vote_openings' is due counting from 'postal_vote_opening_first', "
                "which the overlay removes"
            ],
            id="anchor-removed",
        ),
        pytest.param(
            "add:\n  a_task:\n" + TASK.replace("before: poll", "after: b_task") + "  b_task:\n"
            "    title: B task\n    owner: staffing-officer\n    due: {after: a_task, days: 1}\n",
            ["due counting from each other in a loop: a_task -> b_task -> a_task"],
            id="anchor-loop",
        ),
    ],
)
def test_an_overlay_that_cannot_apply_says_why(hart, tmp_path, text, expected):
    message = refused(hart, tmp_path, text)
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("add: {x: [\n", ["overlay.yaml is not valid YAML: line 2, column 1"], id="yaml"),
        pytest.param("- pay_staff\n", ["an overlay is a mapping with any of add, change, remove"], id="list"),
        pytest.param(
            "change:\n  publish_sopn:\n    owner: wizard\n",
            ["change.publish_sopn.owner: Input should be 'returning-officer'", "'finance-officer'"],
            id="owner-wizard",
        ),
        pytest.param(
            "add:\n  my_task:\n" + TASK.replace("working_days: 3", "weeks: 3"),
            [
                "add.my_task.due.weeks: unknown field: the fields are before, after, working_days, "
                "days, months",
                "calendar, roll_forward",
            ],
            id="due-bad-units",
        ),
        pytest.param(
            "add:\n  my_task:\n" + TASK.replace("working_days: 3", "working_days: 3, days: 2"),
            ["add.my_task.due: give exactly one of 'working_days', 'days' or 'months'"],
            id="due-two-units",
        ),
        pytest.param(
            "add:\n  my_task:\n" + TASK + "    colour: red\n",
            ["add.my_task.colour: unknown field: the fields are title, description, owner, due"],
            id="unknown-field",
        ),
        pytest.param(
            "add:\n  My-Task:\n" + TASK,
            ["add.My-Task: a task key is lower-case letters, digits and underscores"],
            id="bad-key",
        ),
        pytest.param(
            "add:\n  my_task:\n" + TASK + '    time: "25:00"\n',
            ["add.my_task.time: time '25:00' is not HH:MM"],
            id="bad-time",
        ),
        pytest.param(
            "shuffle: [pay_staff]\n", ["shuffle: unknown field: the fields are add"], id="top-level"
        ),
    ],
)
def test_an_invalid_overlay_file_says_what_is_wrong(tmp_path, text, expected):
    path = tmp_path / "overlay.yaml"
    path.write_text(text)
    with pytest.raises(OverlayError) as caught:
        load_overlay(path)
    message = str(caught.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


def test_a_missing_or_empty_overlay_file(tmp_path, hart):
    with pytest.raises(OverlayError, match="cannot read overlay"):
        load_overlay(tmp_path / "nowhere.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    assert [p.key for p in plan_work(hart, load_overlay(empty))] == [p.key for p in plan_work(hart)]


def test_a_change_that_breaks_the_task_is_refused(hart, tmp_path):
    message = refused(hart, tmp_path, "change:\n  publish_sopn:\n    title: null\n")
    assert "overlay change to 'publish_sopn': title:" in message


def test_work_due_before_eight_is_reminded_an_hour_before_on_the_day(hart, tmp_path):
    overlay = "add:\n  open_count:\n" + TASK.replace(
        "before: poll, working_days: 3", "after: poll, working_days: 0"
    )
    overlay += '    time: "07:30"\n'
    task = work(hart, overlay, tmp_path)["open_count"]
    assert task.due == at("2027-05-06T07:30")
    assert task.reminders[-1] == ("on the day", at("2027-05-06T06:30"))
