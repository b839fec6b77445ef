"""Working-day calendars per rule source (domain notes §1)."""

import datetime as dt
import json

import holidays
import pytest

from timetables import calendars, paths, timetable_for
from timetables.calendars import DIVISIONS, HOLIDAYS_SUBDIVISION, get_calendar
from timetables.errors import BankHolidayDataError, OutsideCalendarError

D = dt.date.fromisoformat


def test_maundy_thursday_is_a_working_day_everywhere():
    maundy = D("2024-03-28")
    for cid in calendars.registry.definitions:
        assert get_calendar(cid).is_working_day(maundy), cid


def test_christmas_eve_is_skipped_everywhere_though_not_a_bank_holiday():
    eve = D("2025-12-24")  # a Wednesday
    for cid in calendars.registry.definitions:
        cal = get_calendar(cid)
        assert not cal.is_working_day(eve), cid
        assert cal.why_closed(eve) == "Christmas Eve"


def test_easter_monday_skipped_for_scottish_timetables_not_scottish_registration():
    easter_monday = D("2022-04-18")
    assert not get_calendar("scotland-easter-monday").is_working_day(easter_monday)
    assert get_calendar("registration-scotland").is_working_day(easter_monday)
    assert not get_calendar("england-and-wales").is_working_day(easter_monday)


def test_general_election_calendar_is_the_union_of_all_uk_bank_holidays():
    union = get_calendar("united-kingdom")
    assert not union.is_working_day(D("2019-12-02"))  # St Andrew's Day substitute, Scotland
    assert not union.is_working_day(D("2024-07-12"))  # Battle of the Boyne, Northern Ireland
    assert not union.is_working_day(D("2024-03-18"))  # St Patrick's Day substitute, NI
    assert get_calendar("england-and-wales").is_working_day(D("2019-12-02"))


def test_counting_working_days():
    cal = get_calendar("england-and-wales")
    poll = D("2025-05-01")
    assert cal.working_days_before(poll, 11) == D("2025-04-14")  # across Easter
    assert cal.working_days_after(D("2025-04-14"), 11) == poll
    assert cal.working_days_between(D("2025-04-14"), poll) == 11
    assert cal.roll_forward(D("2025-06-07")) == D("2025-06-09")  # Saturday to Monday
    assert cal.roll_forward(D("2025-06-09")) == D("2025-06-09")


@pytest.mark.parametrize("division", DIVISIONS)
def test_holidays_package_agrees_with_gov_uk_on_every_weekday(division):
    """The fallback past GOV.UK's data is only safe if it matches where both have data."""
    data = calendars.load_bank_holidays()
    gov = {d for d in data.days[division] if d.weekday() < 5}
    years = range(data.covered_from.year, data.covered_to.year + 1)
    computed = holidays.country_holidays("GB", subdiv=HOLIDAYS_SUBDIVISION[division], years=years)
    assert gov == {d for d in computed if d.weekday() < 5}


def test_dates_past_the_bundled_data_are_provisional_and_say_so():
    tt = timetable_for("sp.2031-05-01")
    assert all(e.provisional for e in tt.events if e.key != "declaration")
    assert any("holidays refresh" in w and "provisional" in w for w in tt.warnings)
    assert not any(e.provisional for e in timetable_for("sp.2026-05-07").events)


def test_a_poll_just_inside_the_data_is_provisional_only_where_counting_crosses_its_end():
    # 7 Dec 2028: the expenses deadline (Jan 2029) is computed past GOV.UK's data.
    tt = timetable_for("local.hart.by.2028-12-07")
    assert tt["expenses_return"].provisional
    assert not tt["registration"].provisional
    assert any("expenses_return" in w for w in tt.warnings)


def test_dates_outside_every_calendar_are_refused():
    with pytest.raises(OutsideCalendarError, match="outside every calendar"):
        get_calendar("england-and-wales").is_working_day(D("2101-01-06"))
    with pytest.raises(OutsideCalendarError):
        timetable_for("local.hart.2100-01-07")


def test_a_day_of_mourning_moves_every_timetable_that_counts_across_it(home):
    before = timetable_for("local.hart.2027-05-06")
    mourning = before["registration"].date + dt.timedelta(days=1)  # a working day in the count
    (home / "dies-non.yaml").write_text(
        f"days:\n  - date: {mourning.isoformat()}\n    name: Day of mourning\n"
    )
    calendars.reload()
    after = timetable_for("local.hart.2027-05-06")
    assert after["registration"].date == before["registration"].date  # RPR reg 8: not a dies non
    assert after["close_of_nominations"].date < before["close_of_nominations"].date
    assert get_calendar("england-and-wales").why_closed(mourning) == "Day of mourning"


def test_refreshed_data_in_pollflow_home_is_used_and_bad_data_refused(home):
    bundled = json.loads(paths.BUNDLED_BANK_HOLIDAYS.read_text())
    for division in DIVISIONS:
        bundled[division]["events"].append({"title": "Invented", "date": "2027-06-15"})
    (home / "bank-holidays.json").write_text(json.dumps(bundled))
    calendars.reload()
    assert not get_calendar("england-and-wales").is_working_day(D("2027-06-15"))

    (home / "bank-holidays.json").write_text(json.dumps({"scotland": {"events": []}}))
    calendars.reload()
    with pytest.raises(BankHolidayDataError, match="missing division"):
        timetable_for("local.hart.2027-05-06")
