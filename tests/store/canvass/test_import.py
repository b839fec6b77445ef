"""The canvass progress report: reading the EMS's file (every bad line named, nothing written),
importing it (the same file twice is one import; a newer report supersedes), the report's figures
against a hand-made file, and the follow-up work the figures call for.

The fixture tests/fixtures/canvass/progress-2027-09-06.csv is the registration year 2027 in
England (canvass start Thursday 1 July 2027; last day for applications to the revised register
Monday 22 November 2027); each expected figure below is worked out by hand from it.
"""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store import canvass
from store.canvass import imports as canvass_import
from store.canvass import progress as canvass_progress
from store.canvass import report as canvass_report
from store.canvass import work as canvass_work
from store.models import AuditEntry, Reminder, WorkItem
from store.models.canvass import CanvassImport, CanvassProperty
from tests.support.helpers import london, plan, seed_people

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "canvass"
WEEK1 = FIXTURES / "progress-2027-09-06.csv"
WEEK2 = FIXTURES / "progress-2027-09-13.csv"
D = dt.date.fromisoformat
HEADER = (
    "Property Reference,UPRN,Polling District,Route,Response Status,First Contact Date,Last Contact Date,"
    "Number of Contacts,CF Sent,Personal Contact Date,Potential Electors,Date Identified,ITRs Sent,"
    "Applications Received"
)


