"""Recruiting temporary staff for a poll: invite, chase, lapse, allocate, offer, appoint, train.

``recruit_staff`` starts recruitment for a poll, or moves it on: each run does whatever is due
as of ``as_of`` and nothing twice (every step is idempotent and its own transaction, every
message has a dedupe key), so it can run on a schedule (every poll with staffing started, when
no election is named) and after a crash. Once a manager has run ``allocate_staff``, each run
also fills posts left vacant by withdrawals, declined or lapsed offers from the reserve list,
and offers them.

``purge_staff_data`` deletes bank details and NI numbers whose retention period has ended.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from flows.publish import emit, markdown_artifact
from tasks.staffing import open_polls
from tasks.steps import (
    after_poll_task,
    chase_task,
    deliver_outbox,
    fill_task,
    invite_task,
    lapse_task,
    offer_task,
    prepare_task,
    purge_task,
    training_task,
    work_task,
)
from timetables.clock import now


def _advance(poll_id: int, as_of: dt.datetime, actor: str) -> dict:
    invited = invite_task(poll_id, as_of, actor)
    chased = chase_task(poll_id, as_of, actor)
    lapsed = lapse_task(poll_id, as_of, actor)
    replaced = fill_task(poll_id, actor)
    offered = offer_task(poll_id, actor, as_of)
    training = training_task(poll_id, as_of)
    experience = after_poll_task(poll_id, as_of, actor)
    work = work_task(poll_id, actor)
    return {
        "invited": invited,
        "chased": chased,
        "lapsed": lapsed,
        "replacements": replaced,
        "offers": offered,
        "training_reminders": training,
        "experience_recorded": experience,
        "work": work,
    }


@flow(name="recruit-staff")
def recruit_staff(
    election_id: str | None = None,
    as_of: dt.datetime | None = None,
    ballot_papers: int | None = None,
    postal_votes: int | None = None,
    areas: list[str] | None = None,
    actor: str = "flow:recruit-staff",
    deliver: bool = True,
) -> dict:
    """Start or advance recruitment for one poll, or (no election) for every poll under way."""
    as_of = as_of or now()
    keys = [election_id] if election_id else open_polls(as_of)
    results = {}
    for key in keys:
        prepared = prepare_task(
            key,
            actor,
            ballot_papers if election_id else None,
            postal_votes if election_id else None,
            areas if election_id else None,
            as_of,
        )
        steps = _advance(prepared.poll_id, as_of, actor)
        results[prepared.poll_key] = {
            "poll_key": prepared.poll_key,
            "posts": prepared.posts,
            "posts_added": prepared.posts_added,
            "posts_removed": prepared.posts_removed,
            "surplus_held": prepared.surplus_held,
            "warnings": prepared.warnings,
            "ballot_papers": prepared.ballot_papers,
            "postal_packets": prepared.postal_packets,
            **steps,
        }
        markdown_artifact(
            f"staffing-{prepared.poll_key}-{as_of:%Y%m%d%H%M}",
            f"Staff recruitment: {prepared.poll_title}",
            [
                f"- posts: {prepared.posts} ({prepared.posts_added} new)",
                f"- invitations sent: {steps['invited']}",
                f"- chasers: {steps['chased']['invitations']} invitations, "
                f"{steps['chased']['offers']} offers",
                f"- lapsed: {steps['lapsed']['invitations']} invitations, "
                f"{len(steps['lapsed']['offers'])} offers",
                f"- replacements from the reserve: {(steps['replacements'] or {}).get('assigned', 0)}",
                f"- offers sent: {steps['offers']}",
                *(f"- warning: {w}" for w in prepared.warnings),
            ],
        )
        changed = steps["invited"] or steps["offers"] or (steps["replacements"] or {}).get("assigned")
        if changed:
            emit(
                "pollflow.staffing.advanced",
                f"pollflow.staffing.{prepared.poll_key}",
                prepared.poll_key.split("+"),
                {k: v for k, v in results[prepared.poll_key].items() if k != "work"},
                name=prepared.poll_title,
            )
    report = deliver_outbox() if deliver else None
    get_run_logger().info("recruitment advanced for %d poll(s)", len(results))
    return {"polls": results, "delivery": report.summary() if report else None}


@flow(name="allocate-staff")
def allocate_staff(
    election_id: str,
    as_of: dt.datetime | None = None,
    actor: str = "flow:allocate-staff",
    deliver: bool = True,
) -> dict:
    """Fill every vacant post from those available (pins and offers stay), and offer them."""
    as_of = as_of or now()
    prepared = prepare_task(election_id, actor, as_of=as_of)
    allocated = fill_task(prepared.poll_id, actor, True)
    offered = offer_task(prepared.poll_id, actor, as_of)
    work = work_task(prepared.poll_id, actor)
    markdown_artifact(
        f"allocation-{prepared.poll_key}",
        f"Staff allocation: {prepared.poll_title}",
        [
            f"- posts: {allocated['slots']}, newly filled: {allocated['assigned']}, "
            f"unfilled: {allocated['unfilled']}",
            f"- preferences met: {allocated['preferences_met']} of {allocated['with_preferences']}",
            f"- mean distance from home: {allocated['mean_distance_km']} km",
            f"- reserve list: {allocated['reserve']}",
            f"- offers sent: {offered}",
            *(f"- unfilled: {r}" for r in allocated["unfilled_reasons"]),
        ],
    )
    if allocated["assigned"]:
        emit(
            "pollflow.staffing.allocated",
            f"pollflow.staffing.{prepared.poll_key}",
            prepared.poll_key.split("+"),
            {"poll_key": prepared.poll_key, **allocated},
            name=prepared.poll_title,
        )
    report = deliver_outbox() if deliver else None
    return {
        "poll_key": prepared.poll_key,
        **allocated,
        "offers": offered,
        "work": work,
        "delivery": report.summary() if report else None,
    }


@flow(name="purge-staff-data")
def purge_staff_data(
    as_of: dt.datetime | None = None, actor: str = "flow:purge-staff-data", dry_run: bool = False
) -> dict:
    """Delete bank details and NI numbers past their retention period (idempotent)."""
    return purge_task(as_of or now(), actor, dry_run)
