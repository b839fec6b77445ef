"""replan: polling day moved, a day of mourning declared, an override changed. Recompute, keep
every manual override, record what moved, and tell the owner of each moved deadline."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.publish import current_run_id, publish_replan
from tasks.planning import Plan
from tasks.steps import canvass_after_plan, compute_replan, notify_moved, save_plan


@flow(name="replan")
def replan(
    election_id: str,
    poll_date: dt.date | None = None,
    overrides: dict[str, str] | None = None,
    unset: list[str] | None = None,
    actor: str = "flow:replan",
    plan: Plan | None = None,
) -> dict:
    """``plan``: the plan already computed from these inputs (``tasks.planning.replan_poll``: the
    command line computes it before Prefect starts, to refuse bad input at once)."""
    plan = plan or compute_replan(election_id, poll_date, overrides or {}, unset or [])
    run_id = current_run_id()
    saved = save_plan(plan, actor, run_id)
    if saved.changes.work_moved:
        notify_moved(saved.poll_id, saved.changes.work_moved, "replanned")
    canvass_after_plan(saved.poll_key, actor, run_id)  # the deferral offer; canvass work dates
    publish_replan(plan, saved)
    return {"poll_key": saved.poll_key, **saved.changes.summary()}
