"""The registration year (canvass.YYYY): published monthly dates pinned, properties, bad input.

Dates pinned here were published: the Electoral Commission's "Registration dates 2019" for England
and Wales (and the Scottish January notice), and Tayside Valuation Joint Board's 2024 notices for
Scotland (domain notes §11.3). A failure means an ERO would have been told a wrong date.
"""

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollflow.cli import main
from timetables import timetable_for
from timetables.calendars import get_calendar
from timetables.errors import PollflowError

D = dt.date.fromisoformat


def monthly(tt, month: str) -> tuple[dt.date, dt.date, dt.date]:
    """(published, last application, determination) of one month's notice."""
    key = f"notice_of_alteration.{month}"
    return tt[key].date, tt[f"{key}.last_application"].date, tt[f"{key}.determination"].date


# EC "Registration dates 2019", England and Wales: notice, last application, determination.
EC_2019_ENGLAND_AND_WALES = [
    ("2019-01", "2019-01-02", "2018-12-11", "2018-12-19"),
    ("2019-02", "2019-02-01", "2019-01-10", "2019-01-18"),
    ("2019-03", "2019-03-01", "2019-02-07", "2019-02-15"),
    ("2019-04", "2019-04-01", "2019-03-08", "2019-03-18"),
    ("2019-05", "2019-05-01", "2019-04-09", "2019-04-17"),
    ("2019-06", "2019-06-03", "2019-05-10", "2019-05-20"),
    ("2019-07", "2019-07-01", "2019-06-07", "2019-06-17"),
    ("2019-08", "2019-08-01", "2019-07-10", "2019-07-18"),
    ("2019-09", "2019-09-02", "2019-08-09", "2019-08-19"),
]

# Tayside VJB, Scotland 2024 (Easter Monday, 1 April, is a working day for registration there).
TAYSIDE_2024 = [
    ("2024-01", "2024-01-03", "2023-12-12", "2023-12-20"),
    ("2024-02", "2024-02-01", "2024-01-10", "2024-01-18"),
    ("2024-03", "2024-03-01", "2024-02-08", "2024-02-16"),
    ("2024-04", "2024-04-01", "2024-03-08", "2024-03-18"),
    ("2024-05", "2024-05-01", "2024-04-09", "2024-04-17"),
    ("2024-06", "2024-06-03", "2024-05-10", "2024-05-20"),
    ("2024-07", "2024-07-01", "2024-06-07", "2024-06-17"),
    ("2024-08", "2024-08-01", "2024-07-10", "2024-07-18"),
    ("2024-09", "2024-09-02", "2024-08-09", "2024-08-19"),
    ("2024-10", "2024-10-01", "2024-09-09", "2024-09-17"),
    ("2024-11", "2024-11-01", "2024-10-10", "2024-10-18"),
]


@pytest.mark.parametrize("nation", ["england", "wales"])
@pytest.mark.parametrize("month,published,last,determination", EC_2019_ENGLAND_AND_WALES)
def test_ec_registration_dates_2019_england_and_wales(nation, month, published, last, determination):
    tt = timetable_for("canvass.2019", nation=nation)
    assert monthly(tt, month) == (D(published), D(last), D(determination))


def test_ec_registration_dates_2019_scotland_january_notice():
    # 2 January is a Scottish bank holiday: the notice moves to Thursday 3 January 2019.
    tt = timetable_for("canvass.2019", nation="scotland")
    assert monthly(tt, "2019-01") == (D("2019-01-03"), D("2018-12-12"), D("2018-12-20"))


@pytest.mark.parametrize("month,published,last,determination", TAYSIDE_2024)
def test_tayside_vjb_monthly_notices_2024(month, published, last, determination):
    tt = timetable_for("canvass.2024", nation="scotland")
    assert monthly(tt, month) == (D(published), D(last), D(determination))


def test_easter_monday_separates_scotland_from_england_in_april_2024():
    scotland = timetable_for("canvass.2024", nation="scotland")["notice_of_alteration.2024-04"]
    england = timetable_for("canvass.2024", nation="england")["notice_of_alteration.2024-04"]
    assert (scotland.date, england.date) == (D("2024-04-01"), D("2024-04-02"))


def test_revised_register_1_december_2024():
    # EC (England): last applications Friday 22 November, determination Saturday 30 November.
    england = timetable_for("canvass.2024", nation="england")
    assert england["revised_register"].date == D("2024-12-01")  # a Sunday: dies non do not apply
    assert england["revised_register.determination"].date == D("2024-11-30")
    assert england["revised_register.last_application"].date == D("2024-11-22")
    # Tayside VJB (Scotland) counted from Friday 29 November: last applications Thursday 21 November.
    scotland = timetable_for("canvass.2024", nation="scotland")
    assert scotland["revised_register.last_application"].date == D("2024-11-21")
    assert scotland["revised_register.determination"].date == D("2024-11-30")


