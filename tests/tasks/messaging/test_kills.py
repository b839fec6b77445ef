"""A sender killed with SIGKILL at random points, again and again (benchmarks/bench_kill.py
measures how often that sends a message twice): nothing is lost, and no kill costs more than one
message sent twice."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

from store.models import utcnow
from tests.tasks.messaging.test_delivery import ROOT, expected, messages, queue, received, rows, run

KILLS = 10


def test_a_sender_killed_at_random_points_loses_nothing(sqlite_store, smtp):
    store = sqlite_store
    items = messages(60)
    queue(store, items)
    env = {**os.environ, "POLLFLOW_DELIVERY_LEASE_SECONDS": "1"}
    sender = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.kill_sender", "5"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    rng = random.Random(13)
    try:
        assert sender.stdout.readline().strip() == "ready"
        for _ in range(KILLS):
            sender.stdin.write(f"kill {rng.uniform(0, 60):.3f}\n")
            sender.stdin.flush()
            outcome = json.loads(sender.stdout.readline())
            assert "error" not in outcome, outcome
    finally:
        sender.stdin.close()
        sender.wait(10)
    # Once the dead senders' leases have run out, one run sends what they left.
    leases = [n.claimed_until for n in rows(store).values() if n.status == "sending"]
    if leases:
        time.sleep(max(0.0, (max(leases) - utcnow()).total_seconds()) + 0.1)
    run(store)
    got = received(smtp)
    assert set(got) == set(expected(items))  # nothing lost
    assert sum(n - 1 for n in got.values()) <= KILLS  # at most one message twice a kill
    assert {n.status for n in rows(store).values()} == {"sent"}
