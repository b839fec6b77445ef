"""Documents in the store: each document's versions with their named steps (proof-check,
approval by the Returning Officer or a deputy, publication), and the work items those steps raise.

Plain functions over a session, no Prefect and no rendering (``tasks.documents.produce`` draws up,
``tasks.documents.rendering`` renders); the details notices need are in
``store.documents.council_details`` and the candidates in ``store.documents.candidates``.

- ``save_version``, ``proof``, ``approve``, ``check_publishable``, ``record_publication``: a
  version is generated, proof-checked by a named person, approved by someone else who holds the
  returning-officer or deputy-returning-officer role, then published. Content that changes makes
  a new version, which needs the same steps again. Every step is in the audit trail.
- ``ensure_work``, ``close_work``: each step that is due is a work item with an owner and a
  deadline, so that it appears on the plan with everything else (raised once, closed when done).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from store.audit import record
from store.models import SIGNOFF_ROLES, Person, Poll, WorkDependency, WorkItem, WorkStatus, utcnow
from store.models.documents import Document, DocumentStep, DocumentVersion
from store.owners import OwnerPicker
from store.people import find_person, roles_of
from store.queries import NotFoundError, find_poll
from timetables.clock import local, long_date
from timetables.errors import PollflowError

SOURCE = "documents"  # work items this module raises; store.planning leaves them alone


class DocumentError(PollflowError):
    """A document step refused: out of order, by the wrong person, or on a stale version."""


# --------------------------------------------------------------------------------------------
# Documents, versions and their steps


def document_for(
    session: Session, poll: Poll, key: str, scope: str, title: str, event_key: str | None, due_at
) -> Document:
    """The document row, created once; its title and deadline kept up to date."""
    doc = session.exec(
        select(Document).where(Document.poll_id == poll.id, Document.key == key, Document.scope == scope)
    ).first()
    if doc is None:
        doc = Document(poll_id=poll.id, key=key, scope=scope, title=title, event_key=event_key, due_at=due_at)
        session.add(doc)
        session.flush()
    elif (doc.title, doc.event_key, doc.due_at) != (title, event_key, due_at):
        doc.title, doc.event_key, doc.due_at, doc.updated_at = title, event_key, due_at, utcnow()
    return doc


def documents_of(session: Session, poll: Poll) -> list[Document]:
    return list(session.exec(select(Document).where(Document.poll_id == poll.id).order_by(Document.id)).all())


def find_document(session: Session, election_or_poll: str, key: str, known_keys: list[str] | None = None):
    """(poll, document) for an election id (or a poll's key) and a document key."""
    poll = find_poll(session, election_or_poll)
    docs = [d for d in documents_of(session, poll) if d.key == key]
    if known_keys is not None and key not in known_keys:
        raise PollflowError(f"unknown document '{key}': documents are {', '.join(known_keys)}")
    mine = [d for d in docs if d.scope == election_or_poll] or (docs if len(docs) == 1 else [])
    if not mine:
        if docs:
            raise PollflowError(
                f"{election_or_poll} has a {key} for each of its elections: name one of "
                f"{', '.join(d.scope for d in docs)}"
            )
        raise NotFoundError(
            f"no {key} for {election_or_poll} yet: it is made when it is due "
            f"(`pollflow document produce {election_or_poll}`; "
            f"`pollflow documents {election_or_poll}` lists them)"
        )
    return poll, mine[0]


def versions_of(session: Session, doc: Document) -> list[DocumentVersion]:
    return list(
        session.exec(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == doc.id)
            .order_by(DocumentVersion.number)
        ).all()
    )


def latest_version(session: Session, doc: Document) -> DocumentVersion | None:
    return session.exec(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == doc.id)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    ).first()


def steps_of(session: Session, version: DocumentVersion) -> dict[str, DocumentStep]:
    return {
        s.step: s for s in session.exec(select(DocumentStep).where(DocumentStep.version_id == version.id))
    }


def published_version(session: Session, doc: Document) -> DocumentVersion | None:
    return session.exec(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == doc.id, DocumentVersion.status == "published")
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    ).first()


@dataclass
class Saved:
    version: DocumentVersion
    created: bool
    superseded: DocumentVersion | None = None
    after_approval: bool = False  # the content changed after a version was approved (or published)


