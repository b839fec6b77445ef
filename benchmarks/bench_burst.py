"""A burst of events under ``pollflow serve`` (issue 13): 200 ``pollflow.workitem.completed`` and
200 ``pollflow.election.planned`` events, each completion with its message queued first, emitted
over a few seconds against a real Prefect server and the deployments of deployments/serve.py.

Against a throwaway POLLFLOW_HOME (its own Prefect server, SQLite store and SMTP server), it
samples until the burst has drained: the flow runs each triggered deployment started (and how
many it queued or cancelled), the most flow-run processes at once (the serve process's
children, from /proc) and their memory (RSS summed), when the last message was delivered and
when everything had finished. The reference is one completion and one planned event on the same
server: the ratio says what a burst of 400 costs against one event.

POLLFLOW_BENCH_BURST_BEFORE=N also runs N of each event with the bounds taken off (no
concurrency limits, triggers that fire on every event, a runner with no process limit): what
the user saw. It is left out by default: N=200 starts 400 processes and takes minutes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks.bench_delivery import Server

ROOT = Path(__file__).resolve().parents[1]
EVENTS = 200  # of each kind
SPREAD = 5.0  # seconds the burst is emitted over
TIMEOUT = 150.0  # the most a phase waits to drain
BEFORE = int(os.environ.get("POLLFLOW_BENCH_BURST_BEFORE", "0"))
TRIGGERED = ("deliver-outbox", "check-deadlines", "produce-documents")
ACTIVE = {"SCHEDULED", "PENDING", "RUNNING", "CANCELLING", "PAUSED"}

# Queues a message, then announces its completion, one after another; then the planned events.
EMITTER = """
import sys, time
from pollflow.runtime import prepare_prefect
prepare_prefect()
from prefect.events import emit_event
from prefect.events.worker import EventsWorker
from sqlmodel import Session
from store import outbox
from store.db import get_engine
from store.outbox import OutgoingMessage
prefix, n, spread = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
engine = get_engine()
print("ready", flush=True)
for i in range(n):
    with Session(engine) as session:
        outbox.enqueue(session, [OutgoingMessage(
            dedupe_key=f"burst:{prefix}:{i}", kind="unblocked", channel="email",
            recipient=f"officer{i % 20}@wychwood.gov.uk", subject=f"Ready for you ({i})",
            body="The work you were waiting for is done.\\n")])
        session.commit()
    for event, kind in (("pollflow.workitem.completed", "workitem"), ("pollflow.election.planned", "poll")):
        emit_event(event=event, resource={"prefect.resource.id": f"pollflow.{kind}.{prefix}.{i}"})
    time.sleep(spread / n)
EventsWorker.drain_all()
print("done", flush=True)
"""

# The same deployments with the bounds taken off: what `pollflow serve` did before issue 13.
UNBOUNDED = """
import datetime as dt
from pollflow.runtime import prepare_prefect
prepare_prefect()
from prefect import serve
from deployments.serve import deployments
served = deployments()
for d in served:
    d.concurrency_limit = d.concurrency_options = None
    d.triggers = [t.model_copy(update={"within": dt.timedelta(0), "parameters": {
        k: v for k, v in (t.parameters or {}).items() if k != "since"} or None}) for t in d.triggers]
