"""The workspace under load: page times with 30,000 work items in the store, a write from the
command line, and 50 signed-in people at once.

- p95 of My work (an officer with 1,500 open items across 860 polls) and of a poll's page (its
  timetable, plan timeline and readiness), served by uvicorn on loopback, on SQLite and on
  PostgreSQL; the ratio against the same server's /health in the same run (what a request costs
  with no page at all). Target: p95 under 200 ms.
- A CLI write (``pollflow done`` with a token), in the process and as a whole new process; the
  ratio against the same completion through the store alone. Target: under 300 ms in the process.
- 50 signed-in people, each asking for My work and a poll page as fast as answers come, for a
  bounded minute (POLLFLOW_BENCH_SECONDS shortens it): answers per second and errors (target:
  none).
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests
from sqlalchemy import insert, select

from benchmarks.databases import databases

PEOPLE, POLLS = 20, 860  # 860 polls of 35 items: 30,100 work items
SAMPLES = 40
USERS = 50
SECONDS = int(os.environ.get("POLLFLOW_BENCH_SECONDS", "60"))
TARGET_PAGE_MS, TARGET_WRITE_MS = 200, 300
PASSWORD = "staple battery horse 2027"


def populate(url: str) -> dict:
    """One poll planned for real, then copied 859 times (polls, elections, events, work), and a
    team of 20 officers sharing the work; one officer with a password and a token."""
    from store.db import get_engine, session_scope
    from store.identity.credentials import set_password
    from store.identity.tokens import create_token
    from store.models import Election, Person, PersonRole, Poll, TimetableEvent, WorkItem
    from tasks import planning

    engine = get_engine(url)
    with session_scope(engine) as s:
        people = []
        for n in range(PEOPLE):
            person = Person(email=f"officer{n}@bench.gov.uk", name=f"Officer {n}")
            s.add(person)
            s.flush()
            s.add(
                PersonRole(
                    person_id=person.id,
                    role="electoral-services-manager" if n == 0 else "electoral-services-officer",
                )
            )
            people.append(person.id)
        set_password(s, s.get(Person, people[0]), PASSWORD)
        _, token = create_token(s, s.get(Person, people[0]), "bench", "bench")
    saved = planning.save_plan(planning.plan_poll(["local.bench-0.2027-05-06"]), "bench", None)
    with session_scope(engine) as s:
        template = s.get(Poll, saved.poll_id)
        items = s.scalars(select(WorkItem).where(WorkItem.poll_id == template.id)).all()
        events = s.scalars(select(TimetableEvent).where(TimetableEvent.poll_id == template.id)).all()
        columns = lambda row: {k: v for k, v in row.model_dump().items() if k != "id"}  # noqa: E731
        for start in range(1, POLLS, 100):
            batch = range(start, min(start + 100, POLLS))
            ids = (
                s.execute(
                    insert(Poll).returning(Poll.id),
                    [
                        {
                            **columns(template),
                            "key": f"local.bench-{i}.2027-05-06",
                            "title": f"Bench {i} council election",
                        }
                        for i in batch
                    ],
                )
                .scalars()
                .all()
            )
            s.execute(
                insert(Election),
                [
                    {
                        "election_id": f"local.bench-{i}.2027-05-06",
                        "poll_id": pid,
                        "kind": "local",
                        "nation": "england",
                        "title": f"Bench {i}",
                    }
                    for i, pid in zip(batch, ids, strict=True)
                ],
            )
            s.execute(insert(TimetableEvent), [{**columns(e), "poll_id": pid} for pid in ids for e in events])
            s.execute(
                insert(WorkItem),
                [
                    {**columns(w), "poll_id": pid, "owner_id": people[(pid + n) % PEOPLE]}
                    for pid in ids
                    for n, w in enumerate(items)
                ],
            )
        mine = s.scalars(
            select(WorkItem).where(WorkItem.owner_id == people[0], WorkItem.status == "open")
        ).all()
        total = len(s.scalars(select(WorkItem.id)).all())
        first = s.scalars(
            select(WorkItem).where(
                WorkItem.poll_id == template.id, WorkItem.owner_id == people[0], ~WorkItem.needs_signoff
            )
        ).all()
        from store.work import open_blockers

        done_key = next(w.key for w in first if not open_blockers(s, w))
    return {
        "poll_id": template.id,
        "token": token,
        "items": total,
        "mine": len(mine),
        "done": done_key,
        "email": "officer0@bench.gov.uk",
        "election": "local.bench-0.2027-05-06",
    }


def serve():
    import uvicorn

    from pollflow.web import create_app
    from tests.support.fakes import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(f"{base}/health", timeout=0.5).ok:
                return server, base
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError("the web server did not start")


def signed_in(base: str, email: str) -> requests.Session:
    from tests.support.workspace import Client

    client = Client(base)
    answer = client.sign_in(email, PASSWORD)
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    return client.http


def p95(http: requests.Session, url: str) -> float:
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        answer = http.get(url, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{url}: {answer.status_code}")
    return statistics.quantiles(times, n=20)[-1]


def crowd(base: str, email: str, poll_id: int) -> tuple[float, int, int]:
    """50 people signed in at once, for SECONDS: (answers per second, answers, errors)."""
    sessions = [signed_in(base, email) for _ in range(USERS)]
    stop = time.monotonic() + SECONDS
    counts = {"ok": 0, "errors": 0}
    seen: list[str] = []  # the first errors, to say what they were
    lock = threading.Lock()

    def person(http):
        n = 0
        while time.monotonic() < stop:
            url = f"{base}/work" if n % 2 == 0 else f"{base}/polls/{poll_id}"
            n += 1
            try:
                status = http.get(url, timeout=30).status_code
                ok, why = status == 200, f"HTTP {status}"
            except requests.RequestException as exc:
                ok, why = False, type(exc).__name__
            with lock:
                counts["ok" if ok else "errors"] += 1
                if not ok and len(seen) < 3:
                    seen.append(why)

    threads = [threading.Thread(target=person, args=(http,)) for http in sessions]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if seen:
        print(f"  errors seen: {', '.join(seen)}")
    return counts["ok"] / (time.monotonic() - started), counts["ok"], counts["errors"]


def cli_write(url: str, seeded: dict) -> tuple[float, float, float]:
    """(ms in the process, ms through the store alone, ms as a new process) for one completion."""
    from pollflow.cli import main
    from store.db import get_engine, session_scope
    from store.models import WorkItem, WorkStatus
    from tasks.work import complete_work

    def reopen():
        with session_scope(get_engine(url)) as s:
            for item in s.scalars(select(WorkItem).where(WorkItem.key == seeded["done"])).all():
                item.status, item.completed_at, item.completed_by_id = WorkStatus.OPEN, None, None

    os.environ["POLLFLOW_TOKEN"] = seeded["token"]
    try:
        in_process, store_only = [], []
        for _ in range(5):
            reopen()
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                code = main(["done", seeded["done"], "--election", seeded["election"]])
            if code != 0:
                raise RuntimeError("pollflow done failed")
            in_process.append((time.perf_counter() - started) * 1000)
            reopen()
            started = time.perf_counter()
            with session_scope(get_engine(url)) as s:
                complete_work(s, seeded["done"], seeded["email"], None, seeded["election"])
            store_only.append((time.perf_counter() - started) * 1000)
        reopen()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pollflow", "done", seeded["done"], "--election", seeded["election"]],
            check=True,
            capture_output=True,
            env={**os.environ, "POLLFLOW_DATABASE_URL": url},
        )
        whole = (time.perf_counter() - started) * 1000
    finally:
        os.environ.pop("POLLFLOW_TOKEN", None)
    return statistics.median(in_process), statistics.median(store_only), whole


def run() -> None:
    home = tempfile.mkdtemp(prefix="pollflow-bench-home-")
    os.environ["POLLFLOW_HOME"] = home
    for name, url in databases("bench-workspace"):
        os.environ["POLLFLOW_DATABASE_URL"] = url
        from store.db import _checked

        started = time.perf_counter()
        seeded = populate(url)
        print(
            f"{name}: {seeded['items']:,} work items in {POLLS} polls, {seeded['mine']:,} of them "
            f"one officer's (made in {time.perf_counter() - started:.1f} s)"
        )
        server, base = serve()
        try:
            http = signed_in(base, seeded["email"])
            floor = p95(http, f"{base}/health")
            for label, path in (("My work", "/work"), ("a poll's page", f"/polls/{seeded['poll_id']}")):
                took = p95(http, base + path)
                verdict = "MET" if took < TARGET_PAGE_MS else "NOT MET"
                print(
                    f"  {label}: p95 {took:.0f} ms, {took / floor:.0f}x /health's {floor:.1f} ms "
                    f"(target under {TARGET_PAGE_MS} ms: {verdict})"
                )
            rate, answers, errors = crowd(base, seeded["email"], seeded["poll_id"])
            print(
                f"  {USERS} people at once for {SECONDS} s: {answers:,} pages, {rate:.0f} a second, "
                f"{errors} errors (target none: {'MET' if errors == 0 else 'NOT MET'})"
            )
        finally:
            server.should_exit = True
        inside, store_only, whole = cli_write(url, seeded)
        verdict = "MET" if inside < TARGET_WRITE_MS else "NOT MET"
        print(
            f"  pollflow done: {inside:.0f} ms in the process, {inside / store_only:.1f}x the store alone "
            f"({store_only:.0f} ms); {whole:.0f} ms as a new process, start-up included "
            f"(target under {TARGET_WRITE_MS} ms in the process: {verdict})"
        )
        _checked.clear()
        os.environ.pop("POLLFLOW_DATABASE_URL", None)
