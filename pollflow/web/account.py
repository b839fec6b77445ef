"""Your account: who you are signed in as, your access tokens for the command line (made here,
shown once, revocable), and signing out everywhere.

GET  /account                       (anyone signed in)
POST /account/tokens                make a token: the page shows it once
POST /account/tokens/{id}/revoke
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from pollflow.web.render import page, sentence
from pollflow.web.session import Id, form_of, need
from store.audit import record
from store.db import session_scope
from store.identity.acting import acting_as
from store.models import Person
from timetables.errors import PollflowError


def _page(request, viewer, session, status=200, **context) -> Response:
    from store.identity.roles import all_roles
    from store.identity.tokens import tokens_of

    person = session.get(Person, viewer.person_id)
    context.setdefault("errors", {})
    context["role_names"] = [r.name for r in all_roles(session) if r.key in viewer.roles]
    context.setdefault("secret", None)
    return page(
        request,
        "account.html.j2",
        status=status,
        title="Your account",
        person=person,
        tokens=tokens_of(session, person),
        **context,
    )


router = APIRouter()


@router.get("/account")
def account(request: Request, notice: str | None = None, viewer=need(None)) -> Response:
    with session_scope() as session:
        return _page(request, viewer, session, notice="Token revoked." if notice == "revoked" else None)


@router.post("/account/tokens")
async def create(request: Request, viewer=need(None)) -> Response:
    from store.identity.tokens import create_token

    form = await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        person = session.get(Person, viewer.person_id)
        try:
            row, secret = create_token(session, person, form.get("name", ""), viewer.email)
        except PollflowError as exc:
            session.rollback()
            return _page(request, viewer, session, status=400, errors={"name": sentence(str(exc))})
        record(
            session,
            viewer.email,
            "token created",
            subject=viewer.email,
            details={"token": row.hint, "name": row.name},
        )
        return _page(request, viewer, session, secret=secret, made=row)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke(request: Request, token_id: Id, viewer=need(None)) -> Response:
    from store.identity.tokens import revoke as revoke_token

    await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        person = session.get(Person, viewer.person_id)
        row = revoke_token(session, token_id, person)
        record(session, viewer.email, "token revoked", subject=viewer.email, details={"token": row.hint})
    return RedirectResponse("/account?notice=revoked", 303)


def register(app: FastAPI) -> None:
    app.include_router(router)
