"""Every Prefect task pollflow's flows run, and the only module under tasks/ that imports Prefect.

Each task is a one-line call of a plain function that owns its transaction and is tested
without Prefect (``tasks.planning``, ``tasks.messaging``, ``tasks.staffing``, ``tasks.canvass``,
``tasks.documents``), so that the answer page and the commands that only read never import
Prefect. Tasks take no cache (the store is the record); the ones that talk to the outside world
retry with backoff, and the outbox's own retry schedule covers failures that outlast a run.
"""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.cache_policies import NONE

from store.planning import Moved
from tasks import planning
from tasks.canvass import reports
from tasks.documents import produce, publishing
from tasks.messaging import alerts, delivery, digest
from tasks.staffing import recruitment

TASK = dict(cache_policy=NONE, persist_result=False)
RETRIED = dict(retries=2, retry_delay_seconds=[5, 30])  # for tasks that send to the outside world


# --- planning ------------------------------------------------------------------------------------


@task(name="compute plan", **TASK)
def compute_plan(
    election_ids: list[str], nation, kind, overrides: dict[str, str], overlay: str | None
) -> planning.Plan:
    return planning.plan_poll(election_ids, nation, kind, overrides, overlay)


@task(name="compute replan", **TASK)
def compute_replan(
    election_id: str, poll_date: dt.date | None, overrides: dict[str, str], unset: list[str]
) -> planning.Plan:
    return planning.replan_poll(election_id, poll_date, overrides, unset)


@task(name="compute registration year", **TASK)
def compute_registration_year(
    canvass_id: str, nation: str | None, overrides: dict[str, str], overlay: str | None
) -> planning.Plan:
    return planning.plan_registration_year(canvass_id, nation, overrides, overlay)


@task(name="save plan", **TASK)
def save_plan(plan: planning.Plan, actor: str, flow_run_id: str | None) -> planning.Saved:
    return planning.save_plan(plan, actor, flow_run_id)


@task(name="tell owners what moved", **TASK)
def notify_moved(poll_id: int, moved: list[Moved], reason: str) -> int:
    return planning.notify_moved(poll_id, moved, reason)


# --- messages ------------------------------------------------------------------------------------


@task(name="scan deadlines", **TASK)
def scan_deadlines(as_of: dt.datetime) -> alerts.ScanResult:
    return alerts.scan_deadlines(as_of)


@task(name="queue digests", **TASK)
def queue_digests(as_of: dt.datetime) -> int:
    return digest.queue_digests(as_of)


@task(name="deliver outbox", **RETRIED, **TASK)
def deliver_outbox(
    limit: int = delivery.RUN_LIMIT, now: dt.datetime | None = None
) -> delivery.DeliveryReport:
    return delivery.deliver_outbox(limit, now)


# --- staff ---------------------------------------------------------------------------------------


@task(name="staffing: plan the need", **TASK)
def prepare_task(
    election_id: str,
    actor: str,
    ballot_papers: int | None = None,
    postal_votes: int | None = None,
    areas: list[str] | None = None,
    as_of: dt.datetime | None = None,
) -> recruitment.Prepared:
    return recruitment.prepare(election_id, actor, ballot_papers, postal_votes, areas, as_of)


@task(name="staffing: invite", **TASK)
def invite_task(poll_id: int, as_of: dt.datetime, actor: str) -> int:
    return recruitment.send_invitations(poll_id, as_of, actor)


@task(name="staffing: chase", **TASK)
def chase_task(poll_id: int, as_of: dt.datetime, actor: str) -> dict:
    return recruitment.send_chasers(poll_id, as_of, actor)


@task(name="staffing: lapse", **TASK)
def lapse_task(poll_id: int, as_of: dt.datetime, actor: str) -> dict:
    return recruitment.lapse(poll_id, as_of, actor)


@task(name="staffing: allocate", **TASK)
def fill_task(poll_id: int, actor: str, first: bool = False) -> dict | None:
    return recruitment.fill(poll_id, actor, first)


@task(name="staffing: offer", **TASK)
def offer_task(poll_id: int, actor: str, as_of: dt.datetime | None = None) -> int:
    return recruitment.send_offers(poll_id, actor, as_of)


@task(name="staffing: training reminders", **TASK)
def training_task(poll_id: int, as_of: dt.datetime) -> int:
    return recruitment.send_training_reminders(poll_id, as_of)


@task(name="staffing: after the poll", **TASK)
def after_poll_task(poll_id: int, as_of: dt.datetime, actor: str) -> int:
    return recruitment.after_poll(poll_id, as_of, actor)


@task(name="staffing: work items", **TASK)
def work_task(poll_id: int, actor: str) -> dict:
    return recruitment.update_work(poll_id, actor)


@task(name="staffing: purge bank and NI details", **TASK)
def purge_task(as_of: dt.datetime, actor: str, dry_run: bool = False) -> dict:
    return recruitment.purge(as_of, actor, dry_run)


# --- the canvass ---------------------------------------------------------------------------------


@task(name="import canvass progress", **TASK)
def import_progress(
    canvass_key: str,
    path: str,
    report_date: dt.date | None,
    actor: str,
    flow_run_id: str | None,
    today: dt.date | None = None,
) -> reports.Imported:
    return reports.import_progress(canvass_key, path, report_date, actor, flow_run_id, today)


@task(name="canvass after planning", **TASK)
def canvass_after_plan(poll_key: str, actor: str, flow_run_id: str | None) -> dict:
    return reports.after_plan(poll_key, actor, flow_run_id)


@task(name="registration years to report", **TASK)
def reportable(canvass_key: str | None, as_of: dt.datetime) -> list[str]:
    return reports.reportable(canvass_key, as_of)


@task(name="make weekly canvass report", **TASK)
def make_weekly_report(
    canvass_key: str, as_of: dt.datetime, send: bool, text: bool, actor: str, flow_run_id: str | None
) -> reports.Weekly:
    return reports.weekly_report(canvass_key, as_of, send, text, actor, flow_run_id)


@task(name="check deferral", **TASK)
def check_deferral(canvass_key: str, by: str, publish_on: dt.date | None, undo: bool) -> dict:
    return reports.check_deferral(canvass_key, by, publish_on, undo)


@task(name="registration year warnings", **TASK)
def timetable_warnings(canvass_key: str) -> list[str]:
    return reports.timetable_warnings(canvass_key)


@task(name="record deferral decision", **TASK)
def record_decision(canvass_key: str, by: str, action: str, details: dict, flow_run_id: str | None) -> None:
    return reports.record_decision(canvass_key, by, action, details, flow_run_id)


# --- documents -----------------------------------------------------------------------------------


@task(name="produce documents", **TASK)
def produce_task(
    poll_key: str, as_of: dt.datetime, actor: str, only: list[str] | None, flow_run_id: str | None
) -> produce.ProduceReport:
    return produce.produce_due(poll_key, as_of, actor, only, flow_run_id)


@task(name="publish approved documents", **TASK)
def publish_task(
    poll_key: str, as_of: dt.datetime, actor: str, flow_run_id: str | None
) -> tuple[list[str], list[str]]:
    return publishing.publish_approved(poll_key, as_of, actor, flow_run_id)


@task(name="send documents to webhook", **RETRIED, **TASK)
def webhook_task(poll_key: str) -> tuple[list[str], list[str]]:
    return publishing.announce(poll_key)
