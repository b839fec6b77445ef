"""The canvass flows under Prefect's test harness: a registration year planned (on SQLite and
PostgreSQL) and its progress imported, twice to no effect; the weekly report to the manager by
real SMTP with the chart attached, by GOV.UK Notify and text with a signed link, the link fetched
over HTTP; the deferral of the revised register offered when a September by-election is planned,
withdrawn when it moves to January, and accepted by the ERO on the command line."""

import datetime as dt
import io
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy import func, select

from pollflow.cli import main as _main
from store.canvass import deferral as canvass_deferral
from store.canvass import imports as canvass_import
from store.canvass import progress as canvass_progress
from store.canvass import work as canvass_work
from store.models import AuditEntry, Notification, Poll, WorkItem
from store.models.canvass import CanvassImport, CanvassProperty
from tests.support.helpers import london, plan, seed_people
from tests.support.identity import tokens_for_by

pytestmark = pytest.mark.usefixtures("prefect")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "canvass"
WEEK1 = FIXTURES / "progress-2027-09-06.csv"
WEEK2 = FIXTURES / "progress-2027-09-13.csv"
D = dt.date.fromisoformat
BY_ELECTION = "local.wychwood.abbey.by.2027-09-16"


def main(args):
    with tokens_for_by(args):  # a --by stands for that person's own token
        return _main(args)


def totals(store):
    with store.session() as s:
        return {
            table.__tablename__: s.scalar(select(func.count()).select_from(table))
            for table in (WorkItem, AuditEntry, Notification, CanvassImport, CanvassProperty)
        }


def test_a_canvass_year_planned_and_imported_under_prefect_twice_changes_nothing(store):
    from flows.run_canvass import run_canvass

    with store.session() as s:
        seed_people(s)
    args = dict(
        canvass_id="canvass.2027",
        nation="england",
        progress_file=str(WEEK1),
        actor="alice@wychwood.gov.uk",
        today=D("2027-09-06"),
    )
    first = run_canvass(**args)
    assert first["poll_created"] and first["work_items"] == 43 and not first["unassigned"]
    assert first["import"]["status"] == "current" and len(first["import"]["work"]["raised"]) == 10
    before = totals(store)
    again = run_canvass(**{k: v for k, v in args.items() if k != "nation"})  # the stored nation
    assert not again["poll_created"] and not again["work_added"] and not again["events_moved"]
    assert again["import"]["status"] == "already imported"
    assert totals(store) == before
    with store.session() as s:
        poll = s.scalars(select(Poll).where(Poll.key == "canvass.2027")).one()
        assert poll.poll_date == D("2027-12-01")
        publish = s.scalars(select(WorkItem).where(WorkItem.key == "publish_revised_register")).one()
        assert publish.due_at == london("2027-12-01T17:00") and publish.owner_id is not None
        follow = s.scalars(select(WorkItem).where(WorkItem.key == "canvass:follow_ups:AA")).one()
        assert follow.source == "canvass" and follow.status == "open"


@pytest.fixture
def year_with_reports(sqlite_store):
    """canvass.2027 planned, two weekly progress reports imported (plain functions: quick)."""
    with sqlite_store.session() as s:
        seed_people(s)
        poll, *_ = plan(s, ids=["canvass.2027"], kinds=None, nation="england")
        for path, day in ((WEEK1, "2027-09-06"), (WEEK2, "2027-09-13")):
            parsed = canvass_progress.read_progress(path, today=D(day), year=2027)
            outcome = canvass_import.import_progress(s, poll, parsed, "test")
            canvass_work.raise_follow_up_work(s, poll, "test", groups=outcome.groups)
    return sqlite_store


