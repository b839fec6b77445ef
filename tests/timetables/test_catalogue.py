"""The work catalogue rebuilt from the Electoral Commission's project plan (issue 14): its size, its
order for every kind of poll, its owners and sources, shared work at a combined poll, and the
refusal of an overlay that puts work before what it waits for."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.models.people import DEFAULT_ROLES
from tests.support.helpers import DISTRICT_AND_PARISH
from tests.timetables.test_properties import ID_FOR_KIND, POLLS, PROPERTY, compute
from timetables import timetable_for
from timetables.definitions import definitions, load_definitions
from timetables.errors import DefinitionError
from timetables.work import OverlayError, load_overlay, plan_work

LONDON = ZoneInfo("Europe/London")
HART = "local.hart.2027-05-06"
DISTRICT, PARISH = DISTRICT_AND_PARISH[0]
# What a combined poll does once, whichever elections it serves.
SHARED = [
    "proof_poll_cards",
    "sign_off_poll_cards",
    "despatch_poll_cards",
    "order_ballot_papers",
    "sign_off_ballot_papers",
    "postal_vote_issue",
    "postal_vote_issue_late",
    "count_setup",
    "verification",
]


def planned(ids, kind=None, nation=None, overlay=None) -> dict:
    return {p.key: p for p in plan_work(timetable_for(ids, kind=kind, nation=nation), overlay)}


def test_a_principal_council_poll_plans_over_a_hundred_items_and_a_general_election_more():
    local = planned([HART])
    assert len(local) >= 100
    for kind, ids in [("la-mayor", "mayor.hart.2027-05-06"), ("ca-mayor", "mayor.x.2027-05-06")]:
        assert len(planned([ids], kind=kind)) >= 100, kind
    general = planned(["parl.2024-07-04"], nation="england")
    assert len(general) > len(local)
    assert {"receive_writ", "return_the_writ", "return_deposits", "ecu_final_claim"} <= set(general)


def test_planning_starts_months_ahead_and_staff_are_recruited_before_training():
    work = planned([HART])
    poll = dt.date(2027, 5, 6)

    def months_ahead(key):
        return (poll - work[key].due.date()).days / 30.4

    # The plan, the risk register and the communications plan at the start.
    for key in ("project_plan", "risk_register", "communications_plan"):
        assert months_ahead(key) >= 5.9, key
    # Polling places and the count venue booked, then confirmed, months ahead (not 22 March).
    assert months_ahead("book_count_venue") >= 4.9 and months_ahead("book_polling_stations") >= 3.9
    assert months_ahead("confirm_polling_stations") >= 1.9 and months_ahead("confirm_count_venue") >= 1.9
    assert months_ahead("book_printers") >= 4.9
    chain = ["open_staff_recruitment", "recruit_polling_staff", "appoint_polling_staff"]
    chain.append("train_polling_staff")
    assert [work[k].due for k in chain] == sorted(work[k].due for k in chain)
    assert work["train_polling_staff"].depends_on == ("recruit_polling_staff", "book_training")
    # Ballot papers are ordered after the statement of persons nominated, and signed off.
    assert "publish_sopn" in work["order_ballot_papers"].depends_on
    assert work["sign_off_ballot_papers"].needs_signoff and work["project_plan"].needs_signoff


@PROPERTY
@given(st.sampled_from(POLLS), st.dates(dt.date(2016, 1, 1), dt.date(2035, 12, 31)))
def test_every_task_falls_after_the_work_it_waits_for_and_polling_day_work_by_the_close(poll, day):
    kind, nation = poll
    tt = compute((ID_FOR_KIND[kind].format(day), kind, nation))
    work = {p.key: p for p in plan_work(tt)}
    for task in work.values():
        for dep in task.depends_on:
            assert work[dep].due <= task.due, (kind, nation, tt.poll_date, task.key, dep)
    # Everything the polling stations and the count wait for is done by the close of poll.
    close = dt.datetime.combine(tt.poll_date, dt.time(22, 0), tzinfo=LONDON)
    feeds = [k for k, p in work.items() if p.task in ("ballot_box_collection", "count_setup")]
    seen: set[str] = set()
    while feeds:
        key = feeds.pop()
        if key not in seen:
            seen.add(key)
            assert work[key].due <= close, (kind, tt.poll_date, key)
            feeds.extend(work[key].depends_on)


def test_every_catalogue_task_has_an_owner_role_that_exists_and_cites_its_source():
    roles = set(DEFAULT_ROLES)
    for (kind, nation), (_, definition) in definitions().by_kind_nation.items():
        for key, task in definition.tasks.items():
            assert task.owner in roles, (kind, nation, key, task.owner)
            assert task.source and len(task.source) >= 5, (kind, nation, key)
    work = planned([HART])
    assert all(p.cites for p in work.values())
    assert "Part E" in work["count_setup"].cites and "RPA 1983" in work["despatch_poll_cards"].cites


def test_a_definition_task_without_a_source_is_refused(tmp_path):
    (tmp_path / "k.yaml").write_text(
        "kind: k\nnations: [england]\ntasks:\n  a_task:\n    title: A task\n"
        "    owner: staffing-officer\n    due: {before: poll, working_days: 3}\n"
    )
    with pytest.raises(DefinitionError, match="tasks a_task need a 'source'"):
        load_definitions(tmp_path)


def test_a_combined_poll_plans_shared_work_once_naming_the_elections_it_serves():
    work = planned([DISTRICT, PARISH], kind=["local", "parish"])
    for key in SHARED:
        assert key in work, key
        assert not [k for k in work if k.startswith(f"{key}:")], key  # no copy per election
        task = work[key]
        assert task.election_id is None and task.serves == (DISTRICT, PARISH), key
        assert f"serves {DISTRICT} and {PARISH}" in task.description, key
    # It waits for every election's statement of persons nominated, and follows the later one.
    order = work["order_ballot_papers"]
    sopns = [work[f"publish_sopn:{e}"] for e in (DISTRICT, PARISH)]
    assert {f"publish_sopn:{e}" for e in (DISTRICT, PARISH)} <= set(order.depends_on)
    assert order.due > max(s.due for s in sopns)
    # Work each election keeps for itself stays one per election.
    assert {f"publish_sopn:{e}" for e in (DISTRICT, PARISH)} <= set(work)
    # A poll of one election names no one: there is nothing to share.
    assert planned([HART])["order_ballot_papers"].serves == ()


def overlay(tmp_path, text):
    path = tmp_path / "overlay.yaml"
    path.write_text(text)
    return load_overlay(path)


def refused(tmp_path, text) -> str:
    with pytest.raises(OverlayError) as caught:
        planned([HART], overlay=overlay(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_an_overlay_that_puts_a_task_before_one_it_depends_on_is_refused(tmp_path):
    # Moving the order of ballot papers after their proofs: the proofs would come first.
    message = refused(tmp_path, "change:\n  order_ballot_papers:\n    due: {after: sopn, working_days: 4}\n")
    assert "the overlay makes 'proof_ballot_papers' due Tue 13 Apr 2027 17:00" in message
    assert "before 'order_ballot_papers' (due Thu 15 Apr 2027 17:00), which it depends on" in message
    # Moving a task earlier than what it waits for.
    message = refused(tmp_path, "change:\n  confirm_count_venue:\n    due: {before: poll, months: 6}\n")
    assert "'confirm_count_venue' due Fri 06 Nov 2026 17:00, before 'book_count_venue'" in message
    # A task the overlay adds that waits for later work.
    text = (
        "add:\n  early_check:\n    title: Early check\n    owner: staffing-officer\n"
        "    due: {before: poll, working_days: 30}\n    depends_on: [train_polling_staff]\n"
    )
    message = refused(tmp_path, text)
    assert "'early_check' due" in message and "'train_polling_staff'" in message


def test_an_overlay_that_keeps_the_order_is_accepted(tmp_path):
    text = (
        "change:\n  book_polling_stations:\n    due: {before: poll, months: 5, roll_forward: true}\n"
        "    source: Hart District Council practice (schools booked a term ahead)\n"
    )
    work = planned([HART], overlay=overlay(tmp_path, text))
    assert work["book_polling_stations"].due.date() == dt.date(2026, 12, 7)  # 6 December is a Sunday
    assert work["book_polling_stations"].cites.startswith("Hart District Council practice")
