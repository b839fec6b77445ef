"""Real published timetables, pinned event by event.

Every date here was published for a real poll (sources in the domain notes,
../shared/domain/uk-statutory-timetables.md §12 and the sections each test names); a failure means
pollflow would have given an officer a wrong statutory date.
"""

import datetime as dt

import pytest

from timetables import timetable_for
from timetables.errors import OverrideError

D = dt.date.fromisoformat


def at(tt, key, election_id=None):
    found = tt.find(key, election_id)
    assert len(found) == 1, f"{key}: expected one event, found {len(found)}"
    return found[0]


def expect(tt, key, date, time=None, earliest=None, election_id=None):
    event = at(tt, key, election_id)
    assert event.date == D(date), f"{key}: {event.date} != {date}"
    if time is not None:
        assert event.time == dt.time.fromisoformat(time), f"{key}: {event.time} != {time}"
    assert event.earliest == (D(earliest) if earliest else None), f"{key} earliest"
    assert not event.provisional, key


class TestUKGeneralElection4July2024:
    """EC timetable for the 4 July 2024 general election (domain notes §12.1)."""

    @pytest.fixture(scope="class")
    @classmethod
    def tt(cls):
        return timetable_for("parl.2024-07-04", nation="england")

    @pytest.mark.parametrize(
        "key,date,time,earliest",
        [
            ("dissolution", "2024-05-30", "00:01", None),
            ("writ_received", "2024-05-31", None, None),
            ("notice_of_election", "2024-06-04", "16:00", "2024-05-31"),
            ("close_of_nominations", "2024-06-07", "16:00", None),
            ("withdrawals", "2024-06-07", "16:00", None),
            ("election_agents", "2024-06-07", "16:00", None),
            ("objections", "2024-06-07", "10:00", None),
            ("first_interim_notice", "2024-06-07", None, None),
            ("sopn", "2024-06-10", "16:00", "2024-06-07"),
            ("notice_of_poll", "2024-06-10", "16:00", "2024-06-07"),
            ("polling_stations_notice", "2024-06-10", "16:00", "2024-06-07"),
            ("second_interim_notice", "2024-06-26", None, "2024-06-10"),
            ("registration", "2024-06-18", "23:59", None),
            ("postal_vote", "2024-06-19", "17:00", None),
            ("proxy", "2024-06-26", "17:00", None),
            ("vac", "2024-06-26", "17:00", None),
            ("final_notice_of_alteration", "2024-06-27", None, None),
            ("polling_counting_agents", "2024-06-27", None, None),
            ("lost_postal_replacement_from", "2024-06-28", None, None),
            ("sub_agents", "2024-07-02", None, None),
            ("poll", "2024-07-04", "07:00", None),
            ("replacement_postal_ballots", "2024-07-04", "17:00", None),
            ("clerical_alterations", "2024-07-04", "21:00", None),
        ],
    )
    def test_event(self, tt, key, date, time, earliest):
        expect(tt, key, date, time, earliest)

    def test_polling_hours_and_objection_hours(self, tt):
        assert tt["poll"].until == dt.time(22, 0)
        assert tt["objections"].until == dt.time(17, 0)

    def test_expenses_due_9_august_for_a_result_declared_5_july(self, tt):
        # Stroud published Fri 9 Aug 2024; counts ended in the early hours of 5 July.
        expect(tt, "declaration", "2024-07-05")
        expect(tt, "expenses_return", "2024-08-09")

    def test_northern_ireland_absent_votes_14_working_days_and_no_vac(self):
        tt = timetable_for("parl.2024-07-04", nation="northern-ireland")
        expect(tt, "postal_vote", "2024-06-14", "17:00")
        expect(tt, "proxy", "2024-06-14", "17:00")
        expect(tt, "registration", "2024-06-18", "23:59")
        assert "vac" not in tt  # Northern Ireland has its own photo ID scheme

    def test_glasgow_lost_postal_replacements_from_28_june(self):
        tt = timetable_for("parl.glasgow-north.2024-07-04", nation="scotland")
        expect(tt, "lost_postal_replacement_from", "2024-06-28")

    def test_notice_published_on_31_may_in_na_h_eileanan_an_iar(self):
        # §1.2.7: published the day the writ arrived, before the 4 June deadline.
        tt = timetable_for(
            "parl.na-h-eileanan-an-iar.2024-07-04",
            nation="scotland",
            overrides={"notice_of_election": "2024-05-31T10:00"},
        )
        event = tt["notice_of_election"]
        assert (event.date, event.time, event.overridden) == (D("2024-05-31"), dt.time(10), True)