def write(tmp_path, text: str, name: str = "progress.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(path, **kwargs):
    kwargs.setdefault("today", D("2027-09-06"))
    return canvass_progress.read_progress(path, **kwargs)


@pytest.fixture
def year(store):
    """canvass.2027 (England) planned, with the team."""
    with store.session() as s:
        seed_people(s)
        poll, *_ = plan(s, ids=["canvass.2027"], kinds=None, nation="england")
        return poll.key


def import_file(store, key, path, today="2027-09-06", actor="test", report_date=None):
    with store.session() as s:
        poll = canvass.find_canvass(s, key)
        day = D(report_date) if report_date else None
        parsed = canvass_progress.read_progress(path, today=D(today), year=2027, report_date=day)
        outcome = canvass_import.import_progress(s, poll, parsed, actor)
        work = canvass_work.raise_follow_up_work(s, poll, actor, groups=outcome.groups)
        return outcome, work


# --- reading ------------------------------------------------------------------------------------


def test_the_sample_file_reads_with_an_ems_header_and_uk_dates():
    parsed = read(WEEK1)
    assert len(parsed.rows) == 18 and parsed.report_date == D("2027-09-06")  # no column: today
    p = {r.property_ref: r for r in parsed.rows}
    assert (p["P004"].route, p["P004"].status, p["P004"].first_contact) == (2, "outstanding", D("2027-08-07"))
    assert p["P003"].route == 1 and p["P003"].status == "no_change"  # "Route 1", "No Change"
    assert p["P009"].status == "empty"  # "Void"
    assert p["P007"].personal_contact and p["P007"].personal_contact_date == D("2027-08-26")
    assert p["P016"].itrs == 3 and p["P016"].itr_visit
    assert p["P018"].first_contact is None and p["P018"].contacts == 0
    assert parsed.notes == []  # every optional column is there


def test_other_header_spellings_tab_separated_and_iso_dates(tmp_path):
    text = (
        "PROPERTY_URN\tpd code\tCanvass Route\tresponse type\tDate Sent\tATTEMPTS\tReport Date\tWard\n"
        "X1\tAA\tR2\tAwaiting Response\t2027-08-01 00:00:00\t1\t2027-09-06\tAbbey\n"
        "X2\tAA\tmatched\tComplete\t2027-07-01\t1\t2027-09-06\tAbbey\n"
    )
    parsed = read(write(tmp_path, text), today=D("2027-09-30"))
    assert [(r.property_ref, r.route, r.status) for r in parsed.rows] == [
        ("X1", 2, "outstanding"),
        ("X2", 1, "responded"),
    ]
    assert parsed.report_date == D("2027-09-06")  # from the file, not today
    assert {"personal_contact", "canvass_form", "potential_electors"} <= {n.split()[1] for n in parsed.notes}


BAD_LINES = [
    ("P1,,AA,4,No Response,01/07/2027,,1,N,,0,,0,0", "route '4' is not 1, 2 or 3"),
    ("P1,,AA,2,Maybe,01/07/2027,,1,N,,0,,0,0", "status 'Maybe' is not a response status"),
    ("P1,,AA,2,No Response,31/02/2027,,1,N,,0,,0,0", "first_contact '31/02/2027' is not a date"),
    ("P1,,AA,2,No Response,next week,,1,N,,0,,0,0", "first_contact 'next week' is not a date"),
    (
        "P1,,AA,2,No Response,01/07/2027,08/09/2027,2,N,,0,,0,0",
        "last_contact 2027-09-08 is after the report date",
    ),
    ("P1,,AA,2,No Response,01/07/2027,,1,N,,2,,0,0", "2 potential elector(s) but no date identified"),
    (
        "P1,,AA,2,No Response,01/07/2027,,1,N,,1,01/08/2027,1,2",
        "applications (2) more than potential_electors",
    ),
    (
        "P1,,AA,2,No Response,01/07/2027,01/06/2027,1,N,,0,,0,0",
        "last_contact 2027-06-01 is before first_contact",
    ),
    ("P1,12AB,AA,2,No Response,01/07/2027,,1,N,,0,,0,0", "UPRN '12AB' is not a UPRN"),
    ("P1,,AA,2,No Response,01/07/2027,,one,N,,0,,0,0", "contacts 'one' is not a whole number"),
    ("P1,,AA,2,No Response,01/07/2027,,1,perhaps,,0,,0,0", "canvass_form 'perhaps' is not yes or no"),
    ("P1,,,2,No Response,01/07/2027,,1,N,,0,,0,0", "no polling district"),
    ("P1,,AA,2,No Response,01/07/2027,,1,N,,0,,0,0,extra", "15 fields but the header has 14 columns"),
]


@pytest.mark.parametrize(
    "line,expected", BAD_LINES, ids=[e.split(" ")[0] + str(i) for i, (_, e) in enumerate(BAD_LINES)]
)
def test_a_bad_line_refuses_the_file_naming_its_line(tmp_path, line, expected):
    good = "P0,,AA,1,No Response,01/07/2027,,1,N,,0,,0,0"
    path = write(tmp_path, "\n".join([HEADER, good, good.replace("P0", "P9"), line]) + "\n")
    with pytest.raises(canvass_progress.CanvassFileError) as caught:
        read(path)
    message = str(caught.value)
    assert f"line 4: {expected}" in message, message
    assert "nothing imported" in message and caught.value.lines == [4]


def test_a_duplicate_property_names_both_lines(tmp_path):
    row = "P1,,AA,2,No Response,01/07/2027,,1,N,,0,,0,0"
    path = write(tmp_path, "\n".join([HEADER, row, row.replace("P1", "P2"), row]) + "\n")
    with pytest.raises(canvass_progress.CanvassFileError, match=r"line 4: property P1 is also on line 2"):
        read(path)


def test_every_bad_line_is_numbered_however_many(tmp_path):
    rows = [f"P{n},,AA,{4 if n % 2 else 2},No Response,01/07/2027,,1,N,,0,,0,0" for n in range(200)]
    with pytest.raises(canvass_progress.CanvassFileError) as caught:
        read(write(tmp_path, "\n".join([HEADER, *rows]) + "\n"))
    error = caught.value
    assert len(error.problems) == 100 and error.lines == list(range(3, 202, 2))
    assert "and 95 more problems" in str(error) and "bad lines: 3, 5, 7," in str(error)
    assert "199, 201)" in str(error)
    assert len(str(error).splitlines()) == 1


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", "the file is empty"),
        ("  \n\n", "the file is empty"),
        (HEADER + "\n", "no properties in the file, only the header line"),
        ("Property Reference,Polling District,Route\nP1,AA,1\n", "missing column(s) status"),
        ("Property Reference;Polling District\n", "missing column(s)"),
        ("Property Reference|District|Route|Status|First Contact\n", "the header is one column"),
        ("UPRN,Route,Route No\n", "'Route No' and 'Route' are both route"),
    ],
)
def test_file_level_problems(tmp_path, text, expected):
    with pytest.raises(canvass.CanvassError) as caught:
        read(write(tmp_path, text))
    assert expected in str(caught.value) and "nothing imported" in str(caught.value)


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    text = (
        HEADER
        + "\nP1,,AA,1,No Response,01/07/2027,,1,N,,0,,0,0\nP2,,Ch\xe2teau,1,No Response,,,0,N,,0,,0,0\n"
    )
    with pytest.raises(canvass.CanvassError, match=r"line 3: not UTF-8 text .*CSV UTF-8"):
        read(write(tmp_path, text, encoding="latin-1"))


