"""replan: polling day moved, a day of mourning declared, an override changed. Recompute, keep
every manual override, record what moved, and tell the owner of each moved deadline."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.publish import current_run_id, emit, markdown_artifact, timetable_artifact
from tasks.steps import compute_timetable, compute_work, load_stored_plan, save_plan
from timetables import calendars
from timetables.errors import PollflowError


def with_date(election_id: str, poll_date: dt.date) -> str:
    """The same election id for another polling day."""
    return election_id.rsplit(".", 1)[0] + "." + poll_date.isoformat()


@flow(name="replan")
def replan(
    election_id: str,
    poll_date: dt.date | None = None,
    overrides: dict[str, str] | None = None,
    unset: list[str] | None = None,
    actor: str = "flow:replan",
) -> dict:
    calendars.reload()  # a day of mourning may have been added since this process started
    stored = load_stored_plan(election_id)
    kept = dict(stored.overrides)
    for key in unset or []:
        if key not in kept:
            raise PollflowError(
                f"{key} is not set for {stored.poll_key}: set dates are {', '.join(kept) or 'none'}"
            )
        del kept[key]
    kept.update(overrides or {})
    day = poll_date or stored.poll_date
    ids = [with_date(e, day) for e in stored.election_ids]
    tt = compute_timetable(ids, stored.nations, stored.kinds, kept)
    planned = compute_work(tt, stored.overlay)
    saved = save_plan(stored.poll_key, tt, planned, kept, stored.overlay, actor, current_run_id())
    changes = saved.changes
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
            stored.election_ids,
            {"poll_key": saved.poll_key, **changes.summary()},
            name=saved.poll_title,
        )
    return {"poll_key": saved.poll_key, **changes.summary()}
