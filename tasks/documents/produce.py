"""Drawing up a poll's documents: each one that is due, as a new version where what it says has
changed, with the work it needs raised (the missing details, the proof-check, the approval, the
publication); and the status of each.

The parts live in modules named for what they hold:

- ``tasks.documents.rendering``: the one strict renderer (HTML, PDF, Word), for notices and letters alike.
- ``tasks.documents.text``: dates and times as notices write them, in English and Welsh.
- ``tasks.documents.law``: what differs by kind of poll (templates, rules, headings, deposits).
- ``tasks.documents.sources``: what the store holds for a poll, read once.
- ``tasks.documents.catalogue``: each document, and how its context is gathered.
- ``tasks.documents.publishing``: publishing an approved version, and the webhook.

Plain functions, tested without Prefect; the Prefect tasks that run them are in ``tasks.steps``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlmodel import Session

from store.db import session_scope
from store.documents.versions import (
    APPROVE_ROLE,
    PROOF_ROLE,
    PUBLISH_ROLE,
    close_work,
    document_for,
    documents_of,
    ensure_work,
    latest_version,
    publish_work_key,
    published_version,
    save_version,
    steps_of,
    work_key,
)
from store.models import Poll, WorkStatus, utcnow
from store.queries import find_poll
from tasks.documents.catalogue import CATALOGUE, DocumentSpec
from tasks.documents.rendering import content_hash, render_html
from tasks.documents.sources import Sources, load_sources
from timetables.clock import local
from timetables.errors import PollflowError

# --------------------------------------------------------------------------------------------
# Drawing up a document


@dataclass
class Drawn:
    spec: DocumentSpec
    scope: str
    template: str
    context: dict
    html: str
    content_hash: str


def draw(src: Sources, spec: DocumentSpec, scope: str, banner: str | None = None) -> Drawn:
    """The document as the data stand now, rendered strictly (MissingFieldError names a gap)."""
    template = spec.template(src, scope)
    context = spec.context(src, scope)
    name = f"{spec.key} for {scope}"
    html = render_html(template, context, banner=banner, name=name)
    return Drawn(spec, scope, template, context, html, content_hash(template, context))


@dataclass
class ProduceReport:
    poll_key: str
    generated: list[str] = field(default_factory=list)  # "key:scope v2"
    unchanged: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # "key:scope" -> what is missing
    not_yet: list[str] = field(default_factory=list)
    changed_after_approval: list[str] = field(default_factory=list)
    work_raised: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "poll_key": self.poll_key,
            "generated": self.generated,
            "unchanged": len(self.unchanged),
            "blocked": self.blocked,
            "not_yet_due": self.not_yet,
            "changed_after_approval": self.changed_after_approval,
            "work_raised": self.work_raised,
            "published": self.published,
            "webhooks": self.webhooks,
            "errors": self.errors,
        }


def step_deadlines(
    created: dt.datetime, due: dt.datetime, proof_lead: dt.timedelta, approve_lead: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    """When the proof-check and the approval are due: ``proof_lead`` and ``approve_lead`` before the
    publishing deadline; a version made later than that gets half and three quarters of the time
    left (and, once the deadline has passed, both are due at once)."""
    proof_due, approve_due = due - proof_lead, due - approve_lead
    if proof_due < created:
        left = max(due - created, dt.timedelta(0))
        proof_due, approve_due = created + left / 2, created + left * 3 / 4
    minute = dict(second=0, microsecond=0)
    return proof_due.replace(**minute), approve_due.replace(**minute)


def applicable(src: Sources, only: list[str] | None = None) -> list[tuple[DocumentSpec, str]]:
    found = []
    for spec in CATALOGUE.values():
        if only and spec.key not in only:
            continue
        for scope in spec.scopes(src):
            if spec.applies(src, scope):
                found.append((spec, scope))
    return found


def produce(
    session: Session,
    poll: Poll,
    as_of: dt.datetime,
    actor: str = "flow:produce-documents",
    only: list[str] | None = None,
    flow_run_id: str | None = None,
) -> ProduceReport:
    """Draw up every document that is due, as a new version where its content changed, and raise
    the work it needs: the missing details, the proof-check, the approval, the publication."""
    src = load_sources(session, poll, as_of)
    report = ProduceReport(poll.key)
    for spec, scope in applicable(src, only):
        label = f"{spec.key}:{scope}"
        ready = spec.ready_at(src, scope)
        due, event_key = spec.deadline(src, scope)
        doc = document_for(session, poll, spec.key, scope, spec.title, event_key, due)
        _publish_work(session, poll, doc, spec, due, event_key, scope, report)
        if ready is not None and as_of < ready:
            report.not_yet.append(label)
            continue
        try:
            drawn = draw(src, spec, scope)
        except PollflowError as exc:
            why = supplied_by(src, scope, str(exc))
            _blocked(session, poll, doc, spec, scope, due, event_key, why, report)
            continue
        if doc.blocked:
            doc.blocked = None
            close_work(session, poll, work_key("details", doc), WorkStatus.DONE, "details given")
        saved = save_version(
            session,
            poll,
            doc,
            template=drawn.template,
            context=drawn.context,
            html=drawn.html,
            content_hash=drawn.content_hash,
            actor=actor,
            flow_run_id=flow_run_id,
        )
        if not saved.created:
            report.unchanged.append(label)
        else:
            report.generated.append(f"{label} v{saved.version.number}")
            if saved.after_approval:
                report.changed_after_approval.append(f"{label} v{saved.version.number}")
        _version_work(session, poll, doc, spec, saved.version, due, event_key, scope, report)
    return report


def produce_due(
    poll_key: str, as_of: dt.datetime, actor: str, only: list[str] | None, flow_run_id: str | None
) -> ProduceReport:
    """``produce`` for a poll, in a transaction of its own (the flow's step)."""
    with session_scope() as session:
        return produce(session, find_poll(session, poll_key), as_of, actor, only, flow_run_id)


def _publish_work(session, poll, doc, spec, due, event_key, scope, report) -> str | None:
    """The publishing deadline as work: the plan's own task where it has one, else ours."""
    found = publish_work_key(session, poll, doc, spec.catalogue_task)
    if found or due is None:
        return found
    item, created = ensure_work(
        session,
        poll,
        work_key("publish", doc),
        title=f"Publish the {spec.title.lower()} ({scope})",
        role=PUBLISH_ROLE,
        due_at=due,
        event_key=event_key,
        election_id=scope,
        signoff=True,
        description=f"Published by `pollflow document publish {scope} {spec.key}` once approved",
    )
    if created:
        report.work_raised.append(item.key)
    return item.key


# What a notice may lack, and the plan's work item whose doing supplies it: a blocked notice names
# it, so the team sees which piece of work is holding the notice up, not only which field is empty.
SUPPLIED_BY = {"polling_stations": "book_polling_stations", "candidates": "nominations"}


def supplied_by(src: Sources, scope: str, why: str) -> str:
    """``why`` with the plan's work item that supplies what is missing, where the poll has one."""
    for field_name, task in SUPPLIED_BY.items():
        # The field itself, not one inside it (candidates[2].agent_address is not the nominations').
        if not re.search(rf"no value for {field_name}(?=$|[ :(])", why):
            continue
        item = src.work.get(f"{task}:{scope}") or src.work.get(task)
        if item is not None:
            return f"{why}; they come from the work item '{item.title}' ({item.key})"
    return why


def _blocked(session, poll, doc, spec, scope, due, event_key, why: str, report) -> None:
    report.blocked[f"{spec.key}:{scope}"] = why
    if doc.blocked != why:
        doc.blocked = why
    if due is None:
        return
    proof_due, _ = step_deadlines(utcnow(), due, spec.proof_lead, spec.approve_lead)
    item, created = ensure_work(
        session,
        poll,
        work_key("details", doc),
        title=f"Give what the {spec.title.lower()} needs ({scope}): {why.split(': ', 1)[-1]}",
        role=PUBLISH_ROLE,
        due_at=proof_due,
        event_key=event_key,
        election_id=scope,
    )
    if created:
        report.work_raised.append(item.key)


def _version_work(session, poll, doc, spec, version, due, event_key, scope, report) -> None:
    if version.status not in ("generated", "proofed") or due is None:
        return
    proof_due, approve_due = step_deadlines(version.created_at, due, spec.proof_lead, spec.approve_lead)
    name = f"the {spec.title.lower()} (version {version.number}, {scope})"
    proof_item, created = ensure_work(
        session,
        poll,
        work_key("proof", doc, version),
        title=f"Proof-check {name}",
        role=PROOF_ROLE,
        due_at=proof_due,
        event_key=event_key,
        election_id=scope,
        description=f"`pollflow document render {scope} {spec.key} --format pdf`, check it against the "
        f"nomination papers and the timetable, then `pollflow document proof {scope} {spec.key} --by EMAIL`",
    )
    if created:
        report.work_raised.append(proof_item.key)
    approve_item, created = ensure_work(
        session,
        poll,
        work_key("approve", doc, version),
        title=f"Approve {name}",
        role=APPROVE_ROLE,
        due_at=approve_due,
        event_key=event_key,
        election_id=scope,
        signoff=True,
        depends_on=proof_item,
        description=f"`pollflow document approve {scope} {spec.key} --by EMAIL` (the Returning Officer or a "
        "deputy)",
    )
    if created:
        report.work_raised.append(approve_item.key)


# --------------------------------------------------------------------------------------------
# Listing


def status_rows(session: Session, poll: Poll) -> list[dict]:
    rows = []
    for doc in documents_of(session, poll):
        latest = latest_version(session, doc)
        steps = steps_of(session, latest) if latest else {}
        published = published_version(session, doc)

        def who(step: str, steps=steps) -> str | None:
            s = steps.get(step)
            return f"{s.actor} {local(s.at):%d %b %H:%M}" if s else None

        status = latest.status if latest else ("blocked" if doc.blocked else "not yet drawn up")
        rows.append(
            {
                "key": doc.key,
                "scope": doc.scope,
                "title": doc.title,
                "version": latest.number if latest else None,
                "status": status,
                "blocked": doc.blocked,
                "deadline": local(doc.due_at).isoformat() if doc.due_at else None,
                "proofed": who("proof"),
                "approved": who("approval"),
                "published": who("publication"),
                "published_version": published.number if published else None,
            }
        )
    order = {k: n for n, k in enumerate(CATALOGUE)}
    return sorted(rows, key=lambda r: (r["scope"], order.get(r["key"], 99)))
