"""The weekly report's page, behind the signed link in its messages, in a real browser (Debian's
Chromium, headless): the tables read as the email's, the chart loads; a forged, foreign or expired
link finds nothing."""

import datetime as dt
from pathlib import Path

import pytest
import requests
from sqlmodel import select

from store.canvass import imports as canvass_import
from store.canvass import progress as canvass_progress
from store.models import Poll
from tests.support.helpers import london, plan, seed_people
from tests.support.identity import seed_account
from tests.support.workspace import Client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "canvass"
D = dt.date.fromisoformat


@pytest.fixture
def weekly(sqlite_store, web_server):
    """Two progress reports imported and the week's report made (the task's plain function)."""
    from tasks.canvass.reports import weekly_report

    with sqlite_store.session() as s:
        seed_people(s)
        poll, *_ = plan(s, ids=["canvass.2027"], kinds=None, nation="england")
        for name, day in (
            ("progress-2027-09-06.csv", "2027-09-06"),
            ("progress-2027-09-13.csv", "2027-09-13"),
        ):
            parsed = canvass_progress.read_progress(FIXTURES / name, today=D(day), year=2027)
            canvass_import.import_progress(s, poll, parsed, "test")
    return weekly_report("canvass.2027", london("2027-09-13T07:30"), False, False, "test", None)


def test_the_report_page_in_a_browser(weekly, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    response = page.goto(weekly.link)
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Registration year 2027"
    rows = page.locator("table").first.locator("tbody tr")
    assert rows.count() == 4
    assert rows.nth(1).inner_text().split("\t") == [
        "Route 2 (unmatched)",
        "11",
        "5",
        "6",
        "1",
        "45.5%",
        "+5.4 pts",
    ]
    overdue = page.locator("td.overdue")
    assert overdue.count() == 3  # follow-ups, invitations and further invitations have overdue work
    image = page.locator("img")
    image.wait_for()
    page.wait_for_function("document.querySelector('img').complete")
    assert page.evaluate("document.querySelector('img').naturalWidth") == 1100
    page.screenshot(path=str(tmp_path / "canvass-report.png"), full_page=True)
    context.close()


def test_links_that_cannot_be_used(weekly, web_server, monkeypatch):
    from tasks.canvass.messages import report_token
    from tasks.messaging.tokens import sign

    base = f"{web_server}/canvass/report"
    expired = report_token("canvass.2027", weekly.week, now=dt.datetime.now(dt.UTC) - dt.timedelta(weeks=11))
    assert requests.get(f"{base}/{expired}", timeout=10).status_code == 410
    calendar = sign("calendar", {"poll": "canvass.2027", "week": weekly.week})  # another purpose
    assert requests.get(f"{base}/{calendar}", timeout=10).status_code == 404
    other_week = report_token("canvass.2027", "2027-W30")
    assert requests.get(f"{base}/{other_week}/chart.png", timeout=10).status_code == 404
    assert requests.get(f"{base}/{report_token('canvass.2031', weekly.week)}", timeout=10).status_code == 404


def test_the_registration_years_page_in_the_workspace_links_each_weekly_report(
    weekly, sqlite_store, web_server
):
    with sqlite_store.session() as s:
        seed_account(s, "dan@wychwood.gov.uk", "Dan Registration", ["electoral-registration-officer"])
        poll = s.exec(select(Poll).where(Poll.key == "canvass.2027")).one()
    dan = Client(web_server)
    assert dan.sign_in("dan@wychwood.gov.uk").status_code == 303
    page = dan.get(f"/polls/{poll.id}")
    assert page.status_code == 200 and "Canvass reports" in page.text
    link = page.text.split('href="')[1:]
    report = next(h.split('"')[0] for h in link if "/canvass/report/" in h)
    assert requests.get(report, timeout=10).status_code == 200