def test_report_dates_that_cannot_be_right(tmp_path):
    row = "P1,,AA,1,No Response,01/07/2027,,1,N,,0,,0,0"
    path = write(tmp_path, f"{HEADER}\n{row}\n")
    with pytest.raises(
        canvass.CanvassError, match="report date 2027-09-10 is in the future .today is 2027-09-06"
    ):
        read(path, report_date=D("2027-09-10"))
    with pytest.raises(canvass.CanvassError, match="is not in the 2028 registration year"):
        read(path, year=2028)
    dated = write(tmp_path, f"{HEADER},Report Date\n{row},2027-09-01\n{row.replace('P1', 'P2')},2027-09-02\n")
    with pytest.raises(
        canvass.CanvassError, match=r"several dates: 2027-09-01 \(line 2\), 2027-09-02 \(line 3\)"
    ):
        read(dated)
    one = write(tmp_path, f"{HEADER},Report Date\n{row},2027-09-01\n", name="one.csv")
    with pytest.raises(
        canvass.CanvassError, match="reports on 2027-09-01 but the report date given is 2027-09-02"
    ):
        read(one, report_date=D("2027-09-02"))


def test_line_ranges():
    assert canvass_progress.line_ranges([7, 4, 10, 11, 12, 40]) == "4, 7, 10-12, 40"
    assert canvass_progress.line_ranges([]) == ""


# --- importing ----------------------------------------------------------------------------------


def counts(store, key):
    with store.session() as s:
        poll = canvass.find_canvass(s, key)
        return (
            s.scalar(select(func.count()).select_from(CanvassImport).where(CanvassImport.poll_id == poll.id)),
            canvass_import.count_properties(s, poll),
            s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.poll_id == poll.id)),
            s.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.source == "canvass")),
        )


