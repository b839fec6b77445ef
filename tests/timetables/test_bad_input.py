"""Bad input is refused with an error that names the bad value and what is allowed."""

import pytest

from timetables import timetable_for
from timetables.errors import (
    InvalidElectionIdError,
    NationError,
    OutsideCalendarError,
    OverrideError,
    PollDateError,
    UnknownKindError,
)


@pytest.mark.parametrize(
    "election_id,error,words",
    [
        ("local.hart", InvalidElectionIdError, ["'local.hart' is malformed", "YYYY-MM-DD"]),
        ("local.hart.2026-02-30", InvalidElectionIdError, ["not a real date"]),
        ("LOCAL.hart.2026-05-07", InvalidElectionIdError, ["malformed"]),
        ("council.hart.2026-05-07", InvalidElectionIdError, ["unknown type 'council'", "local"]),
        ("local.a.b.c.2026-05-07", InvalidElectionIdError, ["too many parts"]),
    ],
)
def test_malformed_or_unknown_ids(election_id, error, words):
    with pytest.raises(error) as caught:
        timetable_for(election_id)
    for word in words:
        assert word in str(caught.value)


def test_by_election_needs_a_nation():
    with pytest.raises(NationError, match="needs --nation.*england, wales, scotland"):
        timetable_for("parl.runcorn-and-helsby.by.2025-05-01")


def test_local_group_id_needs_a_nation():
    with pytest.raises(NationError, match="needs --nation"):
        timetable_for("local.2026-05-07")


def test_nation_that_does_not_hold_the_kind():
    with pytest.raises(NationError, match="cannot be in wales.*england"):
        timetable_for("local.x.2026-05-07", kind="parish", nation="wales")
    with pytest.raises(NationError, match="'cardiff' is a council in wales, not england"):
        timetable_for("local.cardiff.2027-05-06", nation="england")
    with pytest.raises(NationError, match="unknown nation 'cymru'"):
        timetable_for("local.cardiff.2027-05-06", nation="cymru")


def test_unknown_or_unfitting_kind():
    with pytest.raises(UnknownKindError, match="unknown kind 'town'.*parish"):
        timetable_for("local.hart.2026-05-07", kind="town")
    with pytest.raises(UnknownKindError, match="--kind parish does not fit.*parl, parl-by"):
        timetable_for("parl.2024-07-04", kind="parish")
    with pytest.raises(UnknownKindError, match="by-election"):
        timetable_for("parl.x.by.2025-05-01", kind="parl", nation="england")


def test_poll_date_that_is_not_a_working_day():
    with pytest.raises(PollDateError, match="2026-05-09 is not a working day \\(Saturday\\)"):
        timetable_for("local.hart.2026-05-09")
    with pytest.raises(PollDateError, match="Good Friday"):
        timetable_for("local.hart.2026-04-03")
    with pytest.raises(PollDateError, match="2nd January"):
        timetable_for("parl.2025-01-02", nation="england")  # a Scottish holiday stops a GE


def test_polls_before_the_rules_pollflow_holds():
    with pytest.raises(PollDateError, match="from 2015-01-01"):
        timetable_for("local.hart.2014-05-22")
    with pytest.raises(PollDateError, match="from 2017-05-04"):
        timetable_for("mayor.west-midlands.2016-05-05")


def test_unknown_override_key_names_the_settable_ones():
    with pytest.raises(OverrideError, match="unknown key 'nominations'.*close_of_nominations"):
        timetable_for("parl.x.by.2025-05-01", nation="england", overrides={"nominations": "2025-04-03"})


def test_statutory_dates_cannot_be_overridden():
    with pytest.raises(OverrideError, match="registration cannot be set.*the law fixes it"):
        timetable_for("local.hart.2026-05-07", overrides={"registration": "2026-04-20"})


def test_override_after_polling_day():
    with pytest.raises(OverrideError, match="after polling day \\(2025-05-01\\)"):
        timetable_for(
            "parl.x.by.2025-05-01",
            nation="england",
            overrides={"close_of_nominations": "2025-05-02"},
        )


def test_override_outside_the_window_the_law_allows():
    with pytest.raises(OverrideError, match="earlier than the law allows: the earliest is 2025-04-02"):
        timetable_for(
            "parl.x.by.2025-05-01",
            nation="england",
            overrides={"close_of_nominations": "2025-03-28"},
        )
    with pytest.raises(OverrideError, match="later than the law allows: the latest is 2026-03-30"):
        timetable_for("local.hart.2026-05-07", overrides={"notice_of_election": "2026-03-31"})


def test_override_on_a_non_working_day():
    with pytest.raises(OverrideError, match="not a working day \\(Saturday\\)"):
        timetable_for("local.hart.2026-05-07", overrides={"notice_of_election": "2026-03-28"})


def test_override_that_is_not_a_date():
    with pytest.raises(OverrideError, match="YYYY-MM-DD"):
        timetable_for("local.hart.2026-05-07", overrides={"sopn": "next tuesday"})


def test_by_election_overrides_that_break_the_writ_rule():
    # Nominations must close within 7 working days of the writ being received.
    with pytest.raises(OverrideError, match="later than the law allows: the latest is 2025-04-02"):
        timetable_for(
            "parl.x.by.2025-05-01",
            nation="england",
            overrides={"writ_received": "2025-03-24", "close_of_nominations": "2025-04-04"},
        )


def test_combined_polls_must_share_a_polling_day():
    with pytest.raises(PollDateError, match="share one polling day"):
        timetable_for(["local.hart.2026-05-07", "pcc.hampshire.2026-05-14"])


def test_date_outside_every_calendar():
    with pytest.raises(OutsideCalendarError, match="outside every calendar"):
        timetable_for("local.hart.2200-05-01")