def save_version(
    session: Session,
    poll: Poll,
    doc: Document,
    *,
    template: str,
    context: dict,
    html: str,
    content_hash: str,
    actor: str,
    flow_run_id: str | None = None,
) -> Saved:
    """A new version if the content differs from the latest one's; the same version otherwise."""
    latest = latest_version(session, doc)
    if latest is not None and latest.content_hash == content_hash:
        return Saved(latest, created=False)
    version = DocumentVersion(
        document_id=doc.id,
        number=(latest.number + 1) if latest else 1,
        template=template,
        content_hash=content_hash,
        context=context,
        html=html,
        created_by=actor,
    )
    session.add(version)
    session.flush()
    audit = dict(poll_id=poll.id, subject=f"{doc.key}:{doc.scope}", flow_run_id=flow_run_id)
    after_approval = False
    if latest is not None:
        after_approval = latest.status in ("approved", "published") or (
            published_version(session, doc) is not None
        )
        if latest.status != "published":
            latest.status, latest.superseded_at = "superseded", utcnow()
        cancel_version_work(session, poll, doc, latest)
        if after_approval:
            record(
                session,
                actor,
                "document changed after approval",
                details={
                    "from_version": latest.number,
                    "to_version": version.number,
                    "was": latest.status if latest.status != "superseded" else "approved",
                    "needs": "proof-check and approval again",
                },
                **audit,
            )
    record(
        session,
        actor,
        "document generated",
        details={"version": version.number, "template": template, "content_hash": content_hash},
        **audit,
    )
    return Saved(version, created=True, superseded=latest, after_approval=after_approval)


def _version_for_step(session: Session, doc: Document, number: int | None) -> DocumentVersion:
    latest = latest_version(session, doc)
    if latest is None:
        raise DocumentError(f"{doc.key} for {doc.scope} has no version yet: run `pollflow document produce`")
    if number is not None and number != latest.number:
        why = "it replaced yours when the content changed" if number < latest.number else "no such version"
        raise DocumentError(
            f"version {number} of {doc.key} is not the latest: version {latest.number} is ({why})"
        )
    return latest


def _step(session, version, step, person, actor, note=None, details=None) -> DocumentStep:
    row = DocumentStep(
        version_id=version.id,
        step=step,
        person_id=person.id if person else None,
        actor=actor,
        note=note,
        details=details or {},
    )
    session.add(row)
    return row


def proof(
    session: Session,
    doc: Document,
    poll: Poll,
    by_email: str,
    *,
    version: int | None = None,
    note: str | None = None,
    current_hash: str | None = None,
) -> tuple[DocumentVersion, bool]:
    """Record the proof-check of the latest version by a named person; (version, newly done).

    ``current_hash`` (the hash of the document as the data now stand) refuses a proof of a
    version the data have moved on from."""
    by = find_person(session, by_email)
    target = _version_for_step(session, doc, version)
    steps = steps_of(session, target)
    if "proof" in steps:
        return target, False
    _check_not_sent_back(doc, target, steps)
    if target.status == "superseded":
        raise DocumentError(f"version {target.number} of {doc.key} was superseded")
    _check_current(doc, target, current_hash)
    _step(session, target, "proof", by, by.email, note)
    target.status = "proofed"
    record(
        session,
        by.email,
        "document proof-checked",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": target.number, "content_hash": target.content_hash, "note": note},
    )
    _complete_work(session, poll, doc, target, "proof", by)
    return target, True


def approve(
    session: Session,
    doc: Document,
    poll: Poll,
    by_email: str,
    *,
    version: int | None = None,
    note: str | None = None,
    current_hash: str | None = None,
) -> tuple[DocumentVersion, bool]:
    """Record the Returning Officer's (or a deputy's) approval of the proof-checked latest version;
    refused without the role, before the proof-check, or by the person who proof-checked it."""
    by = find_person(session, by_email)
    held = roles_of(session, by) & set(SIGNOFF_ROLES)
    if not held:
        raise DocumentError(
            f"{by.email} cannot approve {doc.key}: approval needs the returning-officer or "
            f"deputy-returning-officer role, and {by.email} holds neither"
        )
    target = _version_for_step(session, doc, version)
    steps = steps_of(session, target)
    if "approval" in steps:
        return target, False
    _check_not_sent_back(doc, target, steps)
    if "proof" not in steps:
        raise DocumentError(
            f"version {target.number} of {doc.key} has not been proof-checked: "
            f"`pollflow document proof {doc.scope} {doc.key} --by EMAIL` first"
        )
    if steps["proof"].person_id == by.id:
        raise DocumentError(
            f"{by.email} proof-checked version {target.number} of {doc.key}: the approval must be "
            "by someone else (a second pair of eyes)"
        )
    _check_current(doc, target, current_hash)
    _step(session, target, "approval", by, by.email, note, {"role": sorted(held)[0]})
    target.status = "approved"
    record(
        session,
        by.email,
        "document approved",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": target.number, "content_hash": target.content_hash, "role": sorted(held)[0]},
    )
    _complete_work(session, poll, doc, target, "approve", by)
    return target, True


