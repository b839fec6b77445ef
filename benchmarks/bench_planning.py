"""Planning a big combined poll, outside Prefect's own start-up.

A district, its parishes and a PCC election on one day, with a council overlay adding a
"confirm the polling station" task for each of 160 stations: well over 200 work items and 600
reminders. Reports seconds to plan (timetable, work, store) on SQLite and PostgreSQL, and the
ratio against a reference run in the same process: inserting the same rows with bare SQLAlchemy
Core (the floor for writing that much). Target: planning under 2 s. Also replanning unchanged and
replanning a polling day moved a week (every deadline, due date and reminder moves), with the
statements each sends: the writes are set-based, so that number does not grow with the poll.
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
from store.scratch import statements
from timetables import timetable_for
from timetables.work import load_overlay, plan_work

IDS = ["local.wychwood.2027-05-06", "local.wychwood-parishes.2027-05-06", "pcc.thames-valley.2027-05-06"]
MOVED = [i.replace("2027-05-06", "2027-05-13") for i in IDS]  # polling day a week later
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


def plan_once(url: str, overlay: Path, ids: list[str] = IDS) -> tuple[float, int, int, int]:
    """Seconds to plan (or replan) the poll, its work items and reminders, and the statements sent."""
    engine = get_engine(url)
    with statements(engine) as sent:
        start = time.perf_counter()
        tt = timetable_for(ids, kind=KINDS)
        planned = plan_work(tt, load_overlay(overlay))
        key = timetable_for(IDS, kind=KINDS).election_id  # the poll keeps its key when its day moves
        with session_scope(engine) as session:
            sync_poll(session, key, tt, planned, overrides={}, overlay=str(overlay), actor="bench")
        elapsed = time.perf_counter() - start
    return elapsed, len(planned), sum(len(p.reminders) for p in planned), len(sent)


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
    timetable_for(MOVED, kind=KINDS)
    for name, url in databases("bench-planning"):
        with session_scope(get_engine(url)) as session:
            save_people(session, PEOPLE, actor="bench")
        first, items, reminders, sent = plan_once(url, overlay)
        again, _, _, sent_again = plan_once(url, overlay)  # the second run changes nothing
        moved, _, _, sent_moved = plan_once(url, overlay, MOVED)
        floor = min(floor_once(url, items, reminders) for _ in range(3))
        print(
            f"{name}: planned {items} work items and {reminders} reminders in {first:.2f} s "
            f"({sent} statements); replanning unchanged: {again:.2f} s ({sent_again}); "
            f"polling day moved: {moved:.2f} s ({sent_moved}); bare inserts of as many rows: "
            f"{floor:.3f} s; ratio {first / floor:.1f}x the floor; "
            f"target under 2 s: {'MET' if first < 2 else 'NOT MET'}"
        )
