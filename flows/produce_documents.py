"""produce_documents: draw up the notices that are due, raise their proof-check and approval as work,
and publish approved versions (to the output folder and, where configured, a webhook).

Orchestration only: ``tasks.documents.produce`` draws up, ``tasks.documents.publishing`` publishes,
``store.documents.versions`` records. Running it twice changes nothing the second time: a version
is made only when a document's content changed, work items and publications are written once.

publish_document: publish one approved document now (``pollflow document publish``).
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger
from sqlmodel import select

from flows.publish import current_run_id, emit, markdown_artifact
from store.db import session_scope
from store.documents.versions import find_document, published_version, steps_of
from store.models import Poll
from store.queries import elections_of, find_poll
from tasks.documents.catalogue import CATALOGUE
from tasks.documents.publishing import publish_one
from tasks.steps import produce_task, publish_task, webhook_task
from timetables.clock import now


@flow(name="produce-documents")
def produce_documents(
    election_id: str,
    as_of: dt.datetime | None = None,
    only: list[str] | None = None,
    publish: bool = True,
    actor: str = "flow:produce-documents",
) -> dict:
    """``as_of`` lets a planner see what a run on another date would do (tests and the demo)."""
    as_of = as_of or now()
    with session_scope() as session:
        poll = find_poll(session, election_id)
        poll_key, ids = poll.key, elections_of(session, poll)
    run_id = current_run_id()
    report = produce_task(poll_key, as_of, actor, only, run_id)
    published, waiting = publish_task(poll_key, as_of, actor, run_id) if publish else ([], [])
    sent, failed = webhook_task(poll_key) if publish else ([], [])
    report.published, report.webhooks = published, sent
    report.errors = failed
    summary = {**report.summary(), "waiting_to_publish": waiting}
    for label in report.generated:
        emit("pollflow.document.generated", f"pollflow.document.{poll_key}.{label}", ids, {"document": label})
    for label in report.changed_after_approval:
        emit("pollflow.document.changed", f"pollflow.document.{poll_key}.{label}", ids, {"document": label})
    for label in published:
        emit("pollflow.document.published", f"pollflow.document.{poll_key}.{label}", ids, {"document": label})
    if report.generated or published or report.blocked or report.changed_after_approval:
        markdown_artifact(
            f"documents-{poll_key}",
            f"Documents: {poll_key}",
            [
                *(f"- generated: {g}" for g in report.generated),
                *(
                    f"- changed after approval (sign-off needed again): {g}"
                    for g in report.changed_after_approval
                ),
                *(f"- blocked: {k}: {v}" for k, v in report.blocked.items()),
                *(f"- published: {p}" for p in published),
                *(f"- webhook failed (tried again next run): {f}" for f in failed),
            ],
        )
    get_run_logger().info(
        "%s: %d generated, %d blocked, %d published",
        poll_key,
        len(report.generated),
        len(report.blocked),
        len(published),
    )
    return summary


@flow(name="publish-document")
def publish_document(
    election_id: str, key: str, actor: str = "flow:publish-document", as_of: dt.datetime | None = None
) -> dict:
    """Publish the approved latest version of one document now; refused before approval."""
    as_of = as_of or now()
    with session_scope() as session:
        poll, doc = find_document(session, election_id, key, list(CATALOGUE))
        version = publish_one(session, poll, doc, as_of, actor, current_run_id())
        poll_key, ids, scope = poll.key, elections_of(session, poll), doc.scope
        number = version.number if version else published_version(session, doc).number
        steps = steps_of(session, published_version(session, doc))
        files = [f["path"] for f in steps["publication"].details.get("files", [])]
    sent, failed = webhook_task(poll_key)
    label = f"{key}:{scope} v{number}"
    if version is not None:
        emit("pollflow.document.published", f"pollflow.document.{poll_key}.{label}", ids, {"document": label})
    return {
        "document": key,
        "scope": scope,
        "version": number,
        "already_published": version is None,
        "files": files,
        "webhook": sent,
        "webhook_failed": failed,
    }


@flow(name="produce-all-documents")
def produce_all_documents(as_of: dt.datetime | None = None, days_after_poll: int = 60) -> dict:
    """produce_documents for every planned poll, from planning until ``days_after_poll`` days after
    polling day: one schedule (e.g. every 15 minutes) keeps every poll's notices moving."""
    as_of = as_of or now()
    since = as_of.date() - dt.timedelta(days=days_after_poll)
    with session_scope() as session:
        keys = list(
            session.exec(
                select(Poll.key)
                .where(Poll.status == "planned", Poll.poll_date >= since)
                .order_by(Poll.poll_date)
            ).all()
        )
    results = {}
    for key in keys:
        try:
            results[key] = produce_documents(election_id=key, as_of=as_of)
        except Exception as exc:  # one poll's failure must not stop the others' notices
            get_run_logger().error("%s: %s", key, exc)
            results[key] = {"error": str(exc)}
    return results
