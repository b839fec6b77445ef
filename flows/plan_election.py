"""plan_election: from election ids to a stored timetable, work items with owners, and reminders.

Running it again with the same inputs changes nothing (the store is synced, not appended to).
"""

from __future__ import annotations

from prefect import flow

from flows.publish import current_run_id, publish_plan
from tasks import planning
from tasks.planning import Plan
from tasks.steps import canvass_after_plan, compute_plan, notify_moved, save_plan


@flow(name="plan-election", log_prints=False)
def plan_election(
    election_ids: list[str],
    nation: list[str] | str | None = None,
    kind: list[str] | str | None = None,
    overrides: dict[str, str] | None = None,
    overlay: str | None = None,
    actor: str = "flow:plan-election",
    plan: Plan | None = None,
) -> dict:
    """``plan``: the plan already computed from these inputs (``tasks.planning.plan_poll``: the
    command line computes it before Prefect starts, to refuse bad input at once)."""
    plan = plan or compute_plan(election_ids, nation, kind, overrides or {}, overlay)
    run_id = current_run_id()
    saved = save_plan(plan, actor, run_id)
    if saved.changes.work_moved:
        notify_moved(saved.poll_id, saved.changes.work_moved, "replanned")
    canvass_after_plan(saved.poll_key, actor, run_id)  # a poll in the canvass: offer the deferral
    publish_plan(plan, saved)
    return planning.summary(plan, saved)
