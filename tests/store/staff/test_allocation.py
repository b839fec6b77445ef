"""Allocation: the pure algorithm (examples and hypothesis properties: nobody booked twice on a
day, ratios met where staff allow, pins kept, roles and days respected, every unfilled post
explained), and allocation on the store (both backends), where the database itself refuses a
second post on one day."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from store import staff
from store.models.staff import StaffPost
from store.queries import find_poll
from store.staff import posting as staff_posting
from store.staff import recruitment as staff_recruitment
from store.staff.allocation import Candidate, Rules, Slot, allocate, distance_km, naive_allocate
from store.staff.config import staffing_rules
from tests.support.staff import (
    POLL_DAY,
    everyone_available,
    member,
    person,
    posts,
    setup_poll,
    start,
)

DAY = dt.date(2027, 5, 6)
COUNT_DAY = dt.date(2027, 5, 7)


def station_slots(stations: int, clerks: int = 2, start_id: int = 1) -> list[Slot]:
    slots, n = [], start_id
    for s in range(stations):
        e, north = 430000 + 1500 * s, 225000
        slots.append(
            Slot(n, "presiding-officer", DAY, "station", 0, f"S{s}", "North", e, north, None, f"S{s} PO")
        )
        n += 1
        for c in range(1, clerks + 1):
            round_ = 1 if c == 1 else c + 1
            slots.append(
                Slot(n, "poll-clerk", DAY, "station", round_, f"S{s}", "North", e, north, None, f"S{s} PC{c}")
            )
            n += 1
    return slots


def cand(i, roles, e=430000, n=225000, dates=(DAY,), experience=None, **kw) -> Candidate:
    return Candidate(
        id=i,
        roles=frozenset(roles),
        dates=frozenset(dates),
        experience=experience or {},
        easting=e,
        northing=n,
        label=f"c{i:03d}",
        **kw,
    )


def test_every_station_gets_its_presiding_officer_and_a_clerk_before_any_gets_a_second_clerk():
    slots = station_slots(3, clerks=2)
    people = [
        cand(i, ["presiding-officer", "poll-clerk"], experience={"presiding-officer": 2}) for i in range(3)
    ]
    people += [cand(10 + i, ["poll-clerk"]) for i in range(4)]  # one clerk short
    result = allocate(slots, people, kept={})
    by_label = {s.label: result.assigned.get(s.id) for s in slots}
    assert all(by_label[f"S{s} PO"] is not None and by_label[f"S{s} PC1"] is not None for s in range(3))
    assert sum(by_label[f"S{s} PC2"] is not None for s in range(3)) == 1
    assert len(result.unfilled) == 2 and all(
        "already placed: recruit more" in r for r in result.unfilled.values()
    )


def test_only_experienced_people_are_put_in_charge_and_the_most_experienced_first():
    slots = [Slot(1, "presiding-officer", DAY, "station", 0, "S1", None, 430000, 225000, None, "S1 PO")]
    novice = cand(1, ["presiding-officer"], experience={})
    concern = cand(2, ["presiding-officer"], experience={"presiding-officer": 9}, concern=True)
    result = allocate(slots, [novice, concern], kept={})
    assert result.assigned == {}
    assert "none of the 2 people available as presiding officer" in result.unfilled[1]
    assert "is experienced enough" in result.unfilled[1]
    veteran = cand(3, ["presiding-officer"], e=431000, experience={"presiding-officer": 5})
    clerk_years = cand(4, ["presiding-officer"], experience={"poll-clerk": 3})  # three polls in any role
    result = allocate(slots, [novice, concern, veteran, clerk_years], kept={})
    assert result.assigned == {1: 3}  # a km further, but five polls in charge


def test_preferences_and_distance_choose_who_goes_where():
    slots = station_slots(2, clerks=0)  # S0 at 430000, S1 at 431500
    near_s0 = cand(1, ["presiding-officer"], e=430100, experience={"presiding-officer": 1})
    wants_s0 = cand(
        2,
        ["presiding-officer"],
        e=431400,
        experience={"presiding-officer": 1},
        preferred_stations=frozenset({"S0"}),
    )
    result = allocate(slots, [near_s0, wants_s0], kept={})
    placed = {s.station: result.assigned[s.id] for s in slots}
    assert placed == {"S0": 2, "S1": 1}  # the preference is worth more than 1.3 km
    assert result.preferences_met == 1 and result.with_preferences == 1


def test_a_preferred_colleague_is_placed_with_them():
    slots = station_slots(2, clerks=1)
    po_a = cand(1, ["presiding-officer"], e=430000, experience={"presiding-officer": 3})
    po_b = cand(2, ["presiding-officer"], e=431500, experience={"presiding-officer": 3})
    friend = cand(3, ["poll-clerk"], e=431000, preferred_colleagues=frozenset({1}))  # nearer S1
    other = cand(4, ["poll-clerk"], e=431500)
    result = allocate(slots, [po_a, po_b, friend, other], kept={})
    station_of = {result.assigned[s.id]: s.station for s in slots if s.id in result.assigned}
    assert station_of[3] == station_of[1] == "S0"


def test_max_distance_and_reasons():
    slot = Slot(1, "poll-clerk", DAY, "station", 1, "S1", None, 430000, 225000, None, "S1 PC1")
    far = cand(1, ["poll-clerk"], e=470000)
    result = allocate([slot], [far], kept={}, rules=Rules(max_distance_km=25))
    assert result.unfilled[1] == "nobody free to work as poll clerk on Thu 6 May 2027 lives within 25 km"
    result = allocate([slot], [cand(1, ["poll-clerk"], dates=(COUNT_DAY,))], kept={})
    assert result.unfilled[1] == "no one who can work as poll clerk is available on Thu 6 May 2027"
    result = allocate([slot], [cand(1, ["poll-clerk"])], kept={}, declined={(1, 1)})
    assert result.unfilled[1] == "everyone free to work as poll clerk that day has turned this post down"


def test_distance_falls_back_to_postcodes():
    assert distance_km(430000, 225000, None, 433000, 229000, None) == 5.0
    assert distance_km(None, None, "OX7 1AB", None, None, "OX7 1ZZ") == 1.0
    assert distance_km(None, None, "OX7 1AB", None, None, "OX7 5ZZ") == 3.0
    assert distance_km(None, None, "OX7 1AB", None, None, "OX18 5ZZ") == 15.0
    assert distance_km(None, None, "OX7 1AB", None, None, "B1 1AA") == 40.0
    assert distance_km(None, None, None, 1, 1, "B1 1AA") == 40.0


def test_people_without_a_grid_reference_are_still_found_by_postcode():
    slots = [Slot(1, "poll-clerk", DAY, "station", 1, "S1", None, 430000, 225000, "OX7 1AA", "S1 PC1")]
    local_ = Candidate(1, frozenset({"poll-clerk"}), frozenset({DAY}), postcode="OX7 1ZZ", label="a")
    assert allocate(slots, [local_], kept={}).assigned == {1: 1}
    no_grid_slot = [Slot(2, "poll-clerk", DAY, "station", 1, "S2", None, None, None, "OX7 1AA", "S2 PC1")]
    with_grid = cand(2, ["poll-clerk"])
    assert allocate(no_grid_slot, [with_grid], kept={}).assigned == {2: 2}


# --- properties -----------------------------------------------------------------------------------

ROLE_SETS = st.sampled_from(
    [
        ["presiding-officer", "poll-clerk"],
        ["poll-clerk"],
        ["presiding-officer"],
        ["poll-clerk", "count-assistant"],
        ["count-assistant"],
    ]
)


@st.composite
def scenarios(draw):
    stations = draw(st.integers(1, 6))
    clerks = draw(st.integers(1, 3))
    slots = station_slots(stations, clerks)
    next_id = len(slots) + 1
    for k in range(draw(st.integers(0, 4))):
        slots.append(
            Slot(next_id + k, "count-assistant", DAY, "count", 21, None, None, 431000, 226000, None, f"C{k}")
        )
    people = []
    for i in range(draw(st.integers(0, 30))):
        people.append(
            cand(
                100 + i,
                draw(ROLE_SETS),
                e=draw(st.integers(420000, 440000)),
                n=draw(st.integers(220000, 230000)),
                dates=draw(st.sampled_from([(DAY,), (COUNT_DAY,), (DAY, COUNT_DAY)])),
                experience=draw(st.sampled_from([{}, {"presiding-officer": 1}, {"poll-clerk": 4}])),
                preferred_stations=frozenset(
                    draw(st.lists(st.sampled_from([f"S{s}" for s in range(6)]), max_size=2))
                ),
            )
        )
    # Pins: some posts kept as they are (a person who can do the role, one post a day).
    kept, used = {}, set()
    for slot in draw(st.lists(st.sampled_from(slots), max_size=4, unique_by=lambda s: s.id)):
        fits = [c for c in people if slot.role in c.roles and c.id not in used]
        if fits:
            chosen = draw(st.sampled_from(fits))
            kept[slot.id] = chosen.id
            used.add(chosen.id)
    return slots, people, kept


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_allocation_properties(scenario):
    slots, people, kept = scenario
    rules = Rules()
    result = allocate(slots, people, kept)
    by_id = {c.id: c for c in people}
    slot_by_id = {s.id: s for s in slots}
    # Pins kept: never reassigned, never refilled.
    assert not set(result.assigned) & set(kept)
    final = {**kept, **result.assigned}
    # Nobody booked twice on a day.
    days = [(cand_id, slot_by_id[slot_id].duty_date) for slot_id, cand_id in final.items()]
    assert len(days) == len(set(days))
    # Everyone placed can do the role on that day; people in charge are experienced.
    for slot_id, cand_id in result.assigned.items():
        slot, c = slot_by_id[slot_id], by_id[cand_id]
        assert slot.role in c.roles and slot.duty_date in c.dates
        if slot.role in rules.in_charge:
            assert sum(c.experience.values()) >= 3 or c.experience.get(slot.role, 0) >= 1
    # Every post is filled or says why.
    assert set(result.assigned) | set(result.unfilled) | set(kept) == set(slot_by_id)
    assert all(result.unfilled.values())
    # Ratios met where staff allow: a post is left empty only when nobody who could take it is
    # free that day.
    for slot_id in result.unfilled:
        slot = slot_by_id[slot_id]
        busy = {c for (c, day) in days if day == slot.duty_date}
        free = [
            c
            for c in people
            if slot.role in c.roles
            and slot.duty_date in c.dates
            and c.id not in busy
            and (
                slot.role not in rules.in_charge
                or sum(c.experience.values()) >= 3
                or c.experience.get(slot.role, 0)
            )
        ]
        assert not free, (slot, free)
    # The reserve list is those who offered and hold nothing.
    assert set(result.reserve) == {c.id for c in people} - {cand_id for cand_id, _ in days}


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_running_again_with_the_result_kept_changes_nothing(scenario):
    slots, people, kept = scenario
    first = allocate(slots, people, kept)
    again = allocate(slots, people, {**kept, **first.assigned})
    assert again.assigned == {}
    assert set(again.unfilled) == set(first.unfilled)


def test_the_naive_reference_fills_as_many_but_ignores_distance():
    slots = station_slots(4, clerks=2)
    people = [
        cand(
            i,
            ["presiding-officer", "poll-clerk"],
            e=430000 + 1500 * (i % 4),
            experience={"presiding-officer": 1},
        )
        for i in range(20)
    ]
    ours, naive = allocate(slots, people, {}), naive_allocate(slots, people, {})
    assert len(ours.assigned) == len(naive.assigned) == len(slots)
    assert ours.distance_km < naive.distance_km


# --- on the store ---------------------------------------------------------------------------------


def test_allocation_on_the_store_fills_every_post_and_keeps_pins_on_rerun(store):
    rules = staffing_rules()
    with store.session() as s:
        poll = setup_poll(s)
        plan, need = start(s, poll)
        assert len(need.posts) == 26
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
        clerk = staff_posting.find_post(s, poll, "W03", "poll-clerk")
        staff_posting.pin(s, poll, clerk, "staff0013@example.org", "manager@wychwood.gov.uk")
    with store.session() as s:
        poll = find_poll(s, "local.wychwood.2027-05-06")
        plan = staff.require_plan(s, poll)
        allocated = staff_posting.run_allocation(s, poll, rules)
        staff_posting.save_allocation(s, poll, plan, allocated, "test")
        assert allocated.summary["unfilled"] == 0 and allocated.summary["assigned"] == 25
        pinned = [p for p in posts(s, poll) if p.pinned]
        assert [(p.key, p.staff_id) for p in pinned] == [
            ("station:W03:poll-clerk:1", member(s, "staff0013@example.org").id)
        ]
    with store.session() as s:
        poll = find_poll(s, "local.wychwood.2027-05-06")
        before = {p.key: p.staff_id for p in posts(s, poll)}
        again = staff_posting.run_allocation(s, poll, rules)
        assert again.summary["assigned"] == 0  # nothing vacant: nothing moves
        assert {p.key: p.staff_id for p in posts(s, poll)} == before
        # Presiding officers are the experienced ones.
        for post in posts(s, poll):
            holder = s.get(type(member(s, "staff0001@example.org")), post.staff_id)
            if post.role == "presiding-officer":
                assert holder.experience.get("presiding-officer", 0) >= 2
            assert post.role in holder.roles


def test_the_store_refuses_a_second_post_on_one_day(store):
    with store.session() as s:
        poll = setup_poll(s)
        start(s, poll)
        a, b = [p for p in posts(s, poll) if p.duty_date == POLL_DAY][:2]
        person_id = member(s, "staff0001@example.org").id
        a.staff_id = b.staff_id = person_id
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_pins_refuse_what_would_break_the_rules(store):
    with store.session() as s:
        poll = setup_poll(s)
        start(s, poll)
        po = staff_posting.find_post(s, poll, "W01", "presiding-officer")
        with pytest.raises(staff.StaffingError, match="is not registered as Presiding Officer"):
            staff_posting.pin(s, poll, po, "staff0005@example.org", "m")
        staff_posting.pin(s, poll, po, "staff0001@example.org", "m")
        other = staff_posting.find_post(s, poll, "W02", "presiding-officer")
        with pytest.raises(
            staff.StaffingError, match="already holds W01 St Mary's Church Hall: Presiding Officer"
        ):
            staff_posting.pin(s, poll, other, "staff0001@example.org", "m")
        with pytest.raises(
            staff.StaffingError, match="is held by staff0001@example.org .allocated.: add --replace"
        ):
            staff_posting.pin(s, poll, po, "staff0002@example.org", "m")
        staff_posting.pin(s, poll, po, "staff0002@example.org", "m", replace=True)
        assert po.staff_id == member(s, "staff0002@example.org").id and po.pinned
        with pytest.raises(
            staff.StaffingError, match="give --role for station W01: its posts are poll-clerk"
        ):
            staff_posting.find_post(s, poll, "W01")
        with pytest.raises(staff.StaffingError, match="no post or station 'W99'"):
            staff_posting.find_post(s, poll, "W99")
        assert isinstance(staff_posting.find_post(s, poll, "station:W02:poll-clerk:3"), StaffPost)


def test_a_person_far_away_is_not_needed_when_someone_is_near(store):
    people = [
        person(1, ["presiding-officer"], experience={"presiding-officer": 3}, e=431150, n_=226850),  # by W01
        person(2, ["presiding-officer"], experience={"presiding-officer": 3}, e=460000, n_=260000),  # far
    ]
    with store.session() as s:
        poll = setup_poll(s, people=people)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
        allocated = staff_posting.run_allocation(s, poll, staffing_rules())
        placed = {allocated.inputs.members[c].email: p for p, c in allocated.result.assigned.items()}
        keys = {p.id: p.key for p in allocated.inputs.posts}
        assert keys[placed["staff0001@example.org"]] == "station:W01:presiding-officer:1"
