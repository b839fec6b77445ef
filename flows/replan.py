"""replan: polling day moved, a day of mourning declared, an override changed. Recompute, keep
every manual override, record what moved, and tell the owner of each moved deadline."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.publish import current_run_id, emit, markdown_artifact, timetable_artifact
from tasks.canvass import canvass_after_plan
from tasks.steps import compute_timetable, compute_work, load_replan_inputs, save_plan
from timetables import calendars


@flow(name="replan")
def replan(
    election_id: str,
    poll_date: dt.date | None = None,
    overrides: dict[str, str] | None = None,
    unset: list[str] | None = None,
    actor: str = "flow:replan",
) -> dict:
    calendars.reload()  # a day of mourning may have been added since this process started
    inputs = load_replan_inputs(election_id, poll_date, overrides or {}, unset or [])
    tt = compute_timetable(inputs.election_ids, inputs.nations, inputs.kinds, inputs.overrides)
    planned = compute_work(tt, inputs.overlay)
    saved = save_plan(inputs.poll_key, tt, planned, inputs.overrides, inputs.overlay, actor, current_run_id())
    changes = saved.changes
    canvass_after_plan(saved.poll_key, actor, current_run_id())  # the deferral offer; canvass work dates
    timetable_artifact(tt)
    moved = [
        f"- {m.key}: {m.old:%a %d %b %H:%M} -> {m.new:%a %d %b %H:%M}"
        for m in changes.events_moved + changes.work_moved
    ]
    markdown_artifact(
        f"replan-{saved.poll_key}", f"Replanned: {saved.poll_title}", moved or ["- nothing moved"]
    )
    if changes.changed:
        emit(
            "pollflow.timetable.changed",
            f"pollflow.poll.{saved.poll_key}",
            inputs.election_ids,
            {"poll_key": saved.poll_key, **changes.summary()},
            name=saved.poll_title,
        )
    return {"poll_key": saved.poll_key, **changes.summary()}
