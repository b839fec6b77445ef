"""What flows tell Prefect: domain events (for triggers) and artifacts (the audit dashboard)."""

from __future__ import annotations

import re

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event
from prefect.runtime import flow_run

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