def test_report_figures_against_the_hand_made_file(store, year):
    outcome, _ = import_file(store, year, WEEK1)
    f = outcome.figures
    routes = f["routes"]
    assert {
        r: (routes[r]["properties"], routes[r]["responded"], routes[r]["outstanding"]) for r in routes
    } == {
        "1": (6, 5, 1),
        "2": (10, 4, 6),
        "3": (2, 1, 1),
        "all": (18, 10, 8),
    }
    assert (routes["1"]["rate"], routes["2"]["rate"], routes["all"]["rate"]) == (0.8333, 0.4, 0.5556)
    assert routes["2"]["not_contacted"] == 1  # P018
    needs = {
        k: (v["properties"], v["overdue"], v["due_soon"], v["earliest_due"]) for k, v in f["needs"].items()
    }
    assert needs == {
        # P004 first contacted 7 August (30 days before), no second contact: overdue since 4 September;
        # P012 since 29 July; P005 (12 August) is due on 9 September.
        "follow_ups": (3, 2, 1, "2027-07-29"),
        "canvass_forms": (3, 1, 0, "2027-08-26"),  # P012 overdue; P004, P005 later
        "visits": (4, 0, 0, "2027-09-23"),  # P004, P005, P006, P012: none has had a personal contact
        "route3_switch": (1, 1, 0, "2027-08-02"),  # P010: the care home's manager never replied
        # P014 identified 20 July: invitation due 17 August, overdue; P013 (10 August) due Tuesday
        # 7 September.
        "invitations": (2, 1, 1, "2027-08-17"),
        "further_invitations": (1, 1, 0, "2027-08-12"),  # P015: one ITR on 15 July, nothing since
        "requirement_notices": (1, 0, 0, "2027-11-22"),  # P016: three ITRs and a visit
    }
    assert f["needs"]["invitations"]["people"] == 3
    assert f["potential_electors"] == {"found": 7, "applied": 2, "awaiting": 5}
    assert f["days_to_last_application"] == 77 and f["last_application"] == "2027-11-22"
    assert f["districts"]["AA"]["follow_ups"] == 2 and f["districts"]["BA"]["route2_outstanding"] == 1


def test_the_28_days_roll_to_the_next_working_day(store, year, tmp_path):
    # Identified Saturday 31 July 2027: 28 days on is Saturday 28 August; Monday 30 August is the
    # summer bank holiday, so the invitation is due Tuesday 31 August.
    row = "P1,,AA,1,No Change,01/07/2027,,1,N,,1,31/07/2027,0,0"
    outcome, _ = import_file(store, year, write(tmp_path, f"{HEADER}\n{row}\n"))
    assert outcome.figures["needs"]["invitations"]["earliest_due"] == "2027-08-31"


def test_the_same_file_twice_changes_nothing_and_a_bad_file_writes_nothing(store, year, tmp_path):
    import_file(store, year, WEEK1)
    before = counts(store, year)
    again, work = import_file(store, year, WEEK1)
    assert again.already and not work.changed and counts(store, year) == before
    bad = write(
        tmp_path, WEEK1.read_text().replace("P005,100060001005,5 Abbey Road,AA,2", "P005,x,5 Abbey Road,AA,7")
    )
    with pytest.raises(
        canvass_progress.CanvassFileError, match="line 6: UPRN 'x' is not a UPRN.*line 6: route '7'"
    ):
        import_file(store, year, bad)
    assert counts(store, year) == before


def test_a_newer_report_supersedes_and_an_older_one_is_kept_for_the_record(store, year):
    first, _ = import_file(store, year, WEEK1)
    second, _ = import_file(store, year, WEEK2, today="2027-09-13")
    assert (second.status, second.superseded_id) == ("current", first.import_id)
    # An older report arriving late changes nothing but the history.
    with store.session() as s:
        poll = canvass.find_canvass(s, year)
        statuses = dict(s.execute(select(CanvassImport.report_date, CanvassImport.status)).all())
        assert statuses == {D("2027-09-06"): "superseded", D("2027-09-13"): "current"}
        assert (
            s.scalar(select(CanvassProperty.status).where(CanvassProperty.property_ref == "P012"))
            == "responded"
        )
        report = canvass_report.build_report(s, poll)
        assert [h["report_date"] for h in report.history] == ["2027-09-06", "2027-09-13"]
        assert report.previous["report_date"] == "2027-09-06"  # the week before, for the change
        assert report.figures["routes"]["all"]["responded"] == 11
        audit = s.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "canvass progress imported")
        ).all()
        assert [a["status"] for a in audit] == ["current", "current"]
        assert audit[1]["supersedes"] == first.import_id


def test_a_late_older_report_joins_the_trend_only(store, year):
    import_file(store, year, WEEK2, today="2027-09-13")
    # The file does not say its date: without one given it would be taken as today's.
    late, work = import_file(store, year, WEEK1, today="2027-09-13", report_date="2027-09-06")
    assert late.status == "superseded" and not work.changed
    with store.session() as s:
        poll = canvass.find_canvass(s, year)
        assert (
            s.scalar(select(CanvassProperty.status).where(CanvassProperty.property_ref == "P012"))
            == "responded"
        )
        assert [h["report_date"] for h in canvass_report.build_report(s, poll).history] == [
            "2027-09-06",
            "2027-09-13",
        ]


