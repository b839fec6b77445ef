"""The annual canvass as work.

- ``run_canvass``: plan a registration year (its timetable, work items with owners, reminders),
  then import an EMS progress report if one is given and raise the follow-up work it calls for.
  Running it again changes nothing; dates set earlier (a deferred revised register) are kept.
- ``import_canvass_progress``: import a progress report, as often as the team likes: the same
  file twice is one import; a newer report supersedes the older (kept for the record and trend).
- ``canvass_report`` (weekly, Monday morning): the progress of every registration year in season
  to the electoral services managers, as a table and a chart, and as Prefect artifacts.
- ``canvass_defer``: the ERO's decision to publish the revised register by 1 February (or to undo
  it): the registration year is replanned so every dependent deadline and task moves.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows.publish import current_run_id, emit, markdown_artifact, publish_plan, slug
from flows.replan import replan
from tasks import planning
from tasks.planning import Plan
from tasks.steps import (
    canvass_after_plan,
    check_deferral,
    compute_registration_year,
    deliver_outbox,
    import_progress,
    make_weekly_report,
    notify_moved,
    record_decision,
    reportable,
    save_plan,
    timetable_warnings,
)
from timetables.clock import now


@flow(name="run-canvass")
def run_canvass(
    canvass_id: str,
    nation: str | None = None,
    overrides: dict[str, str] | None = None,
    overlay: str | None = None,
    progress_file: str | None = None,
    report_date: dt.date | None = None,
    actor: str = "flow:run-canvass",
    today: dt.date | None = None,
    plan: Plan | None = None,
) -> dict:
    """Plan the registration year ``canvass_id`` (canvass.YYYY) into work, and import
    ``progress_file`` if given. ``plan``: the plan already computed from these inputs
    (``tasks.planning.plan_registration_year``: the command line computes it before Prefect
    starts, to refuse bad input at once)."""
    plan = plan or compute_registration_year(canvass_id, nation, overrides or {}, overlay)
    run_id = current_run_id()
    saved = save_plan(plan, actor, run_id)
    if saved.changes.work_moved:
        notify_moved(saved.poll_id, saved.changes.work_moved, "replanned")
    after = canvass_after_plan(saved.poll_key, actor, run_id)
    publish_plan(plan, saved)
    result = {**planning.summary(plan, saved), "deferral": after["deferral"]}
    if progress_file:
        result["import"] = _import(saved.poll_key, progress_file, report_date, actor, run_id, today)
    return result


def _import(
    canvass_id: str,
    path: str,
    report_date: dt.date | None,
    actor: str,
    run_id: str | None,
    today: dt.date | None,
) -> dict:
    imported = import_progress(canvass_id, path, report_date, actor, run_id, today)
    outcome, work = imported.outcome, imported.work
    figures = imported.figures
    routes = figures.get("routes", {})
    create_table_artifact(
        key=slug(f"canvass-import-{canvass_id}"),
        table=[
            {
                "route": name,
                "properties": routes[key]["properties"],
                "responded": routes[key]["responded"],
                "outstanding": routes[key]["outstanding"],
                "response_rate": f"{routes[key]['rate'] * 100:.1f}%",
            }
            for key, name in (("1", "Route 1"), ("2", "Route 2"), ("3", "Route 3"), ("all", "All"))
            if key in routes
        ],
        description=f"Canvass progress {canvass_id} as at {outcome['report_date']} ({outcome['status']})",
    )
    markdown_artifact(
        f"canvass-import-{canvass_id}-summary",
        f"Progress imported: {canvass_id}, report as at {outcome['report_date']}",
        [
            f"- file: {path}",
            f"- properties: {outcome['properties']:,}",
            f"- status: {outcome['status']}",
            "- follow-up work: "
            + ", ".join(f"{len(work.get(k, []))} {k}" for k in ("raised", "updated", "reopened", "closed")),
            *(f"- note: {n}" for n in outcome.get("notes", [])),
        ],
    )
    if outcome["status"] != "already imported":
        emit(
            "pollflow.canvass.progress-imported",
            f"pollflow.poll.{canvass_id}",
            [canvass_id],
            {**outcome, "work": work},
        )
    return {**outcome, "work": work}


@flow(name="import-canvass-progress")
def import_canvass_progress(
    canvass_id: str,
    path: str,
    report_date: dt.date | None = None,
    actor: str = "flow:import-canvass-progress",
    today: dt.date | None = None,
) -> dict:
    """Import an EMS progress report into a planned registration year; raise the work it calls for."""
    return _import(canvass_id, path, report_date, actor, current_run_id(), today)


@flow(name="canvass-report")
def canvass_report(
    canvass_id: str | None = None,
    as_of: dt.datetime | None = None,
    send: bool = True,
    text: bool = False,
    deliver: bool = True,
    actor: str = "flow:canvass-report",
) -> dict:
    """The week's canvass progress, for ``canvass_id`` or every registration year in season: to
    the managers (table and chart; ``text`` adds a text message to those with a phone), and as
    Prefect artifacts. Once per registration year and ISO week."""
    as_of = as_of or now()
    run_id = current_run_id()
    reports = {}
    for key in reportable(canvass_id, as_of):
        weekly = make_weekly_report(key, as_of, send, text, actor, run_id)
        at = f"{weekly.poll_title}, as at {weekly.report_date:%d %B %Y}"
        create_table_artifact(
            key=slug(f"canvass-progress-{key}"),
            table=weekly.route_rows,
            description=f"Canvass progress by route, {at}",
        )
        create_table_artifact(
            key=slug(f"canvass-needs-{key}"),
            table=weekly.need_rows,
            description=f"What the canvass needs, {at}",
        )
        markdown_artifact(
            f"canvass-report-{key}",
            f"Canvass progress: {weekly.poll_title} ({weekly.week})",
            weekly.markdown,
        )
        reports[key] = {
            "week": weekly.week,
            "report_id": weekly.report_id,
            "report_date": weekly.report_date.isoformat(),
            "changed": weekly.changed,
            "queued": weekly.queued,
            "link": weekly.link,
            "response_rate": weekly.figures["routes"]["all"]["rate"],
        }
    delivery = deliver_outbox().summary() if send and deliver and reports else None
    get_run_logger().info("canvass reports: %s", ", ".join(reports) or "none in season")
    return {"as_of": as_of.isoformat(), "reports": reports, "delivery": delivery}


@flow(name="canvass-defer")
def canvass_defer(
    canvass_id: str,
    by: str,
    publish_on: dt.date | None = None,
    undo: bool = False,
    deliver: bool = True,
) -> dict:
    """The ERO publishes the revised register by 1 February (``publish_on``) because a poll falls in
    the canvass; or, with ``undo``, by 1 December after all. Replans the registration year so every
    dependent deadline and task moves, and records who decided."""
    checked = check_deferral(canvass_id, by, publish_on, undo)
    if undo:
        result = replan(election_id=canvass_id, unset=["revised_register"], actor=checked["by"])
    else:
        result = replan(
            election_id=canvass_id, overrides={"revised_register": checked["to"]}, actor=checked["by"]
        )
    warnings = timetable_warnings(canvass_id)
    if undo:
        details = {"was": checked["was"], "now": "by 1 December", "warnings": warnings}
        record_decision(
            canvass_id, checked["by"], "revised register deferral undone", details, current_run_id()
        )
    else:
        details = {"to": checked["to"], "polls": checked["polls"], "warnings": warnings}
        record_decision(canvass_id, checked["by"], "revised register deferred", details, current_run_id())
    if deliver:
        deliver_outbox()
    return {**checked, **result, "warnings": warnings}
