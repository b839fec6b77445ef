"""Planning a big combined poll, outside Prefect's own start-up.

A district, its parishes and a PCC election on one day, with a council overlay adding a
"confirm the polling station" task for each of 160 stations: well over 200 work items and 600
reminders. Reports seconds to plan (timetable, work, store) on SQLite and PostgreSQL, and the
ratio against a reference run in the same process: inserting the same rows with bare SQLAlchemy
Core (the floor for writing that much). Target: planning under 2 s.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert

from benchmarks.databases import databases
from store.db import get_engine, session_scope
from store.models import Poll, Reminder, WorkItem
from store.people import PersonRow, save_people
from store.planning import sync_poll
from timetables import timetable_for
from timetables.work import load_overlay, plan_work

IDS = ["local.wychwood.2027-05-06", "local.wychwood-parishes.2027-05-06", "pcc.thames-valley.2027-05-06"]
KINDS = ["local", "parish", "pcc"]
PEOPLE = [
    PersonRow(2, "Manager", "m@x.gov.uk", None, ["electoral-services-manager"]),
    PersonRow(3, "Officer", "o@x.gov.uk", None, ["electoral-services-officer", "postal-votes-officer"]),
    PersonRow(4, "RO", "ro@x.gov.uk", None, ["returning-officer"]),
    PersonRow(5, "ERO", "ero@x.gov.uk", None, ["electoral-registration-officer", "staffing-officer"]),
    PersonRow(6, "Finance", "f@x.gov.uk", None, ["finance-officer"]),
]


def overlay_file(folder: Path) -> Path:
    lines = ["add:"]
    for n in range(1, 161):
        lines += [
            f"  confirm_station_{n:03d}:",
            f"    title: Confirm polling station {n} (keys, access, equipment)",
            "    owner: electoral-services-officer",
            f"    due: {{before: poll, working_days: {5 + n % 10}}}",
            "    depends_on: [book_polling_stations]",
        ]
    path = folder / "stations.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def plan_once(url: str, overlay: Path) -> tuple[float, int, int]:
    engine = get_engine(url)
    start = time.perf_counter()
    tt = timetable_for(IDS, kind=KINDS)
    planned = plan_work(tt, load_overlay(overlay))
    with session_scope(engine) as session:
        sync_poll(session, tt.election_id, tt, planned, overrides={}, overlay=str(overlay), actor="bench")
    return time.perf_counter() - start, len(planned), sum(len(p.reminders) for p in planned)


def floor_once(url: str, items: int, reminders: int) -> float:
    """The same number of rows inserted with Core: no timetable, no diffing, no owners."""
    engine = get_engine(url)
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    with engine.begin() as connection:
        poll_id = connection.execute(
            insert(Poll)
            .values(
                key=f"floor-{uuid.uuid4()}",
                title="floor",
                nation="england",
                poll_date=now.date(),
                status="planned",
                created_at=now,
                updated_at=now,
            )
            .returning(Poll.id)
        ).scalar_one()
        ids = (
            connection.execute(
                insert(WorkItem).returning(WorkItem.id),
                [
                    dict(
                        poll_id=poll_id,
                        key=f"k{n}",
                        title="t",
                        owner_role="r",
                        due_at=now,
                        anchor="poll",
                        needs_signoff=False,
                        source="catalogue",
                        status="open",
                        created_at=now,
                    )
                    for n in range(items)
                ],
            )
            .scalars()
            .all()
        )
        connection.execute(
            insert(Reminder),
            [dict(work_item_id=ids[n % items], label=f"l{n}", remind_at=now) for n in range(reminders)],
        )
    return time.perf_counter() - start


def run() -> None:
    overlay = overlay_file(Path(tempfile.mkdtemp(prefix="bench-overlay-")))
    timetable_for(IDS, kind=KINDS)  # build the calendars once, as a running service has
    for name, url in databases("bench-planning"):
        with session_scope(get_engine(url)) as session:
            save_people(session, PEOPLE, actor="bench")
        first, items, reminders = plan_once(url, overlay)
        again, _, _ = plan_once(url, overlay)  # the second run changes nothing
        floor = min(floor_once(url, items, reminders) for _ in range(3))
        print(
            f"{name}: planned {items} work items and {reminders} reminders in {first:.2f} s "
            f"(replanning unchanged: {again:.2f} s); bare inserts of as many rows: {floor:.3f} s; "
            f"ratio {first / floor:.1f}x the floor; target under 2 s: {'MET' if first < 2 else 'NOT MET'}"
        )