def test_publishing_the_revised_register_in_november_2024():
    # EC: publishing on 1 November moves the determination deadline to 31 October and the last
    # day for applications to 23 October 2024.
    tt = timetable_for("canvass.2024", nation="england", overrides={"revised_register": "2024-11-01"})
    assert tt["revised_register"].date == D("2024-11-01") and tt["revised_register"].overridden
    assert tt["revised_register.determination"].date == D("2024-10-31")
    assert tt["revised_register.last_application"].date == D("2024-10-23")
    assert not any("deferred" in w for w in tt.warnings)


def test_deferral_to_1_february_after_the_july_2024_general_election():
    # Many EROs (Cherwell among them) published on Saturday 1 February 2025 after the 4 July 2024
    # general election.
    tt = timetable_for("canvass.2024", nation="england", overrides={"revised_register": "2025-02-01"})
    assert tt["revised_register"].date == D("2025-02-01")
    assert tt["revised_register.determination"].date == D("2025-01-31")
    assert tt["revised_register.last_application"].date == D("2025-01-23")
    assert tt["statistical_return"].date == D("2025-02-01")
    assert any(w.startswith("revised_register deferred from 2024-12-01 to 2025-02-01") for w in tt.warnings)


def test_a_deferral_past_1_february_is_refused_naming_both_limits():
    with pytest.raises(PollflowError) as caught:
        timetable_for("canvass.2024", nation="england", overrides={"revised_register": "2025-02-03"})
    message = str(caught.value)
    assert "latest is 2024-12-01" in message and "2025-02-01" in message and "1 July" in message


def test_october_and_november_notices_are_optional_during_the_canvass():
    tt = timetable_for("canvass.2027", nation="wales")
    assert "optional during the canvass" in tt["notice_of_alteration.2027-10"].label
    assert "optional during the canvass" in tt["notice_of_alteration.2027-11"].label
    assert "optional" not in tt["notice_of_alteration.2027-09"].label
    assert "notice_of_alteration.2027-12" not in tt  # the revised register takes December's place


def test_absent_vote_and_overseas_cycles_2027():
    tt = timetable_for("canvass.2027", nation="england")
    assert tt["postal_reapplication_notices"].date == D("2027-01-30")
    assert tt["postal_votes_end"].date == D("2027-01-31")
    assert tt["signature_refresh_notices"].date == D("2027-01-31")
    reminders = tt["overseas_renewal_reminders"]
    assert (reminders.earliest, reminders.date, reminders.bound) == (
        D("2027-07-01"),
        D("2027-10-01"),
        "window",
    )
    assert tt["overseas_expiry"].date == D("2027-11-01")
    assert "RPR 2001 reg 23A" in reminders.citation


def test_postal_reapplication_began_with_the_first_expiries_in_2026():
    assert "postal_reapplication_notices" not in timetable_for("canvass.2025", nation="england")
    assert "postal_reapplication_notices" in timetable_for("canvass.2026", nation="england")


@pytest.mark.parametrize(
    "year,window",
    [
        (2024, ("2023-10-01", "2025-01-31")),
        (2028, ("2028-10-01", "2030-01-31")),
        (2029, ("2028-10-01", "2030-01-31")),
    ],
)
def test_compulsory_review_of_polling_districts(year, window):
    review = timetable_for(f"canvass.{year}", nation="scotland")["polling_district_review"]
    assert (review.earliest, review.date) == (D(window[0]), D(window[1]))


def test_no_review_outside_its_five_yearly_window():
    assert "polling_district_review" not in timetable_for("canvass.2027", nation="england")


def test_the_reformed_canvass_steps_apply_from_2020():
    before = timetable_for("canvass.2019", nation="england")
    after = timetable_for("canvass.2020", nation="england")
    steps = {"data_match", "route_allocation", "canvass_communication_a", "canvass_communication_b"}
    assert not steps & set(before.keys())
    assert steps <= set(after.keys())
    assert after["data_match"].earliest == D("2020-06-01") and after["data_match"].date == D("2020-08-31")


def test_the_canvass_start_moves_its_follow_ups():
    tt = timetable_for("canvass.2027", nation="england", overrides={"canvass_start": "2027-07-12"})
    assert tt["canvass_communication_b"].date == D("2027-07-12")
    assert tt["route2_follow_up"].date == D("2027-08-09")  # 28 days on
    assert tt["route_allocation"].date == D("2027-07-09")  # the working day before


