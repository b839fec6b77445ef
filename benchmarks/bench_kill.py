"""Senders killed mid-message: how many messages arrive twice, and that none is lost.

On SQLite, then on PostgreSQL when the test server answers: N messages are queued, then a sender
(benchmarks/kill_sender.py, a process of its own) is started and killed with SIGKILL at a random
point, KILLS times over, and finally one sender runs to the end, once the dead senders' leases
(a second long) have run out, so that it takes over what they had claimed. A real SMTP server, in
a process of its own, counts what it accepts by Message-ID.

A duplicate is a message the server accepted more than once: a sender killed after the server
took a message and before the store recorded it sent. A loss is a message never accepted, or not
recorded as sent: there must be none (AssertionError). Reported: duplicates per 100 kills, and
the ratio of duplicates to the kills that landed while the sender was sending, with the time the
killed run took against delivering the same number of messages with no kill (the reference).

The kills are seeded, so a run is repeatable, and timed to land while the sender is sending: a
random 0 to 2T/KILLS ms after it starts, T being the reference run's time.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from benchmarks.bench_delivery import SERVER, Server, messages
from benchmarks.databases import databases
from store import outbox
from store.db import get_engine
from store.models import Notification, NotificationStatus, utcnow
from tasks.messaging.channels import message_id

N = 500
KILLS = 100
BATCH = 10
LEASE = 1  # seconds: a dead sender's messages are taken over this soon
SEED = 13
ROOT = Path(__file__).resolve().parents[1]

# The SMTP server of bench_delivery, answering "count" with how often it accepted each Message-ID.
_TALLY = 'json.dumps({"total": sum(seen.values()), "distinct": len(seen)})'
assert _TALLY in SERVER, "bench_delivery's SMTP server no longer reports as bench_kill expects"
COUNTING_SERVER = SERVER.replace(_TALLY, "json.dumps(seen)")


class Sender:
    """benchmarks/kill_sender.py: forks a sender on each command, and kills it if told to."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.kill_sender", str(BATCH)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("the sender did not start")

    def _ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def kill(self, after_ms: float) -> dict:
        return self._ask(f"kill {after_ms:.3f}")

    def run(self) -> dict:
        return self._ask("run")

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def _enqueue(url: str, prefix: str) -> set[str]:
    items = messages(prefix, N)
    with Session(get_engine(url)) as session:
        outbox.enqueue(session, items)
        session.commit()
    return {message_id(m.dedupe_key) for m in items}


def _statuses(url: str, prefix: str) -> Counter:
    with Session(get_engine(url)) as session:
        query = (
            select(Notification.status, func.count())
            .where(Notification.dedupe_key.startswith(f"bench:{prefix}:"))
            .group_by(Notification.status)
        )
        return Counter(dict(session.execute(query).all()))


def _wait_for_leases(url: str) -> None:
    """Until every message a dead sender claimed is free to take over."""
    with Session(get_engine(url)) as session:
        until = session.scalar(
            select(func.max(Notification.claimed_until)).where(
                Notification.status == NotificationStatus.SENDING
            )
        )
    if until is not None:
        time.sleep(max(0.0, (until - utcnow()).total_seconds()) + 0.05)


def measure(name: str, url: str, server: Server, rng: random.Random) -> dict:
    env = {
        **os.environ,
        "POLLFLOW_DATABASE_URL": url,
        "POLLFLOW_SMTP_URL": f"smtp://127.0.0.1:{server.port}",
        "POLLFLOW_DELIVERY_LEASE_SECONDS": str(LEASE),
    }
    sender = Sender(env)
    try:
        # How long a sender takes to start and find nothing to send: when sending begins.
        start = time.perf_counter()
        if sender.run().get("sent") != 0:
            raise AssertionError(f"the outbox was not empty: {url}")
        starting = time.perf_counter() - start
        # The reference: the same number of messages, one sender, no kill.
        ids = _enqueue(url, f"ref-{name}")
        start = time.perf_counter()
        report = sender.run()
        reference = time.perf_counter() - start
        if report.get("sent") != N or Counter(server.tally()) != Counter(dict.fromkeys(ids, 1)):
            raise AssertionError(f"the reference run did not deliver each message once: {report}")

        ids = _enqueue(url, f"kill-{name}")
        # ms: past starting, the kills' mean span delivers about N messages in all
        window = (starting + 2 * (reference - starting) / KILLS) * 1000
        received: Counter = Counter()
        landed = while_sending = 0
        start = time.perf_counter()
        for _ in range(KILLS):
            outcome = sender.kill(rng.uniform(0, window))
            accepted = server.tally()
            received.update(accepted)
            if outcome.get("killed"):
                landed += 1
                while_sending += bool(accepted)
            elif "error" in outcome:
                raise AssertionError(f"a sender failed: {outcome['error']}")
        _wait_for_leases(url)
        final = sender.run()
        killed_run = time.perf_counter() - start
        received.update(server.tally())
    finally:
        sender.stop()
    statuses = _statuses(url, f"kill-{name}")
    stray = set(received) - ids
    duplicated = sum(1 for n in received.values() if n > 1)
    lost = len(ids - set(received)) + (N - statuses["sent"])
    return {
        "reference": reference,
        "killed_run": killed_run,
        "window": window,
        "landed": landed,
        "while_sending": while_sending,
        "duplicated": duplicated,
        "extra": sum(n - 1 for n in received.values()),
        "lost": lost,
        "stray": len(stray),
        "statuses": dict(statuses),
        "final": final,
    }


def run():
    server = Server(COUNTING_SERVER)
    failures = []
    try:
        print(f"{N} emails, {KILLS} senders killed with SIGKILL at random (seed {SEED}), batches of {BATCH}")
        for name, url in databases("pollflow-kill"):
            got = measure(name, url, server, random.Random(SEED))
            per_100 = got["duplicated"] * 100 / max(got["landed"], 1)
            share = got["duplicated"] / max(got["while_sending"], 1)
            print(
                f"{name + ':':<12} {per_100:5.1f} duplicates per 100 kills "
                f"({got['duplicated']} messages twice, {got['extra']} extra copies; {got['landed']} kills "
                f"landed, {got['while_sending']} while sending, 0-{got['window']:.0f} ms after start); "
                f"losses {got['lost']}"
            )
            print(
                f"{'':<12} ratio {share:.3f} duplicates per kill while sending; killed run "
                f"{got['killed_run']:.2f} s against {got['reference']:.2f} s with no kill "
                f"(ratio {got['killed_run'] / got['reference']:.1f}, leases of {LEASE} s waited out)"
            )
            if got["lost"] or got["stray"] or got["statuses"] != {"sent": N}:
                failures.append(f"{name}: {got}")
    finally:
        server.stop()
    if failures:
        raise AssertionError("messages lost: " + "; ".join(failures))


if __name__ == "__main__":
    run()
