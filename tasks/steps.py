"""Prefect tasks: each a thin wrapper over a plain function that is tested without Prefect.

Tasks take no cache (the store is the record) and the ones that talk to the outside world retry
with backoff; the outbox's own retry schedule covers failures that outlast a run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NONE

from store.db import get_engine, session_scope
from store.planning import Changes, ReplanInputs, replan_inputs, sync_poll
from tasks import settings
from tasks.messaging import alerts, delivery, digest
from tasks.messaging.changes import moved_messages
from timetables import Timetable, timetable_for
from timetables.work import PlannedTask, load_overlay, plan_work

TASK = dict(cache_policy=NONE, persist_result=False)


@task(name="compute timetable", **TASK)
def compute_timetable(election_ids: list[str], nation, kind, overrides: dict[str, str]) -> Timetable:
    return timetable_for(election_ids, nation=nation, kind=kind, overrides=overrides)


@task(name="plan work", **TASK)
def compute_work(tt: Timetable, overlay: str | None) -> list[PlannedTask]:
    return plan_work(tt, load_overlay(overlay) if overlay else None)


@dataclass
class Saved:
    poll_id: int
    poll_key: str
    poll_title: str
    changes: Changes


@task(name="save plan", **TASK)
def save_plan(
    poll_key: str,
    tt: Timetable,
    planned: list[PlannedTask],
    overrides: dict[str, str],
    overlay: str | None,
    actor: str,
    flow_run_id: str | None,
) -> Saved:
    with session_scope() as session:
        poll, changes = sync_poll(
            session,
            poll_key,
            tt,
            planned,
            overrides=overrides,
            overlay=overlay,
            actor=actor,
            flow_run_id=flow_run_id,
        )
        if changes.work_moved:
            moved_messages(session, poll, changes.work_moved, reason="replanned")
        return Saved(poll.id, poll.key, poll.title, changes)


@task(name="load stored plan", **TASK)
def load_replan_inputs(
    election_id: str, poll_date: dt.date | None, overrides: dict[str, str], unset: list[str]
) -> ReplanInputs:
    with session_scope() as session:
        return replan_inputs(session, election_id, poll_date, overrides, unset)


@task(name="scan deadlines", **TASK)
def scan_deadlines(as_of: dt.datetime) -> alerts.ScanResult:
    with session_scope() as session:
        return alerts.scan(session, as_of)


@task(name="queue digests", **TASK)
def queue_digests(as_of: dt.datetime) -> int:
    with session_scope() as session:
        return digest.digest(session, as_of)


@task(name="deliver outbox", retries=2, retry_delay_seconds=[5, 30], **TASK)
def deliver_outbox(limit: int = 10_000) -> delivery.DeliveryReport:
    return delivery.deliver(get_engine(), settings.load(), limit=limit)
