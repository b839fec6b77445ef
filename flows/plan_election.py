"""plan_election: from election ids to a stored timetable, work items with owners, and reminders.

Running it again with the same inputs changes nothing (the store is synced, not appended to).
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.publish import current_run_id, emit, markdown_artifact, timetable_artifact
from tasks.canvass import canvass_after_plan
from tasks.steps import compute_timetable, compute_work, save_plan
from timetables.model import Timetable


@flow(name="plan-election", log_prints=False)
def plan_election(
    election_ids: list[str],
    nation: list[str] | str | None = None,
    kind: list[str] | str | None = None,
    overrides: dict[str, str] | None = None,
    overlay: str | None = None,
    actor: str = "flow:plan-election",
) -> dict:
    overrides = overrides or {}
    tt = compute_timetable(election_ids, nation, kind, overrides)
    summary, _ = plan_timetable(tt, overrides, overlay, actor)
    return summary


def plan_timetable(
    tt: Timetable, overrides: dict[str, str], overlay: str | None, actor: str
) -> tuple[dict, dict]:
    """Store a computed timetable's events, work and reminders; offer the canvass deferral where
    a poll falls in the canvass; publish what was planned (artifacts, and the planned event if
    anything changed). Returns the run's summary and what the canvass check found. Shared by
    ``plan_election`` and ``run_canvass``, which plan a poll and a registration year alike."""
    run_id = current_run_id()
    planned = compute_work(tt, overlay)
    saved = save_plan(tt.election_id, tt, planned, overrides, overlay, actor, run_id)
    changes = saved.changes
    after = canvass_after_plan(saved.poll_key, actor, run_id)  # a poll in the canvass: offer the deferral
    timetable_artifact(tt)
    markdown_artifact(
        f"plan-{saved.poll_key}",
        f"Planned: {saved.poll_title}",
        [
            f"- registration year: {tt.registration_year} ({tt.nation})"
            if tt.registration_year
            else f"- polling day: {tt.poll_date:%A %d %B %Y}",
            f"- statutory events: {len(tt.events)} ({len(changes.events_added)} new, "
            f"{len(changes.events_moved)} moved)",
            f"- work items: {len(planned)} ({len(changes.work_added)} new, "
            f"{len(changes.work_moved)} moved, {len(changes.work_cancelled)} cancelled)",
            f"- reminders: {sum(len(p.reminders) for p in planned)} ({changes.reminders_added} new)",
            f"- unassigned (no one holds the role): {', '.join(changes.unassigned) or 'none'}",
            *(f"- warning: {w}" for w in tt.warnings),
        ],
    )
    if changes.changed:
        emit(
            "pollflow.election.planned",
            f"pollflow.poll.{saved.poll_key}",
            [e.election_id for e in tt.elections],
            {"poll_key": saved.poll_key, "created": changes.poll_created, **changes.summary()},
            name=saved.poll_title,
        )
    get_run_logger().info(
        "%s: %d events, %d work items, %s",
        saved.poll_key,
        len(tt.events),
        len(planned),
        "changed" if changes.changed else "no changes",
    )
    summary = {
        "poll_key": saved.poll_key,
        "events": len(tt.events),
        "work_items": len(planned),
        "reminders": sum(len(p.reminders) for p in planned),
        "warnings": list(tt.warnings),
        "changed": changes.changed,
        **changes.summary(),
    }
    return summary, after