class TestUKGeneralElection12December2019:
    """The St Andrew's Day substitute holiday (Mon 2 Dec 2019, Scotland only) stopped the clock
    UK-wide for the election timetable, but not for registration (domain notes §1.2.4)."""

    @pytest.fixture(scope="class")
    @classmethod
    def tt(cls):
        return timetable_for("parl.2019-12-12", nation="england")

    def test_dissolution_6_november(self, tt):
        expect(tt, "dissolution", "2019-11-06", "00:01")

    def test_postal_deadline_26_november_on_the_union_calendar(self, tt):
        expect(tt, "postal_vote", "2019-11-26", "17:00")

    def test_registration_26_november_on_england_and_wales_calendar(self, tt):
        expect(tt, "registration", "2019-11-26", "23:59")

    def test_no_voter_authority_certificate_before_voter_id(self, tt):
        assert "vac" not in tt

    def test_citation_follows_the_law_then_in_force(self, tt):
        assert "Fixed-term Parliaments Act 2011" in tt["dissolution"].citation
        later = timetable_for("parl.2024-07-04", nation="england")
        assert "Dissolution and Calling of Parliament Act 2022" in later["dissolution"].citation


class TestEnglishLocalElections1May2025:
    """EC timetable via ALDC, Stroud and Lambeth (domain notes §12.5)."""

    @pytest.fixture(scope="class")
    @classmethod
    def tt(cls):
        return timetable_for("local.stroud.2025-05-01")

    @pytest.mark.parametrize(
        "key,date,time",
        [
            ("notice_of_election", "2025-03-25", None),
            ("close_of_nominations", "2025-04-02", "16:00"),
            ("withdrawals", "2025-04-02", "16:00"),
            ("election_agents", "2025-04-02", "16:00"),
            ("first_interim_notice", "2025-04-02", None),
            ("sopn", "2025-04-03", "16:00"),
            ("registration", "2025-04-11", "23:59"),
            # Good Friday 18 April and Easter Monday 21 April are skipped.
            ("postal_vote", "2025-04-14", "17:00"),
            ("proxy", "2025-04-23", "17:00"),
            ("vac", "2025-04-23", "17:00"),
            ("notice_of_poll", "2025-04-23", None),
            ("final_notice_of_alteration", "2025-04-24", None),
            ("polling_counting_agents", "2025-04-24", None),
            ("lost_postal_replacement_from", "2025-04-25", None),
            ("poll", "2025-05-01", "07:00"),
            ("emergency_proxy", "2025-05-01", "17:00"),
            ("replacement_postal_ballots", "2025-05-01", "17:00"),
        ],
    )
    def test_event(self, tt, key, date, time):
        assert at(tt, key).date == D(date)
        if time:
            assert at(tt, key).time == dt.time.fromisoformat(time)

    @pytest.mark.parametrize(
        "declared,due",
        [
            ("2025-05-01", "2025-06-05"),
            ("2025-05-02", "2025-06-06"),
            ("2025-05-03", "2025-06-09"),  # 35th day a Saturday: rolled to Monday
            ("2025-05-04", "2025-06-09"),
            ("2025-05-05", "2025-06-09"),
            ("2025-05-06", "2025-06-10"),
        ],
    )
    def test_expenses_by_day_of_declaration(self, declared, due):
        tt = timetable_for("local.stroud.2025-05-01", overrides={"declaration": declared})
        expect(tt, "expenses_return", due)

    def test_parish_expenses_28_days(self):
        tt = timetable_for(
            "local.stroud-parish.2025-05-01", kind="parish", overrides={"declaration": "2025-05-01"}
        )
        expect(tt, "expenses_return", "2025-05-29")
        assert "election_agents" not in tt


