"""Importing and reporting a 150,000-property canvass progress report (a large district council:
about 150,000 properties in 120 polling districts), on SQLite and PostgreSQL.

Measures, in one process:
- reading and checking the file (store.canvass.progress.read_progress), against the reference:
  the same file read with the standard library's csv.reader into a list (the floor for reading it
  at all);
- importing it (the properties replaced, the figures, the audit entry) and raising the follow-up
  work, in one transaction;
- the same file again (recognised by its SHA-256: nothing changes);
- the weekly report from the store (figures recomputed, with the trend) and its chart (PNG).

Targets: reading within 10x plain csv parsing; importing and raising the work under 15 s;
the report under 5 s.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from benchmarks.databases import databases
from store.canvass import find_canvass
from store.canvass import imports as canvass_import
from store.canvass import progress as canvass_progress
from store.canvass import report as canvass_report
from store.canvass import work as canvass_work
from store.db import get_engine, session_scope
from store.people import PersonRow, save_people
from store.planning import sync_poll
from timetables import timetable_for
from timetables.work import plan_work

PROPERTIES = 150_000
DISTRICTS = 120
REPORT_DAY = dt.date(2027, 9, 13)
HEADER = (
    "Property Reference,UPRN,Address,Polling District,Route,Response Status,First Contact Date,"
    "Last Contact Date,Number of Contacts,CF Sent,Personal Contact Date,Response Date,Potential Electors,"
    "Date Identified,ITRs Sent,First ITR Date,Last ITR Date,ITR Visited,Applications Received"
)
PEOPLE = [
    PersonRow(2, "Manager", "m@x.gov.uk", None, ["electoral-services-manager"]),
    PersonRow(3, "Officer", "o@x.gov.uk", None, ["electoral-services-officer"]),
    PersonRow(4, "ERO", "ero@x.gov.uk", None, ["electoral-registration-officer"]),
]


def uk(day: dt.date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else ""


def make_file(path: Path, seed: int = 2027) -> Path:
    """A realistic mix: most Route 1 (matched), a third Route 2, a few Route 3; responses arriving."""
    rng = random.Random(seed)
    start = dt.date(2027, 7, 1)
    lines = [HEADER]
    for n in range(PROPERTIES):
        d = rng.randrange(DISTRICTS)
        district = f"{chr(65 + d // 26)}{chr(65 + d % 26)}"
        route = rng.choices((1, 2, 3), weights=(62, 36, 2))[0]
        first = start + dt.timedelta(days=rng.randrange(0, 60))
        replied = rng.random() < (0.75 if route == 1 else 0.5)
        status = rng.choice(("No Change", "Changes")) if replied else "No Response"
        contacts = 1 + (rng.random() < 0.6) + (rng.random() < 0.3)
        last = min(first + dt.timedelta(days=14 * (contacts - 1)), REPORT_DAY)
        visit = last if route == 2 and contacts == 3 and rng.random() < 0.5 else None
        potentials = rng.choices((0, 1, 2), weights=(90, 8, 2))[0]
        identified = min(first + dt.timedelta(days=rng.randrange(0, 20)), REPORT_DAY) if potentials else None
        itrs = rng.randrange(0, 4) if potentials else 0
        first_itr = min(identified + dt.timedelta(days=10), REPORT_DAY) if itrs else None
        lines.append(
            ",".join(
                [
                    f"P{n:07d}",
                    str(100_000_000_000 + n),
                    f"{n % 300 + 1} Some Street",
                    district,
                    str(route),
                    status,
                    uk(first),
                    uk(last),
                    str(contacts),
                    "Y" if contacts >= 2 and route == 2 else "N",
                    uk(visit),
                    uk(last) if replied else "",
                    str(potentials),
                    uk(identified),
                    str(itrs),
                    uk(first_itr),
                    uk(first_itr),
                    "Y" if itrs == 3 else "N",
                    str(rng.randrange(0, potentials + 1) if potentials else 0),
                ]
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def reference(path: Path) -> float:
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == PROPERTIES + 1
    return time.perf_counter() - start


def run() -> None:
    from tasks.canvass.chart import render_chart

    path = make_file(Path(tempfile.mkdtemp(prefix="bench-canvass-file-")) / "progress.csv")
    floor = min(reference(path) for _ in range(3))
    start = time.perf_counter()
    parsed = canvass_progress.read_progress(path, today=REPORT_DAY, year=2027)
    read = time.perf_counter() - start
    print(
        f"{PROPERTIES:,} properties ({path.stat().st_size / 1e6:.1f} MB): read and checked in {read:.2f} s; "
        f"plain csv.reader {floor:.2f} s; ratio {read / floor:.1f}x "
        f"(target within 10x: {'MET' if read < 10 * floor else 'NOT MET'})"
    )
    tt = timetable_for("canvass.2027", nation="england")
    planned = plan_work(tt)
    for name, url in databases("bench-canvass"):
        engine = get_engine(url)
        with session_scope(engine) as session:
            save_people(session, PEOPLE, actor="bench")
            poll, _ = sync_poll(
                session, "canvass.2027", tt, planned, overrides={}, overlay=None, actor="bench"
            )
        start = time.perf_counter()
        with session_scope(engine) as session:
            poll = find_canvass(session, "canvass.2027")
            outcome = canvass_import.import_progress(session, poll, parsed, "bench")
            work = canvass_work.raise_follow_up_work(session, poll, "bench", groups=outcome.groups)
        imported = time.perf_counter() - start
        start = time.perf_counter()
        with session_scope(engine) as session:
            again = canvass_import.import_progress(
                session, find_canvass(session, "canvass.2027"), parsed, "bench"
            )
        repeat = time.perf_counter() - start
        assert again.already
        start = time.perf_counter()
        with session_scope(engine) as session:
            report = canvass_report.build_report(session, find_canvass(session, "canvass.2027"))
        figures = time.perf_counter() - start
        start = time.perf_counter()
        chart = render_chart("Bench", report.report_date, report.figures, report.previous, report.history)
        drawn = time.perf_counter() - start
        print(
            f"{name}: imported and raised {len(work.raised)} work items in {imported:.2f} s "
            f"({imported / floor:.0f}x csv parsing; target under 15 s: "
            f"{'MET' if imported < 15 else 'NOT MET'}); "
            f"the same file again {repeat * 1000:.0f} ms; report from the store {figures:.2f} s "
            f"({figures / floor:.1f}x csv parsing) and chart {drawn:.2f} s ({len(chart) / 1024:.0f} KB); "
            f"target report under 5 s: {'MET' if figures + drawn < 5 else 'NOT MET'}"
        )