def _check_not_sent_back(doc: Document, version: DocumentVersion, steps: dict[str, DocumentStep]) -> None:
    if "sent back" in steps:
        step = steps["sent back"]
        raise DocumentError(
            f"version {version.number} of {doc.key} was sent back by {step.actor} ({step.note}): correct the "
            f"data and `pollflow document produce {doc.scope}` makes the next version"
        )


def send_back(
    session: Session, doc: Document, poll: Poll, by_email: str, *, version: int, reason: str
) -> tuple[DocumentVersion, bool]:
    """The Returning Officer (or a deputy) declines to approve a version, saying why; it cannot be
    approved now, and the next version (once the data are corrected) starts its checks again."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DocumentError("say why it is sent back, so that whoever corrects it knows what to change")
    if len(reason) > 2000:
        raise DocumentError("the reason can be at most 2,000 characters")
    by = find_person(session, by_email)
    if not roles_of(session, by) & set(SIGNOFF_ROLES):
        raise DocumentError(
            f"{by.email} cannot send {doc.key} back: that is the Returning Officer's or a deputy's decision"
        )
    target = _version_for_step(session, doc, version)
    steps = steps_of(session, target)
    if "sent back" in steps:
        return target, False
    if "approval" in steps:
        raise DocumentError(f"version {target.number} of {doc.key} is approved already")
    _step(session, target, "sent back", by, by.email, reason)
    target.status = "sent back"
    record(
        session,
        by.email,
        "document sent back",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": target.number, "content_hash": target.content_hash, "reason": reason},
    )
    return target, True


def _check_current(doc: Document, version: DocumentVersion, current_hash: str | None) -> None:
    if current_hash is not None and current_hash != version.content_hash:
        raise DocumentError(
            f"the data behind {doc.key} changed after version {version.number} was made: run "
            f"`pollflow document produce {doc.scope}` to make the next version, and check that one"
        )


def check_publishable(session: Session, doc: Document, publish_from: dt.datetime | None, as_of: dt.datetime):
    """The latest version, if it may be published now; else why not. None if already published."""
    latest = _version_for_step(session, doc, None)
    steps = steps_of(session, latest)
    if "publication" in steps:
        return None
    if "approval" not in steps:
        missing = "proof-checked or approved" if "proof" not in steps else "approved"
        raise DocumentError(
            f"version {latest.number} of {doc.key} has not been {missing}: it cannot be published "
            f"before the Returning Officer or a deputy approves it"
        )
    if publish_from is not None and as_of < publish_from:
        day = local(publish_from)
        raise DocumentError(
            f"{doc.key} is dated {long_date(day)}: it cannot be published before that day "
            f"(to publish earlier, set the date: `pollflow replan {doc.scope} --set {doc.event_key}=DATE`, "
            "which makes a new version for sign-off)"
        )
    return latest


def record_publication(
    session: Session,
    poll: Poll,
    doc: Document,
    version: DocumentVersion,
    actor: str,
    files: list[dict],
    as_of: dt.datetime,
    flow_run_id: str | None = None,
    publish_work: str | None = None,
) -> DocumentStep:
    """Record that the version was published (files written, where); complete the work item that
    carried the publishing deadline, in the name of the person who approved the version."""
    late = doc.due_at is not None and as_of > doc.due_at
    details = {
        "files": files,
        "late": late,
        "deadline": local(doc.due_at).isoformat() if doc.due_at else None,
    }
    step = _step(session, version, "publication", None, actor, details=details)
    version.status = "published"
    for older in versions_of(session, doc):
        if older.number < version.number and older.status not in ("published", "superseded"):
            older.status = "superseded"
    record(
        session,
        actor,
        "document published",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": version.number, "content_hash": version.content_hash, **details},
        flow_run_id=flow_run_id,
    )
    approval = steps_of(session, version).get("approval")
    approver = session.get(Person, approval.person_id) if approval and approval.person_id else None
    if publish_work and close_work(
        session, poll, publish_work, WorkStatus.DONE, f"published version {version.number}", approver
    ):
        record(
            session,
            actor,
            "completed",
            poll_id=poll.id,
            subject=publish_work,
            details={
                "note": f"{doc.key} version {version.number} published",
                "signoff": approver.email if approver else None,
            },
            flow_run_id=flow_run_id,
        )
    return step


def record_webhook(
    session: Session, poll: Poll, doc: Document, version: DocumentVersion, url_host: str
) -> None:
    _step(session, version, "webhook", None, "flow:produce-documents", details={"to": url_host})
    record(
        session,
        "flow:produce-documents",
        "document sent to webhook",
        poll_id=poll.id,
        subject=f"{doc.key}:{doc.scope}",
        details={"version": version.number, "to": url_host},
    )


# --------------------------------------------------------------------------------------------
# Work: proof-checks, approvals, missing details and publication deadlines as work items

PROOF_ROLE = "electoral-services-officer"
APPROVE_ROLE = "returning-officer"
PUBLISH_ROLE = "electoral-services-manager"


def work_key(step: str, doc: Document, version: DocumentVersion | None = None) -> str:
    return f"{step}_{doc.key}:{doc.scope}" + (f":v{version.number}" if version else "")


def _work(session: Session, poll: Poll, key: str) -> WorkItem | None:
    return session.exec(select(WorkItem).where(WorkItem.poll_id == poll.id, WorkItem.key == key)).first()


def ensure_work(
    session: Session,
    poll: Poll,
    key: str,
    *,
    title: str,
    role: str,
    due_at: dt.datetime,
    event_key: str | None,
    election_id: str | None,
    signoff: bool = False,
    description: str | None = None,
    depends_on: WorkItem | None = None,
    actor: str = "flow:produce-documents",
) -> tuple[WorkItem, bool]:
    """A work item of this module's, created once (and its due date kept up to date)."""
    item = _work(session, poll, key)
    if item is not None:
        if item.status == WorkStatus.OPEN and (item.due_at != due_at or item.title != title):
            item.due_at, item.title = due_at, title
        return item, False
    owner = OwnerPicker(session).pick(role)
    item = WorkItem(
        poll_id=poll.id,
        key=key,
        title=title,
        description=description,
        owner_role=role,
        owner_id=owner.id if owner else None,
        due_at=due_at,
        anchor=event_key or "poll",
        event_key=event_key,
        needs_signoff=signoff,
        source=SOURCE,
        election_id=election_id,
    )
    session.add(item)
    session.flush()
    if depends_on is not None:
        session.add(WorkDependency(work_item_id=item.id, depends_on_id=depends_on.id))
    record(
        session,
        actor,
        "work raised",
        poll_id=poll.id,
        subject=key,
        details={"title": title, "owner": owner.email if owner else None, "due": local(due_at).isoformat()},
    )
    return item, True