def test_ec_example_result_friday_6_may_2022_expenses_friday_10_june():
    """EC guidance for (A)ROs: a result declared Friday 6 May gives Friday 10 June."""
    tt = timetable_for("local.hart.2022-05-05", overrides={"declaration": "2022-05-06"})
    expect(tt, "expenses_return", "2022-06-10")


class TestScottishParliament6May2021:
    """Comhairle nan Eilean Siar, Fife, Ayrshire VJB (domain notes §12.11)."""

    @pytest.fixture(scope="class")
    @classmethod
    def tt(cls):
        return timetable_for("sp.c.na-h-eileanan-an-iar.2021-05-06")

    def test_notice_window_15_to_24_march(self, tt):
        expect(tt, "notice_of_election", "2021-03-24", earliest="2021-03-15")

    def test_nominations_31_march_with_easter_monday_skipped(self, tt):
        expect(tt, "close_of_nominations", "2021-03-31", "16:00")
        expect(tt, "withdrawals", "2021-03-31", "16:00")
        expect(tt, "election_agents", "2021-03-31", "16:00")
        assert tt["objections"].until == dt.time(17)
        assert tt["sopn"].earliest == D("2021-03-31")

    def test_covid_act_postal_deadline_21_working_days(self, tt):
        expect(tt, "postal_vote", "2021-04-06", "17:00")
        assert "Coronavirus" in tt["postal_vote"].citation

    def test_registration_and_proxy(self, tt):
        expect(tt, "registration", "2021-04-19", "23:59")
        expect(tt, "proxy", "2021-04-27", "17:00")

    def test_no_photo_id_and_17_00_replacements_before_may_2022(self, tt):
        assert "vac" not in tt
        expect(tt, "replacement_postal_ballots", "2021-05-06", "17:00")

    def test_2026_postal_deadline_back_to_11_working_days_and_22_00_replacements(self):
        tt = timetable_for("sp.2026-05-07")
        expect(tt, "postal_vote", "2026-04-21", "17:00")
        expect(tt, "replacement_postal_ballots", "2026-05-07", "22:00")


class TestScottishLocalElections5May2022:
    """Nominations skipped Easter Monday; registration fell on it (domain notes §1.2.3, §7.2)."""

    @pytest.fixture(scope="class")
    @classmethod
    def tt(cls):
        return timetable_for("local.glasgow-city.2022-05-05")

    def test_nominations_30_march(self, tt):
        assert tt.nation == "scotland"
        expect(tt, "close_of_nominations", "2022-03-30", "16:00")

    def test_registration_on_easter_monday_18_april(self, tt):
        expect(tt, "registration", "2022-04-18", "23:59")

    def test_replacement_ballots_until_22_00(self, tt):
        expect(tt, "replacement_postal_ballots", "2022-05-05", "22:00")


class TestGreaterLondonAuthority2May2024:
    """London Elects 2024 (domain notes §5.4, §1.2.1, §10)."""

    @pytest.fixture(scope="class")
    @classmethod
    def tt(cls):
        return timetable_for("mayor.london.2024-05-02")

    def test_notice_19_march_counting_maundy_thursday_as_a_working_day(self, tt):
        assert tt.kind == "gla"
        expect(tt, "notice_of_election", "2024-03-19")

    def test_nominations_24_working_days_sopn_22(self, tt):
        expect(tt, "close_of_nominations", "2024-03-27", "16:00")
        expect(tt, "sopn", "2024-04-02", "16:00")

    def test_sub_agents_30_april_kingston(self, tt):
        expect(tt, "sub_agents", "2024-04-30")

    def test_mayoral_expenses_70_days_constituency_35(self, tt):
        # EC guidance for the GLRO: 70 days for Mayor and London-wide; 35 for constituencies.
        expect(tt, "expenses_return", "2024-07-12")  # 3 May + 70 days = Fri 12 July
        constituency = timetable_for("gla.c.barnet-and-camden.2024-05-02")
        expect(constituency, "expenses_return", "2024-06-07")


