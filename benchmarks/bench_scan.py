"""The deadline scan over 100 elections of 300 work items each (30,000 items, 90,000 reminders).

The scan runs every 15 minutes. After catching up once, each check looks at what fell due in
the last 15 minutes: reminders (sent at 09:00 on their day, so the 09:00 check is the busy one),
work past its due date, and missed statutory deadlines. Reports milliseconds per check on SQLite
and PostgreSQL (a quiet check, and the busy 09:00 one, which also renders the messages), and the
ratio against a reference in the same process: one indexed query counting the due reminders.
Target: the scan under 100 ms. The busy check's time is mostly writing its messages (rendering
each from its template), so it is reported per message. Each check's statements are counted too:
its reads and writes are set-based, so that number does not grow with the work it finds.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text

from benchmarks.databases import databases
from store.db import get_engine, session_scope
from store.models import Person, PersonRole, Poll, Reminder, WorkItem
from store.scratch import statements
from tasks.messaging.alerts import scan

LONDON = ZoneInfo("Europe/London")
POLLS, ITEMS = 100, 300
START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=LONDON)


def populate(url: str) -> None:
    """100 polls of 300 work items, due 17:00 on working days over ten weeks; 3 reminders each."""
    engine = get_engine(url)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        people = (
            connection.execute(
                insert(Person).returning(Person.id),
                [
                    dict(email=f"officer{n}@x.gov.uk", name=f"Officer {n}", active=True, created_at=now)
                    for n in range(20)
                ],
            )
            .scalars()
            .all()
        )
        connection.execute(
            insert(PersonRole), [dict(person_id=p, role="electoral-services-officer") for p in people]
        )
        connection.execute(insert(PersonRole), [dict(person_id=people[0], role="electoral-services-manager")])
        for p in range(POLLS):
            poll_id = connection.execute(
                insert(Poll).returning(Poll.id),
                [
                    dict(
                        key=f"local.bench{p}.2027-05-06",
                        title=f"Bench {p}",
                        nation="england",
                        poll_date=dt.date(2027, 5, 6),
                        status="planned",
                        created_at=now,
                        updated_at=now,
                    )
                ],
            ).scalar_one()
            items = []
            for n in range(ITEMS):
                day = START.date() + dt.timedelta(days=(n * 7 + p) % 70)
                while day.weekday() >= 5:
                    day += dt.timedelta(days=1)
                items.append(
                    dict(
                        poll_id=poll_id,
                        key=f"task_{n}",
                        title=f"Task {n} of poll {p}",
                        owner_role="electoral-services-officer",
                        owner_id=people[(n + p) % len(people)],
                        due_at=dt.datetime.combine(day, dt.time(17), tzinfo=LONDON),
                        anchor="poll",
                        event_key="notice_of_poll" if n % 50 == 0 else None,
                        needs_signoff=False,
                        source="catalogue",
                        status="open",
                        created_at=now,
                    )
                )
            ids = connection.execute(insert(WorkItem).returning(WorkItem.id, WorkItem.due_at), items).all()
            connection.execute(
                insert(Reminder),
                [
                    dict(
                        work_item_id=item_id,
                        label=label,
                        remind_at=dt.datetime.combine(
                            due.astimezone(LONDON).date() - dt.timedelta(days=days), dt.time(9), tzinfo=LONDON
                        ),
                    )
                    for item_id, due in ids
                    for label, days in (("5 before", 7), ("1 before", 1), ("day", 0))
                ],
            )
    with engine.begin() as connection:
        # A database in service has planner statistics (autovacuum keeps them); a freshly
        # bulk-loaded one does not, and PostgreSQL then picks poor plans.
        connection.execute(text("ANALYZE"))


def check(url: str, as_of: dt.datetime) -> tuple[float, int, int]:
    """Seconds for one check, the messages it queued and the statements it sent (an executemany
    counts once: it is one call to the driver)."""
    engine = get_engine(url)
    with statements(engine) as sent:
        start = time.perf_counter()
        with session_scope(engine) as session:
            result = scan(session, as_of)
        elapsed = time.perf_counter() - start
    return elapsed, result.queued, len(sent)


def reference(url: str, as_of: dt.datetime) -> float:
    start = time.perf_counter()
    with get_engine(url).connect() as connection:
        connection.execute(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.sent_at.is_(None), Reminder.remind_at <= as_of)
        ).scalar_one()
    return time.perf_counter() - start


def run() -> None:
    for name, url in databases("bench-scan"):
        started = time.perf_counter()
        populate(url)
        built = time.perf_counter() - started
        catch_up, caught, caught_statements = check(url, START)  # all due before the service started
        quiet = [check(url, START + dt.timedelta(minutes=15 * n)) for n in range(1, 9)]  # 09:15 to 11:00
        # The next 09:00: a day's reminders and alerts.
        busy, sent, busy_statements = check(url, START + dt.timedelta(days=1))
        floor = min(reference(url, START + dt.timedelta(days=1)) for _ in range(5))
        quiet_ms = min(t for t, _, _ in quiet) * 1000
        print(
            f"{name}: {POLLS * ITEMS} work items in {built:.1f} s; catch-up scan {catch_up * 1000:.0f} ms "
            f"({caught} messages, {caught_statements} statements, "
            f"{catch_up * 1000 / max(caught, 1):.2f} ms per message written); quiet 15-minute check "
            f"{quiet_ms:.1f} ms ({max(n for _, _, n in quiet)} statements); busy 09:00 check "
            f"{busy * 1000:.0f} ms ({sent} messages, {busy_statements} statements); reference count "
            f"query {floor * 1000:.2f} ms; ratio (quiet check / reference) {quiet_ms / (floor * 1000):.1f}x; "
            f"busy check {busy * 1000 / max(sent, 1):.2f} ms per message written; "
            f"target under 100 ms for the scan: {'MET' if quiet_ms < 100 else 'NOT MET'}"
        )