serve(*served)
"""


@dataclass
class Phase:
    name: str
    events: int
    runs: dict = field(default_factory=dict)  # deployment: {state type: count}
    peak_processes: int = 0
    peak_rss_mb: float = 0.0
    delivered_at: float | None = None
    drained_at: float | None = None
    delivered: int = 0
    emitted_at: float | None = None
    began: dt.datetime | None = None  # when the first event was emitted
    first_run_at: float | None = None  # seconds from then to the first triggered run's start
    timeout: float = 0.0

    def started(self, deployment: str) -> int:
        states = self.runs.get(deployment, {})
        return sum(n for s, n in states.items() if s not in {"SCHEDULED", "CANCELLED", "PENDING"})

    def line(self) -> str:
        runs = ", ".join(f"{d} {self.started(d)}" + _others(self.runs.get(d, {})) for d in TRIGGERED)
        delivered = f"{self.delivered_at:.1f}s" if self.delivered_at is not None else "never"
        drained = f"{self.drained_at:.1f}s" if self.drained_at is not None else f"not in {self.timeout:.0f}s"
        return (
            f"{self.name:<26} runs started: {runs}\n{'':<27}peak {self.peak_processes} flow-run "
            f"processes, {self.peak_rss_mb:.0f} MB; {self.delivered}/{self.events} messages "
            f"delivered, the last at {delivered}\n{'':<27}emitted by {self.emitted_at or 0:.1f}s; "
            f"the first run started at {self.first_run_at or 0:.1f}s; drained at {drained}"
        )


def _others(states: dict) -> str:
    shown = {"CANCELLED", "SCHEDULED", "FAILED", "CRASHED"}
    extra = [f"{n} {s.lower()}" for s, n in sorted(states.items()) if s in shown]
    return f" ({', '.join(extra)})" if extra else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class Burst:
    """A Prefect server, an SMTP server and a store, all throwaway."""

    def __init__(self, home: Path):
        self.home = home
        self.smtp = Server()
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "POLLFLOW_"))}
        self.env.update(
            POLLFLOW_HOME=str(home / "pollflow"),
            PREFECT_HOME=str(home / "prefect"),
            POLLFLOW_DATABASE_URL=f"sqlite:///{home / 'pollflow.db'}",
            POLLFLOW_SMTP_URL=f"smtp://127.0.0.1:{self.smtp.port}",
            PREFECT_API_URL=self.api,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_LOGGING_LEVEL="WARNING",
            PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL="0.5",
        )
        self.log = (home / "bench.log").open("ab")
        migrate = "from store.db import get_engine; get_engine()"
        subprocess.run([sys.executable, "-c", migrate], env=self.env, cwd=ROOT, check=True)
        start = ["server", "start", "--host", "127.0.0.1", "--port", f"{self.port}"]
        self.server = subprocess.Popen(
            [sys.executable, "-m", "prefect", *start],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait(lambda: self.get("/health"), 180, "Prefect's server")
        self.seen: set[str] = set()

    def get(self, path: str):
        try:
            response = requests.get(f"{self.api}{path}", timeout=5)
            return response.ok
        except requests.RequestException:
            return False

    def post(self, path: str, body: dict) -> list:
        response = requests.post(f"{self.api}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def wait(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := predicate():
                return value
            time.sleep(0.5)
        raise RuntimeError(f"timed out waiting for {what} (log: {self.home / 'bench.log'})")

    def deployments(self) -> dict[str, str]:
        found = self.post("/deployments/filter", {"limit": 50, "offset": 0})
        return {d["id"]: d["name"] for d in found if d["name"] in TRIGGERED}

    def automations(self) -> set[str]:
        return {a["id"] for a in self.post("/automations/filter", {"limit": 50, "offset": 0})}

    def flow_runs(self, ids: dict[str, str]) -> list[dict]:
        runs, offset = [], 0
        while True:
            page = self.post(
                "/flow_runs/filter",
                {"flow_runs": {"deployment_id": {"any_": list(ids)}}, "limit": 200, "offset": offset},
            )
            runs += page
            if len(page) < 200:
                return runs
            offset += 200

    def sent(self) -> int:
        with sqlite3.connect(self.home / "pollflow.db", timeout=30) as db:
            query = "select count(*) from notification where status in ('sent', 'gathered')"
            return db.execute(query).fetchone()[0]

    def phase(self, name: str, events: int, bounded: bool = True, timeout: float = TIMEOUT) -> Phase:
        """Serve, emit the events, and sample until all of it has finished."""
        command = ["-m", "pollflow", "serve"] if bounded else ["-c", UNBOUNDED]
        before = self.automations()
        serve = subprocess.Popen(
            [sys.executable, *command],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            ids = self.wait(lambda: len(d := self.deployments()) == len(TRIGGERED) and d, 120, "deployments")
            # Serving again replaces the deployments' triggers: wait for this serve's own.
            self.wait(lambda: len(self.automations() - before) >= len(TRIGGERED), 120, "the triggers")
            time.sleep(3)  # the runner's first poll, and the automations loaded
            self.seen |= {r["id"] for r in self.flow_runs(ids)}
            sent_before = self.sent()
            self.smtp.tally()
            return self.sample(Phase(name, events, timeout=timeout), serve, ids, sent_before)
        finally:
            os.killpg(serve.pid, signal.SIGINT)
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait()

    def sample(self, phase: Phase, serve: subprocess.Popen, ids: dict, sent_before: int) -> Phase:
        emitter = subprocess.Popen(
            [sys.executable, "-c", EMITTER, phase.name.split()[0], str(phase.events), str(SPREAD)],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        if emitter.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the emitter did not start (log: {self.home / 'bench.log'})")
        start, quiet_since, last_api, active = time.monotonic(), None, 0.0, True
        phase.began = dt.datetime.now(dt.UTC)
        while time.monotonic() - start < phase.timeout:
            now = time.monotonic() - start
            children = descendants(serve.pid)
            phase.peak_processes = max(phase.peak_processes, len(children))
            phase.peak_rss_mb = max(phase.peak_rss_mb, rss_mb(children))
            if now - last_api >= 1.0:
                last_api = now
                active = self.poll(phase, ids, sent_before, now, active)
            if phase.emitted_at is None and emitter.poll() is not None:
                phase.emitted_at = now
            done = phase.emitted_at is not None and phase.delivered >= phase.events
            if done and not children and not active:
                quiet_since = quiet_since if quiet_since is not None else now
                if now - quiet_since >= 5:
                    phase.drained_at = quiet_since
                    break
            else:
                quiet_since = None
            time.sleep(0.25)
        emitter.wait(timeout=60)
        tally = self.smtp.tally()
        if tally["total"] != tally["distinct"]:
            raise AssertionError(f"a message was delivered twice: {tally}")
        return phase

    def poll(self, phase: Phase, ids: dict, sent_before: int, now: float, active: bool) -> bool:
        """The phase's flow runs and messages sent so far; whether a run is still to finish."""
        try:
            runs = [r for r in self.flow_runs(ids) if r["id"] not in self.seen]
        except requests.RequestException:  # a busy server: ask again next time
            return active
        runs = [r for r in runs if not (r["auto_scheduled"] and r["state_type"] == "SCHEDULED")]
        phase.runs = {}
        for run in runs:
            states = phase.runs.setdefault(ids[run["deployment_id"]], {})
            states[run["state_type"]] = states.get(run["state_type"], 0) + 1
        phase.delivered = self.sent() - sent_before
        if phase.delivered_at is None and phase.delivered >= phase.events:
            phase.delivered_at = now
        starts = [dt.datetime.fromisoformat(r["start_time"]) for r in runs if r["start_time"]]
        if starts and phase.began:
            phase.first_run_at = (min(starts) - phase.began).total_seconds()
        return any(r["state_type"] in ACTIVE for r in runs)

    def stop(self) -> None:
        os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
        self.smtp.stop()
        self.log.close()


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}x" if a is not None and b else "n/a"