# --- follow-up work -----------------------------------------------------------------------------


def items(store):
    with store.session() as s:
        return {w.key: w for w in s.scalars(select(WorkItem).where(WorkItem.source == "canvass")).all()}


def test_follow_up_work_is_raised_by_district_owned_by_role_and_due_by_the_rule(store, year):
    _, work = import_file(store, year, WEEK1)
    assert sorted(work.raised) == [
        "canvass:canvass_forms:AA",
        "canvass:canvass_forms:BA",
        "canvass:follow_ups:AA",
        "canvass:follow_ups:BA",
        "canvass:further_invitations:BA",
        "canvass:invitations:BA",
        "canvass:requirement_notices:BA",
        "canvass:route3_switch:AB",
        "canvass:visits:AA",
        "canvass:visits:BA",
    ]
    found = items(store)
    follow = found["canvass:follow_ups:AA"]
    assert follow.title.startswith("Follow up 2 Route 2 properties in polling district AA")
    assert follow.due_at == london("2027-09-04T17:00")  # P004's 28 days from 7 August
    assert "1 overdue, 1 due within 7 days" in follow.description and "P004, P005" in follow.description
    assert follow.owner_role == "electoral-services-officer"
    visits = found["canvass:visits:AA"]
    assert visits.owner_role == "electoral-services-manager" and visits.due_at == london("2027-09-23T17:00")
    notices = found["canvass:requirement_notices:BA"]
    assert notices.owner_role == "electoral-registration-officer"
    assert notices.event_key == "notice_requiring_application"
    with store.session() as s:
        owner = s.get(type(follow).__mro__[0], follow.id).owner_id
        assert owner is not None
        reminder = s.scalars(select(Reminder).where(Reminder.work_item_id == follow.id)).one()
        assert reminder.remind_at == london("2027-09-04T08:00")  # as the catalogue's on-the-day reminders
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("canvass work%"))).all()
        assert actions == ["canvass work raised"] * 10


def test_work_is_updated_closed_and_reopened_as_the_numbers_change(store, year, tmp_path):
    import_file(store, year, WEEK1)
    _, work = import_file(store, year, WEEK2, today="2027-09-13")
    assert sorted(work.closed) == [
        "canvass:canvass_forms:BA",
        "canvass:follow_ups:BA",  # P012 replied on 10 September
        "canvass:route3_switch:AB",  # P010 moved to Route 2
        "canvass:visits:BA",
    ]
    assert sorted(work.raised) == ["canvass:canvass_forms:AB", "canvass:follow_ups:AB", "canvass:visits:AB"]
    assert sorted(work.updated) == [
        "canvass:follow_ups:AA",
        "canvass:further_invitations:BA",
        "canvass:invitations:BA",
    ]
    found = items(store)
    closed = found["canvass:follow_ups:BA"]
    assert closed.status == "done" and "13 September 2027 shows no property needing it" in closed.note
    assert found["canvass:follow_ups:AA"].title.startswith("Follow up 1 Route 2 property")
    assert found["canvass:follow_ups:AA"].due_at == london("2027-09-09T17:00")
    # P012 stops replying again (a correction from the EMS): the work comes back, with its history.
    week3 = write(
        tmp_path,
        WEEK2.read_text()
        .replace(
            "P012,100060003001,1 Church Street,BA,2,Responded,",
            "P012,100060003001,1 Church Street,BA,2,No Response,",
        )
        .replace(",10/09/2027,0,,0,,,N,0", ",,0,,0,,,N,0"),
        name="week3.csv",
    )
    _, work = import_file(store, year, week3, today="2027-09-20")
    assert {"canvass:follow_ups:BA", "canvass:visits:BA", "canvass:canvass_forms:BA"} <= set(work.reopened)
    assert items(store)["canvass:follow_ups:BA"].status == "open"
    with store.session() as s:
        details = s.scalars(
            select(AuditEntry.details).where(
                AuditEntry.action == "canvass work updated", AuditEntry.subject == "canvass:follow_ups:AA"
            )
        ).first()
        assert (details["was_properties"], details["properties"]) == (2, 1)