def test_the_weekly_report_is_emailed_with_its_chart_and_linked_on_the_web(
    year_with_reports, smtp, web_server
):
    from flows.run_canvass import canvass_report
    from tests.flows.test_plan_and_check import read_artifacts

    result = canvass_report(canvass_id="canvass.2027", as_of=london("2027-09-13T07:30"))
    sent = result["reports"]["canvass.2027"]
    assert (sent["week"], sent["report_date"], sent["queued"]) == ("2027-W37", "2027-09-13", 1)
    assert result["delivery"]["sent"] == 1
    smtp.wait_for(1)
    (email,) = smtp.messages
    assert email["To"] == "alice@wychwood.gov.uk"  # the electoral services manager
    assert (
        email["Subject"]
        == "Canvass progress, Registration year 2027: 61.1% responded (Monday 13 September 2027)"
    )
    body = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    route2 = next(line for line in body.splitlines() if line.startswith("Route 2 (unmatched)"))
    assert route2.split()[3:] == ["11", "5", "6", "45.5%", "40.0%", "+5.4", "pts"]
    assert "Route 2 follow-ups (28 days from first contact)" in body and "1 September" not in body
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_filename() == "canvass-progress-canvass.2027-2027-W37.png"
    chart = attachment.get_content()
    image = Image.open(io.BytesIO(chart))
    assert image.format == "PNG" and image.size == (1100, 500)
    assert len(image.getcolors(1 << 20)) > 50  # a drawn chart, not a blank page

    # The link in the email: the report page and the same chart, over HTTP.
    link = next(line.strip() for line in body.splitlines() if line.strip().startswith(web_server))
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Route 2 (unmatched)" in page.text and "45.5%" in page.text and "+5.4 pts" in page.text
    png = requests.get(f"{link}/chart.png", timeout=10)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content == chart
    token = link.rsplit("/", 1)[1]
    assert requests.get(f"{web_server}/canvass/report/{token[:-2]}xx", timeout=10).status_code == 404
    assert requests.get(f"{web_server}/canvass/report/nonsense/chart.png", timeout=10).status_code == 404

    # Prefect shows the report too.
    table = read_artifacts(["canvass-progress-canvass-2027"])
    assert table and "Route 3 (defined)" in table[0].data
    markdown = read_artifacts(["canvass-report-canvass-2027"])
    assert markdown and "Notices requiring an application" in markdown[0].data

    # The same week again: nothing new is sent.
    again = canvass_report(canvass_id="canvass.2027", as_of=london("2027-09-15T07:30"))
    assert again["reports"]["canvass.2027"]["queued"] == 0 and not again["reports"]["canvass.2027"]["changed"]
    assert len(smtp.messages) == 1


def test_through_notify_the_report_is_text_with_a_link(year_with_reports, notify, web_server):
    from flows.run_canvass import canvass_report

    result = canvass_report(as_of=london("2027-09-13T07:30"), text=True)  # every year in season
    assert list(result["reports"]) == ["canvass.2027"] and result["delivery"]["sent"] == 2
    by_type = {n["type"]: n for n in notify.sent}
    email, sms = by_type["email"], by_type["sms"]
    assert email["to"] == "alice@wychwood.gov.uk" and sms["to"] == "01234 567890"
    assert "Route 1 (matched)" in email["personalisation"]["body"]
    text = sms["personalisation"]["body"]
    assert text.startswith("Canvass canvass.2027 at 13 Sep: 61.1% responded (R1 83.3%, R2 45.5%, R3 100.0%)")
    link = text.rsplit(" ", 1)[1].strip()
    assert link.startswith(f"{web_server}/canvass/report/")
    assert requests.get(link, timeout=10).status_code == 200


def test_no_report_without_a_progress_file(sqlite_store):
    from flows.run_canvass import canvass_report

    with sqlite_store.session() as s:
        plan(s, ids=["canvass.2027"], kinds=None, nation="england")
    assert canvass_report(as_of=london("2027-09-13T07:30"))["reports"] == {}
    assert main(["canvass", "report", "canvass.2027"]) == 2


def offer(store):
    with store.session() as s:
        return s.scalars(select(WorkItem).where(WorkItem.key == canvass_deferral.DEFERRAL_OFFER)).first()


def messages(store, kind):
    with store.session() as s:
        return s.scalars(select(Notification).where(Notification.kind == kind)).all()


