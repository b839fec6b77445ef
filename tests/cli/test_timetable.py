"""The ``pollflow timetable``, ``kinds`` and ``holidays`` commands, as users and tools see them."""

import csv
import io
import json
import subprocess
import sys

import pytest
from icalendar import Calendar

from pollflow.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_the_fixed_interface(capsys):
    code, out, _ = run(capsys, "timetable", "parl.2024-07-04", "--nation", "england", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert {"election_id", "kind", "nation", "poll_date", "warnings", "events"} <= set(data)
    assert (data["election_id"], data["kind"], data["nation"], data["poll_date"]) == (
        "parl.2024-07-04",
        "parl",
        "england",
        "2024-07-04",
    )
    event = next(e for e in data["events"] if e["key"] == "close_of_nominations")
    assert event["date"] == "2024-06-07" and event["time"] == "16:00"
    assert event["earliest"] is None and event["provisional"] is False
    assert event["citation"].startswith("PER r.1")
    for e in data["events"]:
        assert {"key", "label", "date", "time", "earliest", "citation", "provisional"} <= set(e)


def test_json_for_combined_polls_names_each_events_election(capsys):
    code, out, _ = run(
        capsys,
        "timetable",
        "local.hart.2026-05-07",
        "local.hart-parishes.2026-05-07",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert code == 0 and data["kind"] == "combined"
    nominations = [e for e in data["events"] if e["key"] == "close_of_nominations"]
    assert {e["election_id"] for e in nominations} == {
        "local.hart.2026-05-07",
        "local.hart-parishes.2026-05-07",
    }
    assert [e["election_id"] for e in data["events"] if e["key"] == "poll"] == [None]


def test_set_moves_dependent_events(capsys):
    code, out, _ = run(
        capsys,
        "timetable",
        "parl.x.by.2025-05-01",
        "--nation",
        "england",
        "--set",
        "close_of_nominations=2025-04-03T16:00",
        "--format",
        "json",
    )
    events = {e["key"]: e for e in json.loads(out)["events"]}
    assert code == 0
    assert events["close_of_nominations"]["overridden"] is True
    assert events["sopn"]["earliest"] == "2025-04-03" and events["sopn"]["date"] == "2025-04-04"


def test_csv(capsys):
    code, out, _ = run(capsys, "timetable", "sp.2026-05-07", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    registration = next(r for r in rows if r["key"] == "registration")
    assert (registration["date"], registration["time"]) == ("2026-04-20", "23:59")
    assert all(r["election_id"] == "sp.2026-05-07" for r in rows)


def test_ics_imports_with_alarms_and_london_times(capsys):
    code, out, _ = run(capsys, "timetable", "local.hart.2026-05-07", "--format", "ics")
    assert code == 0
    cal = Calendar.from_ical(out)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) >= 20
    close = next(e for e in events if str(e["uid"]).startswith("local.hart.2026-05-07.close_of"))
    start = close.decoded("dtstart")
    assert (start.isoformat(), str(start.tzinfo)) == ("2026-04-09T16:00:00+01:00", "Europe/London")
    assert len(list(close.walk("VALARM"))) == 3
    assert any(c.name == "VTIMEZONE" for c in cal.walk())
    registration = next(e for e in events if ".registration@" in str(e["uid"]))
    assert registration.decoded("dtstart").isoformat().startswith("2026-04-20T23:59")


def test_table_is_readable(capsys):
    code, out, _ = run(capsys, "timetable", "local.cardiff.2027-05-06")
    assert code == 0
    assert "Principal council election (Wales)" in out
    assert "Close of nominations" in out and "Thu 8 Apr 2027" in out
    assert "Voter Authority" not in out  # no photo ID in Wales


def test_provisional_dates_are_flagged_in_the_table(capsys):
    code, out, _ = run(capsys, "timetable", "sp.2031-05-01")
    assert code == 0
    assert "(provisional)" in out and "holidays refresh" in out


@pytest.mark.parametrize(
    "args,words",
    [
        (["timetable", "local.hart"], "malformed"),
        (["timetable", "parl.x.by.2025-05-01"], "needs --nation"),
        (["timetable", "local.hart.2026-05-07", "--kind", "town"], "unknown kind 'town'"),
        (["timetable", "local.hart.2026-05-09"], "not a working day"),
        (["timetable", "local.hart.2026-05-07", "--set", "sopn"], "is not KEY=DATE"),
        (["timetable", "local.hart.2026-05-07", "--set", "banana=2026-04-01"], "unknown key"),
        (
            [
                "timetable",
                "parl.x.by.2025-05-01",
                "--nation",
                "england",
                "--set",
                "close_of_nominations=2025-05-08",
            ],
            "after polling day",
        ),
        (["timetable", "local.hart.2300-05-01"], "outside every calendar"),
        (["timetable", "local.hart.2026-05-07", "--format", "pdf"], "unknown format 'pdf'"),
        (["timetable", "local.hart.2026-05-07", "--nation", "mars"], "unknown nation 'mars'"),
        (["timetable"], "Missing argument"),
        (["timetable", "local.hart.2026-05-07", "--colour"], "No such option"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, words):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert words in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and out == ""


def test_kinds_lists_every_kind_with_its_law(capsys):
    code, out, _ = run(capsys, "kinds")
    assert code == 0
    for kind in (
        "parl",
        "parl-by",
        "local",
        "parish",
        "community",
        "la-mayor",
        "ca-mayor",
        "pcc",
        "gla",
        "senedd",
        "sp",
        "nia",
        "ref",
        "ref-local",
        "recall",
    ):
        assert f"\n│ {kind} " in out or f"│ {kind} " in out, kind
    assert "3304" in out and "local-england.yaml" in out


def test_installed_command_answers_fast_and_without_prefect():
    """Read-only commands never import Prefect (it costs seconds)."""
    code = (
        "import sys; from pollflow.cli import main; "
        "rc = main(['timetable', 'local.hart.2026-05-07', '--format', 'json']); "
        "assert rc == 0; assert 'prefect' not in sys.modules, 'prefect'; "
        "assert 'sqlmodel' not in sys.modules, 'sqlmodel'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["poll_date"] == "2026-05-07"
