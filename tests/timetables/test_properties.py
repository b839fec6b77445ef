"""Properties every timetable has, for any kind of poll, nation and polling day."""

import datetime as dt

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from timetables import timetable_for
from timetables.calendars import get_calendar
from timetables.definitions import definitions
from timetables.errors import PollDateError

ID_FOR_KIND = {
    "parl": "parl.{}",
    "parl-by": "parl.x.by.{}",
    "local": "local.{}",
    "parish": "local.x.{}",
    "community": "local.x.{}",
    "la-mayor": "mayor.x.{}",
    "ca-mayor": "mayor.x.{}",
    "pcc": "pcc.x.{}",
    "gla": "gla.{}",
    "senedd": "senedd.{}",
    "sp": "sp.{}",
    "nia": "nia.{}",
    "ref": "ref.{}",
    "ref-local": "ref.x.{}",
    "recall": "recall.x.{}",
}
# Polls only: the registration year's properties are in test_canvass_timetable.py.
POLLS = [
    (kind, nation)
    for kind, info in sorted(definitions().kinds.items())
    if kind != "canvass"
    for nation in info.nations
]
# Each pair must be in this order wherever both events apply to the same election.
LEGAL_ORDER = [
    ("dissolution", "writ_received"),
    ("writ_received", "notice_of_election"),
    ("notice_of_election", "close_of_nominations"),
    ("close_of_nominations", "withdrawals"),
    ("close_of_nominations", "sopn"),
    ("close_of_nominations", "first_interim_notice"),
    ("first_interim_notice", "second_interim_notice"),
    ("second_interim_notice", "final_notice_of_alteration"),
    ("sopn", "poll"),
    ("registration", "final_notice_of_alteration"),
    ("postal_vote", "proxy"),
    ("proxy", "poll"),
    ("vac", "poll"),
    ("final_notice_of_alteration", "lost_postal_replacement_from"),
    ("polling_counting_agents", "poll"),
    ("sub_agents", "poll"),
    ("poll", "declaration"),
    ("declaration", "expenses_return"),
    ("poll", "postal_rejection_notices"),
]
# Events counted in calendar days, which may fall on any day.
CALENDAR_DAY_EVENTS = {
    "declaration",
    "postal_rejection_notices",
    "publicity_restriction",
    "referendum_statement",
    "signing_closes",
}


@st.composite
def polls(draw):
    kind, nation = draw(st.sampled_from(POLLS))
    day = draw(st.dates(dt.date(2015, 1, 1), dt.date(2040, 12, 31)))
    return ID_FOR_KIND[kind].format(day), kind, nation


def compute(poll):
    election_id, kind, nation = poll
    try:
        return timetable_for(election_id, kind=kind, nation=nation)
    except PollDateError:
        assume(False)  # not a working day, or before the kind's rules begin


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(polls())
def test_events_come_in_date_order_and_in_their_legal_order(poll):
    tt = compute(poll)
    dates = [e.date for e in tt.events]
    assert dates == sorted(dates)
    by_key = {e.key: e for e in tt.events}
    for first, then in LEGAL_ORDER:
        if first in by_key and then in by_key:
            assert by_key[first].date <= by_key[then].date, (first, then, poll)


@PROPERTY
@given(polls())
def test_every_working_day_deadline_falls_on_a_working_day_of_its_own_calendar(poll):
    tt = compute(poll)
    for event in tt.events:
        if event.key in CALENDAR_DAY_EVENTS or (tt.kind == "recall" and event.key == "poll"):
            continue  # counted in calendar days (a recall's six weeks included)
        calendar = get_calendar(event.calendar)
        assert calendar.is_working_day(event.date), (event.key, event.date, event.calendar)
        if event.earliest:
            assert calendar.is_working_day(event.earliest), (event.key, event.earliest)
            assert event.earliest < event.date


@PROPERTY
@given(polls())
def test_same_input_same_output(poll):
    assert compute(poll).to_dict() == compute(poll).to_dict()


@PROPERTY
@given(polls())
def test_every_event_cites_its_source_and_pre_poll_events_fall_before_polling_day(poll):
    tt = compute(poll)
    after_poll = {
        "poll",
        "emergency_proxy",
        "replacement_postal_ballots",
        "clerical_alterations",
        "signing_closes",
        "declaration",
        "expenses_return",
        "postal_rejection_notices",
    }
    for event in tt.events:
        assert len(event.citation) > 5, event.key
        assert event.label and event.calendar
        if event.key not in after_poll:
            assert event.date < tt["poll"].date, event.key  # a recall's "poll" is six weeks


@PROPERTY
@given(polls())
def test_the_fast_path_and_the_full_path_agree(poll):
    """Counts from polling day take a fast path; forcing every event down the full path (as for
    polls near the end of GOV.UK's data) must give the same timetable."""
    from unittest import mock

    from timetables import compute as engine

    fast = compute(poll)
    with mock.patch.object(engine, "needs_provisional_checks", return_value=True):
        full = compute(poll)
    assert [(e.key, e.date, e.earliest, e.time, e.bound) for e in fast.events] == [
        (e.key, e.date, e.earliest, e.time, e.bound) for e in full.events
    ]
