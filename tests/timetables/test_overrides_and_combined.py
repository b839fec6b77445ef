"""Dates the Returning Officer fixes, and polls combined on one day."""

import datetime as dt

from timetables import timetable_for

D = dt.date.fromisoformat
BY = "parl.runcorn-and-helsby.by.2025-05-01"


def test_by_election_without_the_returning_officers_dates_shows_windows():
    tt = timetable_for(BY, nation="england")
    close = tt["close_of_nominations"]
    # Polling day 17 to 19 working days after nominations close (Easter 2025 skipped).
    assert (close.earliest, close.date, close.bound) == (D("2025-04-02"), D("2025-04-04"), "window")
    assert tt["writ_received"].bound == "window"
    assert tt["sopn"].earliest == D("2025-04-02") and tt["sopn"].date == D("2025-04-07")
    # Poll-relative deadlines are exact all the same: the id gives polling day.
    assert tt["registration"].date == D("2025-04-11") and tt["registration"].earliest is None
    assert tt["postal_vote"].date == D("2025-04-14")


def test_setting_the_writ_narrows_the_nomination_window():
    tt = timetable_for(BY, nation="england", overrides={"writ_received": "2025-03-31"})
    close = tt["close_of_nominations"]
    assert (close.earliest, close.date) == (D("2025-04-03"), D("2025-04-04"))
    notice = tt["notice_of_election"]
    assert (notice.earliest, notice.date) == (D("2025-03-31"), D("2025-04-01"))


def test_events_placed_from_a_set_date_move_with_it():
    tt = timetable_for(
        BY,
        nation="england",
        overrides={"writ_received": "2025-03-27", "close_of_nominations": "2025-04-03T16:00"},
    )
    close = tt["close_of_nominations"]
    assert (close.date, close.time, close.bound, close.overridden) == (
        D("2025-04-03"),
        dt.time(16),
        "on",
        True,
    )
    assert tt["withdrawals"].date == D("2025-04-03") and tt["withdrawals"].earliest is None
    assert tt["first_interim_notice"].date == D("2025-04-03")
    sopn = tt["sopn"]
    assert (sopn.earliest, sopn.date, sopn.time) == (D("2025-04-03"), D("2025-04-04"), dt.time(16))
    notice = tt["notice_of_election"]
    assert (notice.earliest, notice.date) == (D("2025-03-27"), D("2025-03-31"))


def test_by_election_in_scotland_counts_scottish_holidays_only():
    # St Andrew's Day substitute Mon 1 Dec 2025 is a Scottish bank holiday, not an English one.
    scot = timetable_for("parl.x.by.2025-12-11", nation="scotland")
    eng = timetable_for("parl.x.by.2025-12-11", nation="england")
    assert scot["registration"].date == D("2025-11-24")
    assert eng["registration"].date == D("2025-11-25")


def test_setting_the_declaration_moves_the_expenses_deadline():
    tt = timetable_for("local.hart.2026-05-07", overrides={"declaration": "2026-05-08"})
    assert tt["declaration"].overridden
    assert tt["expenses_return"].date == D("2026-06-12")


def test_combined_district_and_parish_keep_their_own_nomination_stages():
    district, parish = "local.rochford.2027-05-06", "local.rochford-parishes.2027-05-06"
    # --kind applies to every id, so combine the timetables by id through the API.
    tt_d = timetable_for(district)
    tt_p = timetable_for(parish, kind="parish")
    assert "election_agents" in tt_d and "election_agents" not in tt_p
    both = timetable_for([district, "pcc.essex.2027-05-06"])
    nominations = {e.election_id for e in both.find("close_of_nominations")}
    assert nominations == {district, "pcc.essex.2027-05-06"}
    # Shared poll-wide deadlines appear once, without an election id.
    for key in ("registration", "postal_vote", "proxy", "vac", "poll"):
        found = both.find(key)
        assert len(found) == 1 and found[0].election_id is None, key
    # Expenses: 35 days for the council, 70 for the PCC: one each.
    expenses = {e.election_id: e.date for e in both.find("expenses_return")}
    assert expenses[district] < expenses["pcc.essex.2027-05-06"]


def test_combined_poll_keeps_an_event_only_one_election_has():
    tt = timetable_for(["pcc.dyfed-powys.2028-05-04", "local.powys.x.by.2028-05-04"])
    vac = tt.find("vac")  # photo ID for the PCC ballot, none for the Welsh council ballot
    assert len(vac) == 1 and vac[0].election_id == "pcc.dyfed-powys.2028-05-04"


def test_same_input_same_output():
    a = timetable_for(BY, nation="england", overrides={"close_of_nominations": "2025-04-03"})
    b = timetable_for(BY, nation="england", overrides={"close_of_nominations": "2025-04-03"})
    assert a.to_dict() == b.to_dict()
