"""check_deadlines, every 15 minutes: reminders that are due, overdue work and missed statutory
deadlines become messages in the outbox (each exactly once), and the outbox is delivered."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.publish import emit, markdown_artifact
from tasks.steps import deliver_outbox, scan_deadlines
from timetables.clock import ahead, now


@flow(name="check-deadlines")
def check_deadlines(as_of: dt.datetime | None = None, deliver: bool = True) -> dict:
    """``as_of`` lets a planner see what a check on a future date would send (the demo does)."""
    as_of = as_of or now()
    scanned = scan_deadlines(as_of)
    events = [("approaching", p) for p in scanned.approaching_events]
    events += [("missed", p) for p in scanned.missed_events]
    for kind, payload in events:
        emit(
            f"pollflow.deadline.{kind}",
            f"pollflow.deadline.{payload['poll_key']}.{payload['work_key']}",
            [payload["election_id"]] if payload["election_id"] else payload["poll_key"].split("+"),
            payload,
        )
    report = deliver_outbox(now=ahead(as_of)) if deliver else None
    summary = {**scanned.summary(), **({"delivery": report.summary()} if report else {})}
    markdown_artifact(
        f"check-{as_of:%Y%m%d%H%M}",
        f"Deadline check as of {as_of:%a %d %b %Y %H:%M}",
        [f"- {key}: {value}" for key, value in summary.items()],
    )
    return summary
