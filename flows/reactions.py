"""Flows that deployments run when pollflow's events arrive (see deployments/serve.py).

deliver-outbox's trigger fires at most once a ``WINDOW`` (leading edge: the first completion of a
burst starts a run at once, and the rest of that window's events start nothing). So that the
messages those later events announced are not left waiting, a triggered run keeps delivering,
every ``POLL_SECONDS``, until the window of the event that started it has closed (``since`` is
that event's time), and makes one last pass after. A message is queued before its event is
emitted, so every message whose event the trigger passed over is claimed by that last pass, or
by an earlier one. Delivery loops until nothing is due, so one pass drains what is queued.
"""

from __future__ import annotations

import datetime as dt
import time

from prefect import flow

from flows.publish import markdown_artifact
from tasks.messaging.delivery import DeliveryReport
from tasks.steps import deliver_outbox

# The longest the triggers wait before reacting again (deployments/serve.py, prefect.yaml).
WINDOW = dt.timedelta(seconds=30)
# Allowance for clocks (the event's machine and this one) and for an event delivered late.
MARGIN = dt.timedelta(seconds=5)
POLL_SECONDS = 3.0


@flow(name="deliver-outbox")
def deliver_now(reason: str = "on demand", since: dt.datetime | None = None) -> dict:
    """Send whatever the outbox holds, at once (after a plan, a completion, a missed deadline).

    ``since``: when the triggering event happened; the run delivers until its window closes."""
    until = None
    if since is not None:
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        until = since + WINDOW + MARGIN
    total, passes = DeliveryReport(), 0
    while True:
        started = dt.datetime.now(dt.UTC)
        total.add(deliver_outbox())
        passes += 1
        if until is None or started >= until:
            break
        time.sleep(max(0.0, min(POLL_SECONDS, (until - dt.datetime.now(dt.UTC)).total_seconds())))
    summary = {**total.summary(), "passes": passes}
    markdown_artifact("delivery", f"Delivery ({reason})", [f"- {k}: {v}" for k, v in summary.items()])
    return summary