def run():
    with tempfile.TemporaryDirectory(prefix="pollflow-bench-burst-") as tmp:
        burst = Burst(Path(tmp))
        try:
            started = dt.datetime.now()
            one = burst.phase("reference (1 + 1 events)", 1)
            many = burst.phase(f"burst ({EVENTS} + {EVENTS} events)", EVENTS)
            phases = [one, many]
            if BEFORE:
                name = f"unbounded ({BEFORE} + {BEFORE})"
                phases.append(burst.phase(name, BEFORE, bounded=False, timeout=300))
        finally:
            burst.stop()
    print(f"pollflow serve: completions (each with a message) and planned events, at {started:%H:%M}")
    for phase in phases:
        print(phase.line())
    runs = sum(many.started(d) for d in TRIGGERED)
    print(
        f"burst against one event: flow runs {ratio(runs, sum(one.started(d) for d in TRIGGERED))}, "
        f"peak processes {ratio(many.peak_processes, one.peak_processes)}, "
        f"peak memory {ratio(many.peak_rss_mb, one.peak_rss_mb)}, "
        f"drain time {ratio(many.drained_at, one.drained_at)} "
        f"(for {EVENTS}x the events)"
    )
    if BEFORE:
        before = phases[-1]
        print(
            f"unbounded against bounded: flow runs "
            f"{ratio(sum(before.started(d) for d in TRIGGERED), runs)}, peak processes "
            f"{ratio(before.peak_processes, many.peak_processes)}, peak memory "
            f"{ratio(before.peak_rss_mb, many.peak_rss_mb)}, drain time "
            f"{ratio(before.drained_at, many.drained_at)}"
            + ("" if BEFORE == EVENTS else f" (for {BEFORE / EVENTS:.2f}x the events)")
        )


if __name__ == "__main__":
    run()