def test_london_2_may_2024_combined_gla_and_borough_by_election():
    """§10: each election keeps its nomination stage; poll-wide deadlines appear once."""
    gla, borough = "gla.c.barnet-and-camden.2024-05-02", "local.barnet.east-finchley.by.2024-05-02"
    tt = timetable_for([gla, borough])
    assert tt.combined and tt.kind == "combined"
    expect(tt, "close_of_nominations", "2024-03-27", "16:00", election_id=gla)
    expect(tt, "sopn", "2024-04-02", "16:00", election_id=gla)
    expect(tt, "close_of_nominations", "2024-04-05", "16:00", election_id=borough)
    expect(tt, "sopn", "2024-04-08", "16:00", election_id=borough)
    registration = tt.find("registration")
    assert len(registration) == 1 and registration[0].election_id is None
    assert registration[0].date == D("2024-04-16")
    # The first interim notice follows each election's own nomination day.
    firsts = {e.election_id: e.date for e in tt.find("first_interim_notice")}
    assert firsts == {gla: D("2024-03-27"), borough: D("2024-04-05")}


def test_police_and_crime_commissioner_5_may_2016():
    """A Police Area Returning Officer's published timetable for 5 May 2016."""
    tt = timetable_for("pcc.lancashire.2016-05-05")
    expect(tt, "notice_of_election", "2016-03-30")
    expect(tt, "close_of_nominations", "2016-04-07", "16:00")
    expect(tt, "election_agents", "2016-04-07", "16:00")
    expect(tt, "sopn", "2016-04-08", "16:00")
    expect(tt, "registration", "2016-04-18", "23:59")
    expect(tt, "postal_vote", "2016-04-19", "17:00")
    expect(tt, "proxy", "2016-04-26", "17:00")
    expect(tt, "notice_of_poll", "2016-04-26")
    expect(tt, "polling_counting_agents", "2016-04-27")
    expect(tt, "expenses_return", "2016-07-15")  # "+ 70 days from result": 6 May + 70
    assert "vac" not in tt


def test_ely_north_parish_poll_21_september_2023():
    """East Cambridgeshire, Ely North (domain notes §11.4): the ERO chose 7 Sep (10 wd)."""
    tt = timetable_for(
        "local.ely.ely-north.2023-09-21",
        kind="parish",
        overrides={"second_interim_notice": "2023-09-07"},
    )
    expect(tt, "first_interim_notice", "2023-08-24")
    expect(tt, "second_interim_notice", "2023-09-07")
    expect(tt, "registration", "2023-09-05", "23:59")
    expect(tt, "postal_vote", "2023-09-06", "17:00")
    assert "vac" in tt  # voter ID applied at English local polls from 4 May 2023


def test_eu_referendum_23_june_2016():
    """EC timetable for the EU referendum (domain notes §9.1): any UK bank holiday skipped."""
    tt = timetable_for("ref.2016-06-23", nation="england")
    # Extended from 7 June by SI 2016/668 when the registration website failed (test_amendments.py)
    expect(tt, "registration", "2016-06-09", "23:59")
    expect(tt, "postal_vote", "2016-06-08", "17:00")
    expect(tt, "proxy", "2016-06-15", "17:00")
    expect(tt, "emergency_proxy", "2016-06-23", "17:00", earliest="2016-06-15")
    expect(tt, "publicity_restriction", "2016-05-27")
    expect(tt, "lost_postal_replacement_from", "2016-06-17")  # the 4th working day before
    expect(tt, "replacement_postal_ballots", "2016-06-23", "17:00")
    assert "vac" not in tt


def test_newport_2022_postal_rejection_notices_by_5_august():
    tt = timetable_for("local.newport.2022-05-05")
    assert tt.nation == "wales"
    expect(tt, "postal_rejection_notices", "2022-08-05")
    assert "vac" not in tt  # no photo ID at Welsh council polls
    assert "WSI 2021/1459" in tt["close_of_nominations"].citation


def test_senedd_7_may_2026_nominations_closed_9_april():
    tt = timetable_for("senedd.2026-05-07")
    expect(tt, "close_of_nominations", "2026-04-09", "16:00")
    assert "WSI 2025/864" in tt["close_of_nominations"].citation
    assert "vac" not in tt
    earlier = timetable_for("senedd.2021-05-06")
    assert "SI 2007/236" in earlier["close_of_nominations"].citation


