"""What flows tell Prefect: domain events (for triggers) and artifacts (the audit dashboard)."""

from __future__ import annotations

import re

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event
from prefect.runtime import flow_run

from tasks.planning import Plan, Saved
from timetables import Timetable


def slug(text: str) -> str:
    """An artifact key: lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100]


def current_run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


def election_resources(election_ids: list[str]) -> list[dict]:
    return [
        {
            "prefect.resource.id": f"pollflow.election.{e}",
            "prefect.resource.role": "election",
            "prefect.resource.name": e,
        }
        for e in election_ids
    ]


def emit(
    event: str, resource_id: str, election_ids: list[str], payload: dict, name: str | None = None
) -> None:
    """A pollflow.* event, with each election as a related resource."""
    resource = {"prefect.resource.id": resource_id}
    if name:
        resource["prefect.resource.name"] = name
    emit_event(event=event, resource=resource, related=election_resources(election_ids), payload=payload)


def timetable_artifact(tt: Timetable) -> None:
    create_table_artifact(
        key=f"timetable-{slug(tt.election_id)}",
        table=[
            {
                "date": e.date.isoformat(),
                "time": e.time.strftime("%H:%M") if e.time else "",
                "earliest": e.earliest.isoformat() if e.earliest else "",
                "event": e.label,
                "key": e.key,
                "election": e.election_id or "all",
                "source": e.citation,
                "provisional": "yes" if e.provisional else "",
            }
            for e in tt.events
        ],
        description=f"Statutory timetable: {tt.title}, polling day {tt.poll_date:%d %B %Y}",
    )


def markdown_artifact(key: str, title: str, lines: list[str]) -> None:
    create_markdown_artifact(key=slug(key), markdown="\n".join([f"# {title}", "", *lines]))


def publish_plan(plan: Plan, saved: Saved) -> None:
    """A planning run's artifacts (the timetable, what was planned), and the planned event if
    anything changed (under ``pollflow serve`` it sets the deadline check off)."""
    tt, changes, planned = plan.timetable, saved.changes, plan.work
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


def publish_replan(plan: Plan, saved: Saved) -> None:
    """A replan's artifacts (the timetable, what moved), and the changed event if anything did."""
    changes = saved.changes
    timetable_artifact(plan.timetable)
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
            [e.election_id for e in plan.timetable.elections],
            {"poll_key": saved.poll_key, **changes.summary()},
            name=saved.poll_title,
        )
