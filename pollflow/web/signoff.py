"""The sign-off queue: documents waiting for a proof-check or the Returning Officer's approval,
each shown in the page as the PDF that will be published; approve it, proof-check it, or send it
back with a reason.

GET  /signoff                     the queue (proof)
GET  /signoff/{version_id}        one version, with its PDF (proof)
POST /signoff/{version_id}        step=proof (proof) | approve | send back (approve)
GET  /documents/{version_id}.pdf  the version as a PDF, marked DRAFT until approved (view)
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from pollflow.web.render import page
from pollflow.web.session import Id, form_of, need
from store.db import session_scope
from store.identity.acting import acting_as
from store.models import Document, DocumentVersion, Poll

NOTICES = {
    "proof": "Recorded: you proof-checked this version. It now waits for the Returning Officer's approval.",
    "approve": "Approved. It is published on or after the day it is dated.",
    "send back": "Sent back, with your reason. It cannot be approved until the data are corrected.",
    "unchanged": "Nothing changed: that was already recorded.",
}
PERMISSION = {"proof": "proof", "approve": "approve", "send back": "approve"}


def _version(session, version_id: Id) -> tuple[DocumentVersion, Document, Poll]:
    version = session.get(DocumentVersion, version_id)
    if version is None:
        raise HTTPException(404)
    doc = session.get(Document, version.document_id)
    return version, doc, session.get(Poll, doc.poll_id)


router = APIRouter()


@router.get("/signoff")
def queue_page(request: Request, viewer=need("proof")) -> Response:
    from tasks.documents.signoff import queue

    with session_scope() as session:
        waiting = queue(session)
        return page(request, "signoff.html.j2", title="Sign-off", waiting=waiting)


@router.get("/signoff/{version_id}")
def version_page(
    request: Request, version_id: Id, notice: str | None = None, viewer=need("proof")
) -> Response:
    from store.documents.versions import latest_version, steps_of

    with session_scope() as session:
        version, doc, poll = _version(session, version_id)
        steps = steps_of(session, version)
        latest = latest_version(session, doc)
        return page(
            request,
            "signoff_version.html.j2",
            title=f"{doc.title}, version {version.number}",
            version=version,
            doc=doc,
            poll=poll,
            steps=steps,
            is_latest=latest is not None and latest.id == version.id,
            notice=NOTICES.get(notice or ""),
            errors={},
        )


@router.post("/signoff/{version_id}")
async def sign(request: Request, version_id: Id, viewer=need("proof")) -> Response:
    from tasks.documents.signoff import STEPS, sign_step

    form = await form_of(request, viewer)
    step = form.get("step", "")
    if step not in STEPS:
        raise HTTPException(400, f"unknown step '{step[:40]}': steps are {', '.join(STEPS)}")
    if not viewer.can(PERMISSION[step]):
        raise HTTPException(403)

    def act() -> bool:
        with session_scope() as session, acting_as(viewer.actor()):
            version, doc, _ = _version(session, version_id)
            _, new = sign_step(
                session,
                doc,
                step,
                viewer.email,
                version=version.number,
                note=form.get("note", "").strip()[:2000] or None,
            )
            return new

    new = await run_in_threadpool(act)
    return RedirectResponse(f"/signoff/{version_id}?notice={step if new else 'unchanged'}", 303)


@router.get("/documents/{version_id}.pdf")
def pdf(request: Request, version_id: Id, viewer=need("view")) -> Response:
    from tasks.documents.catalogue import spec_for
    from tasks.documents.rendering import render_as

    with session_scope() as session:
        version, doc, _ = _version(session, version_id)
        clean = version.status in ("approved", "published")
        banner = None if clean else f"DRAFT v{version.number}: not approved"
        data = render_as(
            "pdf",
            version.template,
            version.context,
            version.html,
            spec_for(doc.key).word,
            f"{doc.key} for {doc.scope}",
            banner,
        )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="{doc.key}-v{version.number}.pdf"',
        },
    )


def register(app: FastAPI) -> None:
    app.include_router(router)
