"""Proof-checking, approving and sending back a document version, as the CLI and the workspace's
sign-off queue both do it: checked against the document as the data stand now, so that nobody
signs off a version the data have moved on from."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from store.documents.versions import approve, documents_of, proof, send_back, steps_of
from store.models import Document, DocumentVersion, Poll, utcnow
from store.queries import find_poll
from tasks.documents.catalogue import spec_for
from tasks.documents.produce import draw
from tasks.documents.rendering import MissingFieldError
from tasks.documents.sources import load_sources
from timetables.errors import PollflowError

STEPS = ("proof", "approve", "send back")


def current_document(session: Session, election_id: str, key: str):
    """(spec, sources, scope, doc or None) for a document as the data stand now."""
    spec = spec_for(key)
    poll = find_poll(session, election_id)
    src = load_sources(session, poll, utcnow())
    scopes = spec.scopes(src)
    scope = election_id if election_id in scopes else (scopes[0] if len(scopes) == 1 else None)
    if scope is None:
        if not scopes:
            raise PollflowError(
                f"{poll.key} has no {key}: the {spec.title.lower()} is not for this kind of poll"
            )
        raise PollflowError(
            f"{election_id} has a {key} for each of its elections: name one of {', '.join(scopes)}"
        )
    doc = next((d for d in documents_of(session, poll) if d.key == key and d.scope == scope), None)
    return spec, src, scope, doc


def current_hash(src, spec, scope: str) -> str:
    try:
        return draw(src, spec, scope).content_hash
    except MissingFieldError as exc:
        raise PollflowError(f"the data behind {spec.key} are incomplete now: {exc}") from exc


def sign_step(
    session: Session, doc: Document, step: str, by: str, *, version: int | None, note: str | None
) -> tuple[DocumentVersion, bool]:
    """Proof-check, approve or send back (``step``) a version of ``doc`` as ``by``; (version, new)."""
    if step not in STEPS:
        raise PollflowError(f"unknown step '{step}': steps are {', '.join(STEPS)}")
    poll = session.get(Poll, doc.poll_id)
    if step == "send back":
        return send_back(session, doc, poll, by, version=version, reason=note or "")
    spec = spec_for(doc.key)
    src = load_sources(session, poll, utcnow())
    action = proof if step == "proof" else approve
    return action(
        session, doc, poll, by, version=version, note=note, current_hash=current_hash(src, spec, doc.scope)
    )


@dataclass
class Waiting:
    version: DocumentVersion
    document: Document
    poll: Poll
    needs: str  # proof | approval
    proofed_by: str | None


def queue(session: Session) -> list[Waiting]:
    """Every latest version waiting for a proof-check or an approval, the soonest deadline first."""
    rows = session.exec(
        select(DocumentVersion, Document, Poll)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(Poll, Poll.id == Document.poll_id)
        .where(DocumentVersion.status.in_(("generated", "proofed")))
        .order_by(Document.due_at, Document.id, DocumentVersion.number.desc())
    ).all()
    waiting, seen = [], set()
    for version, doc, poll in rows:
        if doc.id in seen:
            continue  # only the latest version of a document is signed off
        seen.add(doc.id)
        steps = steps_of(session, version)
        proofed = steps.get("proof")
        waiting.append(
            Waiting(
                version, doc, poll, "approval" if proofed else "proof", proofed.actor if proofed else None
            )
        )
    return waiting