@settings(max_examples=200, deadline=None)
@given(st.integers(2019, 2040), st.sampled_from(["england", "wales", "scotland"]))
def test_every_monthly_notice_is_on_a_working_day_and_its_deadlines_before_it(year, nation):
    tt = timetable_for(f"canvass.{year}", nation=nation)
    calendar = get_calendar(tt[f"notice_of_alteration.{year}-01"].calendar)
    for month in range(1, 12):
        published, last, determination = monthly(tt, f"{year}-{month:02d}")
        assert calendar.is_working_day(published), (year, month, published)
        # the first working day of its month
        assert published.month == month
        assert all(not calendar.is_working_day(published.replace(day=d)) for d in range(1, published.day))
        assert determination == published - dt.timedelta(days=14)
        assert calendar.is_working_day(last)
        assert calendar.working_days_before(determination, 6) == last


@settings(max_examples=100, deadline=None)
@given(st.integers(2019, 2040), st.sampled_from(["england", "wales", "scotland"]))
def test_the_registration_year_is_in_date_order_and_every_date_cites_its_source(year, nation):
    tt = timetable_for(f"canvass.{year}", nation=nation)
    dates = [e.date for e in tt.events]
    assert dates == sorted(dates)
    for event in tt.events:
        assert len(event.citation) > 5
        if event.earliest:
            assert event.earliest <= event.date
    assert tt["revised_register"].date == dt.date(year, 12, 1)


@pytest.mark.parametrize(
    "args,expected",
    [
        (["canvass.2027"], "needs --nation"),
        (["canvass.2027", "--nation", "northern-ireland"], "Northern Ireland has no annual canvass"),
        (["canvass.2018", "--nation", "wales"], "registration year 2018"),
        (["canvass.27", "--nation", "wales"], "canvass[.ORGANISATION].YYYY"),
        (["canvass.2027-05-06", "--nation", "wales"], "canvass[.ORGANISATION].YYYY"),
        (["canvass.2027", "local.hart.2027-05-06", "--nation", "england"], "on its own"),
        (
            ["canvass.2027", "--nation", "england", "--set", "notice_of_alteration.2027-03=2027-03-02"],
            "cannot be set",
        ),
        (
            ["canvass.2027", "--nation", "england", "--set", "revised_register=2028-02-02"],
            "later than the law allows",
        ),
    ],
)
def test_bad_registration_years_are_refused_in_one_line(capsys, args, expected):
    code = main(["timetable", *args])
    _, err = capsys.readouterr()
    assert code == 2
    assert expected in err and len(err.strip().splitlines()) == 1


def test_cli_json_uses_the_registration_year_vocabulary(capsys):
    code = main(["timetable", "canvass.2028", "--nation", "england", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["kind"], data["registration_year"], data["poll_date"]) == ("canvass", 2028, None)
    keys = {e["key"] for e in data["events"]}
    assert {
        "revised_register",
        "data_match",
        "notice_of_alteration.2028-03",
        "notice_of_alteration.2028-03.last_application",
        "notice_of_alteration.2028-03.determination",
        "postal_reapplication_notices",
        "signature_refresh_notices",
        "overseas_renewal_reminders",
        "overseas_expiry",
        "polling_district_review",
    } <= keys
    windows = {e["key"]: e for e in data["events"] if e["bound"] == "window"}
    assert {"data_match", "overseas_renewal_reminders", "polling_district_review"} <= set(windows)
    march = next(e for e in data["events"] if e["key"] == "notice_of_alteration.2028-03")
    assert march["date"] == "2028-03-01" and march["citation"].startswith("RPA 1983 s.13A")


def test_cli_table_names_the_year_not_a_polling_day(capsys):
    code = main(["timetable", "canvass.2027", "--nation", "scotland"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Registration year and annual canvass 2027 (scotland)" in out
    assert "polling day" not in out


def test_the_registration_years_work_has_one_task_per_monthly_notice():
    from timetables.work import plan_work

    work = {w.key: w for w in plan_work(timetable_for("canvass.2027", nation="england"))}
    march = work["publish_notice_of_alteration.2027-03"]
    assert march.title.endswith("(March 2027)")
    assert march.event_key == "notice_of_alteration.2027-03"
    assert march.due.date() == D("2027-03-01")
    assert work["determine_monthly_applications.2027-03"].due.date() == D("2027-02-15")
    assert len([k for k in work if k.startswith("publish_notice_of_alteration.")]) == 11
    # The revised register waits for its determinations and the personal canvass.
    publish = work["publish_revised_register"]
    assert publish.due.date() == D("2027-12-01")
    assert set(publish.depends_on) == {"determine_for_revised_register", "personal_canvass"}
    assert work["send_canvass_communications"].due.date() == D("2027-07-01")


def test_deferring_the_revised_register_moves_its_work():
    from timetables.work import plan_work

    tt = timetable_for("canvass.2024", nation="wales", overrides={"revised_register": "2025-02-01"})
    work = {w.key: w for w in plan_work(tt)}
    assert work["publish_revised_register"].due.date() == D("2025-02-01")
    assert work["determine_for_revised_register"].due.date() == D("2025-01-31")
