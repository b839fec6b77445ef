"""daily_digest, 08:00 Europe/London: each officer's work due today, this week, and overdue."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.publish import markdown_artifact
from store.audit import published_head
from tasks.steps import deliver_outbox, queue_digests
from timetables.clock import ahead, now


@flow(name="daily-digest")
def daily_digest(as_of: dt.datetime | None = None, deliver: bool = True) -> dict:
    as_of = as_of or now()
    queued = queue_digests(as_of)
    report = deliver_outbox(now=ahead(as_of)) if deliver else None
    summary = {"digests_queued": queued, **({"delivery": report.summary()} if report else {})}
    markdown_artifact(
        f"digest-{as_of:%Y%m%d}",
        f"Daily digest for {as_of:%a %d %b %Y}",
        [f"- {k}: {v}" for k, v in summary.items()],
    )
    markdown_artifact(f"audit-head-{as_of:%Y%m%d}", "Audit trail head", [f"- {published_head()}"])
    return summary
