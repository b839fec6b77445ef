"""``pollflow holidays refresh`` against a real HTTP server standing in for GOV.UK."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import holidays as holidays_package
import pytest

from pollflow.cli import main
from timetables import calendars, paths, timetable_for
from timetables.calendars import DIVISIONS, HOLIDAYS_SUBDIVISION


class FakeGovUk:
    """Serves whatever body and status the test sets, as GOV.UK would serve its JSON."""

    def __init__(self):
        self.body, self.status, self.requests = b"{}", 200, 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                fake.requests += 1
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(fake.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bank-holidays.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, data, status=200):
        self.body = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.status = status


@pytest.fixture
def gov_uk(monkeypatch):
    fake = FakeGovUk()
    monkeypatch.setenv("POLLFLOW_BANK_HOLIDAYS_URL", fake.url)
    yield fake
    fake.server.shutdown()


def gov_uk_feed(first_year, last_year, extra=()):
    """GOV.UK's format, built from the holidays package (as GOV.UK would publish them)."""
    feed = {}
    for division in DIVISIONS:
        days = holidays_package.country_holidays(
            "GB", subdiv=HOLIDAYS_SUBDIVISION[division], years=range(first_year, last_year + 1)
        )
        events = [
            {"title": n, "date": d.isoformat(), "notes": "", "bunting": True}
            for d, n in sorted(days.items())
            if d.weekday() < 5
        ]
        events += [{"title": t, "date": d, "notes": "", "bunting": True} for d, t in extra]
        feed[division] = {"division": division, "events": events}
    return feed


def test_refresh_extends_coverage_and_keeps_older_years(gov_uk, capsys):
    gov_uk.serve(gov_uk_feed(2020, 2029, extra=[("2027-07-01", "Invented holiday")]))
    before = timetable_for("local.hart.by.2029-03-08")
    assert before["notice_of_election"].provisional

    assert main(["holidays", "refresh"]) == 0
    out = capsys.readouterr().out
    assert "Covers 2012-01-01 to 2029-12-31 (was 2012-01-01 to 2028-12-31)" in out
    assert "added   2027-07-01 Invented holiday" in out
    assert "pollflow replan" in out
    assert gov_uk.requests == 1

    saved = json.loads(paths.user_bank_holidays().read_text())
    dates = {e["date"] for e in saved["scotland"]["events"]}
    assert "2015-11-30" in dates  # a year GOV.UK's feed no longer carries is kept
    after = timetable_for("local.hart.by.2029-03-08")
    assert not after["notice_of_election"].provisional
    assert not calendars.get_calendar("england-and-wales").is_working_day(dt.date(2027, 7, 1))


@pytest.mark.parametrize(
    "body,status,words",
    [
        (b"not json", 200, "did not return JSON"),
        (json.dumps({"scotland": {"events": []}}).encode(), 200, "missing division"),
        (b"{}", 503, "cannot fetch bank holidays"),
    ],
)
def test_refresh_refuses_bad_data_and_writes_nothing(gov_uk, capsys, body, status, words):
    gov_uk.serve(body, status)
    assert main(["holidays", "refresh"]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not paths.user_bank_holidays().exists()


def test_refresh_from_a_server_that_is_down(monkeypatch, capsys):
    monkeypatch.setenv("POLLFLOW_BANK_HOLIDAYS_URL", "http://127.0.0.1:9/bank-holidays.json")
    assert main(["holidays", "refresh"]) == 2
    assert "cannot fetch bank holidays" in capsys.readouterr().err


def test_add_day_of_mourning_from_the_command_line(capsys):
    before = timetable_for("local.hart.2027-05-06")
    assert (
        main(
            [
                "holidays",
                "add-day",
                "2027-04-20",
                "--name",
                "National day of mourning",
                "--division",
                "england-and-wales",
                "--authority",
                "Proclamation",
            ]
        )
        == 0
    )
    assert "Added 2027-04-20" in capsys.readouterr().out
    after = timetable_for("local.hart.2027-05-06")
    assert after["close_of_nominations"].date < before["close_of_nominations"].date
    assert main(["holidays", "add-day", "2027-04-20", "--name", "Again"]) == 2
    assert "already a day of thanksgiving or mourning" in capsys.readouterr().err
    assert main(["holidays", "add-day", "2027-13-01", "--name", "Bad"]) == 2
    assert "not a date" in capsys.readouterr().err
    assert main(["holidays", "add-day", "2027-04-21", "--name", "Bad", "--division", "wales"]) == 2
    assert "unknown division" in capsys.readouterr().err
    assert main(["holidays", "status"]) == 0
    assert "National day of mourning (england-and-wales)" in capsys.readouterr().out