def test_northern_ireland_council_elections_18_may_2023():
    """EC timetable for the NI local elections moved to 18 May by the coronation holiday."""
    tt = timetable_for("local.belfast.2023-05-18")
    assert tt.nation == "northern-ireland"
    expect(tt, "notice_of_election", "2023-04-11")
    expect(tt, "close_of_nominations", "2023-04-24", "13:00")
    expect(tt, "withdrawals", "2023-04-24", "13:00")
    expect(tt, "sopn", "2023-04-24", "18:00")
    expect(tt, "postal_vote", "2023-04-26", "17:00")
    expect(tt, "proxy", "2023-04-26", "17:00")
    expect(tt, "registration", "2023-04-28", "23:59")
    expect(tt, "electoral_identity_card", "2023-05-05")
    expect(tt, "poll", "2023-05-18", "07:00")
    assert "vac" not in tt


# --- Recall petitions (Recall of MPs Act 2015 s.9(2); domain notes §9.3) -----------------------


@pytest.mark.parametrize(
    "petition,nation,closes",
    [
        # The petition officers' notices: each closed a day later for each bank holiday in the six weeks.
        ("recall.north-antrim.2018-08-08", "northern-ireland", "2018-09-19"),  # August bank holiday
        ("recall.peterborough.2019-03-19", "england", "2019-05-01"),  # Good Friday and Easter Monday
        ("recall.brecon-and-radnorshire.2019-05-09", "wales", "2019-06-20"),  # spring bank holiday
        ("recall.rutherglen-and-hamilton-west.2023-06-20", "scotland", "2023-07-31"),  # none: six weeks
    ],
)
def test_recall_petition_closes_at_5pm_a_day_later_for_each_bank_holiday(petition, nation, closes):
    tt = timetable_for(petition, nation=nation)
    expect(tt, "signing_closes", closes, "17:00")
    assert at(tt, "poll").date == D(closes)  # signing runs to the close
    # The absent-signing deadlines count back from the close.
    assert at(tt, "proxy").date < D(closes) and at(tt, "postal_vote").date < at(tt, "proxy").date


PETERBOROUGH = "recall.peterborough.2019-03-19"


def test_a_petition_officer_may_close_a_petition_over_easter_after_the_six_weeks_alone():
    """Peterborough 2019 could have closed on 29 April (six weeks, no days added): the petition
    officer's date is taken, and the deadlines move with it; not before the six weeks end."""

    def closing(day):
        return timetable_for(PETERBOROUGH, nation="england", overrides={"signing_closes": day})

    tt = closing("2019-04-29")
    expect(tt, "signing_closes", "2019-04-29", "17:00")
    assert at(tt, "proxy").date == D("2019-04-17")  # 6 working days before, over Easter
    with pytest.raises(OverrideError, match="earliest is 2019-04-29"):
        closing("2019-04-26")
    with pytest.raises(OverrideError, match="latest is 2019-05-01"):
        closing("2019-05-02")


# --- Photo ID from 4 May 2023 at by-elections and recall petitions (SI 2022/1401 savings) --------


def test_selby_and_ainsty_by_election_20_july_2023_had_a_voter_authority_certificate_deadline():
    """The Electoral Commission's report on the July 2023 by-elections: VAC applications by 5pm
    on Wednesday 12 July 2023, the sixth working day before polling day."""
    tt = timetable_for("parl.selby-and-ainsty.by.2023-07-20", nation="england")
    expect(tt, "vac", "2023-07-12", "17:00")


def test_no_photo_id_at_the_west_lancashire_by_election_9_february_2023():
    tt = timetable_for("parl.west-lancashire.by.2023-02-09", nation="england")
    assert tt.find("vac") == []


@pytest.mark.parametrize(
    "election_id,photo_id",
    [
        ("parl.x.by.2023-05-03", False),
        ("parl.x.by.2023-05-04", True),
        ("parl.2023-05-04", False),  # a general election then would not have had it: 5 October 2023
        ("recall.x.2023-05-03", False),  # a petition whose signing began by 3 May 2023
        ("recall.x.2023-05-04", True),
        ("pcc.x.2023-05-04", False),
    ],
)
def test_photo_id_began_on_4_may_2023_for_by_elections_and_petitions(election_id, photo_id):
    nation = None if election_id.startswith("parl.2") else "england"
    tt = timetable_for(election_id, nation=nation) if nation else timetable_for(election_id)
    assert bool(tt.find("vac")) is photo_id
