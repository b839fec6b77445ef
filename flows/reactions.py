"""Flows that deployments run when pollflow's events arrive (see deployments/serve.py)."""

from __future__ import annotations

from prefect import flow

from flows.publish import markdown_artifact
from tasks.steps import deliver_outbox


@flow(name="deliver-outbox")
def deliver_now(reason: str = "on demand") -> dict:
    """Send whatever the outbox holds, at once (after a plan, a completion, a missed deadline)."""
    report = deliver_outbox()
    markdown_artifact(
        "delivery", f"Delivery ({reason})", [f"- {k}: {v}" for k, v in report.summary().items()]
    )
    return report.summary()