def test_raising_the_work_again_from_the_same_report_changes_nothing(store, year):
    import_file(store, year, WEEK1)
    before = counts(store, year)
    with store.session() as s:
        work = canvass_work.raise_follow_up_work(s, canvass.find_canvass(s, year), "test")
    assert not work.changed and work.unchanged == 10 and counts(store, year) == before


def test_replanning_the_year_leaves_canvass_work_alone(store, year):
    import_file(store, year, WEEK1)
    with store.session() as s:
        _, changes, *_ = plan(s, ids=["canvass.2027"], kinds=None, nation="england")
    assert not any(k.startswith("canvass:") for k in changes.work_cancelled)
    assert all(w.status == "open" for w in items(store).values())


def test_the_migration_matches_the_tables(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    mine = {"canvass_import", "canvass_property", "canvass_report", "canvass_attachment"}
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    ours = [d for d in diff if any(t in repr(d) for t in mine)]
    assert ours == []


# --- the read-only commands (no Prefect) ---------------------------------------------------------


def test_check_lists_every_problem_and_report_reads_the_store(store, year, tmp_path, capsys):
    import json

    from PIL import Image

    from pollflow.cli import main

    bad = write(
        tmp_path, f"{HEADER}\nP1,,AA,4,No Response,01/07/2027,,1,N,,0,,0,0\nP1,,AA,2,Maybe,,,0,N,,0,,0,0\n"
    )
    listed = tmp_path / "problems.csv"
    assert main(["canvass", "check", str(bad), "--today", "2027-09-06", "--problems", str(listed)]) == 2
    out, err = capsys.readouterr()
    assert "3 problems on 2 lines" in out and err.strip().endswith(
        "3 problems on 2 lines: it would not be imported"
    )
    assert listed.read_text().splitlines()[1:] == [
        "2,\"route '4' is not 1, 2 or 3 (1 matched, 2 unmatched, 3 defined)\"",
        "3,property P1 is also on line 2: give each property once",
        "3,\"status 'Maybe' is not a response status: outstanding, responded, no change, changes or empty\"",
    ]
    assert main(["canvass", "check", str(WEEK1), "--today", "2027-09-06"]) == 0
    assert "18 properties, report as at 2027-09-06: no problems" in capsys.readouterr().out

    import_file(store, year, WEEK1)
    chart = tmp_path / "chart.png"
    assert (
        main(["canvass", "report", year, "--chart", str(chart), "--today", "2027-09-13", "--districts"]) == 0
    )
    out = capsys.readouterr().out
    assert "report as at Mon 06 Sep 2027" in out and "(7 days old)" not in out
    assert "Route 2 (unmatched)" in out and "40.0%" in out and "By polling district" in out
    assert Image.open(chart).size == (1100, 500)
    assert main(["canvass", "report", year, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["figures"]["needs"]["follow_ups"]["overdue"] == 2 and len(data["history"]) == 1
    assert main(["canvass", "report", year, "--chart", str(tmp_path / "chart.jpg")]) == 2
    assert main(["canvass", "list", year, "--need", "walks"]) == 2
    assert main(["canvass", "list", year, "--district", "ZZ"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert (
        "the chart is a PNG image" in err[0]
        and "unknown need 'walks'" in err[1]
        and "districts are AA, AB, BA" in err[2]
    )
    assert main(["canvass", "imports", year]) == 0
    assert "progress-2027-09-06.csv" in capsys.readouterr().out