def test_the_deferral_offered_withdrawn_and_accepted_on_the_command_line(sqlite_store, capsys):
    from flows.plan_election import plan_election
    from flows.replan import replan

    with sqlite_store.session() as s:
        seed_people(s)
        plan(s, ids=["canvass.2027"], kinds=None, nation="england")
    plan_election(election_ids=[BY_ELECTION], actor="alice@wychwood.gov.uk")
    offered = offer(sqlite_store)
    assert (
        offered.status == "open"
        and offered.title == "Decide whether to defer the revised register to 1 February"
    )
    assert (
        offered.owner_role == "electoral-registration-officer" and "Abbey by-election" in offered.description
    )
    (message,) = messages(sqlite_store, "canvass-deferral-offered")
    assert message.recipient == "dan@wychwood.gov.uk"
    assert "pollflow canvass defer canvass.2027 --by dan@wychwood.gov.uk" in message.body

    replan(election_id=BY_ELECTION, poll_date=D("2028-01-13"))  # out of the canvass period
    assert offer(sqlite_store).status == "cancelled"
    assert [m.recipient for m in messages(sqlite_store, "canvass-deferral-withdrawn")] == [
        "dan@wychwood.gov.uk"
    ]
    replan(election_id="local.wychwood.abbey.by.2028-01-13", poll_date=D("2027-09-16"))
    assert offer(sqlite_store).status == "open"

    # Only the ERO decides; a date past 1 February is refused; both before Prefect starts.
    capsys.readouterr()
    assert main(["canvass", "defer", "canvass.2027", "--by", "bob@wychwood.gov.uk"]) == 2
    assert (
        main(
            ["canvass", "defer", "canvass.2027", "--by", "dan@wychwood.gov.uk", "--publish-on", "2028-02-02"]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 2 and "not an electoral registration officer" in err[0] and "by 1 February 2028" in err[1]
    )

    assert main(["canvass", "defer", "canvass.2027", "--by", "dan@wychwood.gov.uk"]) == 0
    out = capsys.readouterr().out
    assert "deferred to 2028-02-01 because of local.wychwood.abbey.by.2027-09-16" in out
    assert "publish_revised_register: 2027-12-01 -> 2028-02-01" in out
    assert "warning: revised_register deferred from 2027-12-01 to 2028-02-01" in " ".join(out.split())
    with sqlite_store.session() as s:
        publish = s.scalars(select(WorkItem).where(WorkItem.key == "publish_revised_register")).one()
        assert publish.due_at == london("2028-02-01T17:00")
        determine = s.scalars(select(WorkItem).where(WorkItem.key == "determine_for_revised_register")).one()
        assert determine.due_at == london("2028-01-31T17:00")
        decided = s.scalars(select(AuditEntry).where(AuditEntry.action == "revised register deferred")).one()
        assert decided.actor == "dan@wychwood.gov.uk" and decided.details["to"] == "2028-02-01"
        assert decided.details["polls"][0]["poll_key"] == BY_ELECTION
        assert any("deferred from 2027-12-01" in w for w in decided.details["warnings"])
    accepted = offer(sqlite_store)
    assert accepted.status == "done" and accepted.completed_by_id is not None
    assert "decided by dan@wychwood.gov.uk" in accepted.note
    assert [m.recipient for m in messages(sqlite_store, "canvass-deferral-accepted")] == [
        "alice@wychwood.gov.uk"
    ]
    # Running the canvass again keeps the ERO's decision.
    from flows.run_canvass import run_canvass

    assert not run_canvass(canvass_id="canvass.2027")["events_moved"]

    assert main(["canvass", "undefer", "canvass.2027", "--by", "dan@wychwood.gov.uk"]) == 0
    with sqlite_store.session() as s:
        publish = s.scalars(select(WorkItem).where(WorkItem.key == "publish_revised_register")).one()
        assert publish.due_at == london("2027-12-01T17:00")
    assert offer(sqlite_store).status == "open"  # the choice is open again


def test_import_on_the_command_line_checks_the_file_before_prefect(year_with_reports, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        WEEK1.read_text().replace("P007,100060002001,1 Bell Lane,AB,2", "P007,100060002001,1 Bell Lane,AB,9")
    )
    code = main(
        [
            "canvass",
            "import",
            "canvass.2027",
            str(bad),
            "--today",
            "2027-09-20",
            "--report-date",
            "2027-09-20",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "line 8: route '9' is not 1, 2 or 3" in err and len(err.strip().splitlines()) == 1
    week3 = tmp_path / "week3.csv"
    week3.write_text(
        WEEK2.read_text().replace(
            "P005,100060001005,5 Abbey Road,AA,2,No Response", "P005,100060001005,5 Abbey Road,AA,2,Responded"
        )
    )
    args = [
        "canvass",
        "import",
        "canvass.2027",
        str(week3),
        "--today",
        "2027-09-20",
        "--by",
        "bob@wychwood.gov.uk",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Imported 18 properties, report as at 2027-09-20 (current)." in out
    assert "Follow-up work: 0 raised, 2 updated, 0 reopened, 1 closed" in out
    assert main(args) == 0
    assert "Already imported" in capsys.readouterr().out
    assert (
        main(["canvass", "list", "canvass.2027", "--need", "visits", "--district", "AA", "--format", "csv"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("need,district,property_ref,uprn,route,due,overdue")
    assert [line.split(",")[2] for line in lines[1:]] == ["P006", "P004"]