def close_work(
    session: Session, poll: Poll, key: str, status: WorkStatus, note: str, by: Person | None = None
) -> bool:
    item = _work(session, poll, key)
    if item is None or item.status != WorkStatus.OPEN:
        return False
    item.status, item.note = status, note
    if status == WorkStatus.DONE:
        item.completed_at, item.completed_by_id = utcnow(), by.id if by else None
    return True


def _complete_work(session, poll, doc, version, step, by: Person | None) -> None:
    close_work(session, poll, work_key(step, doc, version), WorkStatus.DONE, f"version {version.number}", by)


def cancel_version_work(session: Session, poll: Poll, doc: Document, version: DocumentVersion) -> None:
    for step in ("proof", "approve"):
        close_work(
            session,
            poll,
            work_key(step, doc, version),
            WorkStatus.CANCELLED,
            f"version {version.number} superseded",
        )


def publish_work_key(
    session: Session, poll: Poll, doc: Document, catalogue_key: str | None = None
) -> str | None:
    """The work item that carries the document's publishing deadline: the catalogue's own task
    where the plan has one (``publish_sopn``, or ``publish_sopn:<election>`` in a combined poll),
    else this module's ``publish_<key>:<scope>``."""
    candidates = []
    if catalogue_key:
        candidates += [f"{catalogue_key}:{doc.scope}", catalogue_key]
    candidates.append(work_key("publish", doc))
    for key in candidates:
        item = _work(session, poll, key)
        if item is not None and item.status != WorkStatus.CANCELLED:
            return key
    return None
