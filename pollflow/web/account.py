"""Your account: who you are signed in as, how you hear about your work, your access tokens for
the command line (made here, shown once, revocable), and signing out everywhere.

GET  /account                       (anyone signed in)
POST /account/hearing               how you hear (tasks/messaging/policy.py HEAR_BY), and your webhook
POST /account/tokens                make a token: the page shows it once
POST /account/tokens/{id}/revoke
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from pollflow.web.render import page, sentence
from pollflow.web.session import Id, form_of, need
from store.audit import record
from store.db import session_scope
from store.identity.acting import acting_as
from store.models import Person
from tasks.messaging.policy import HEAR_BY, webhook_address_ok
from timetables.errors import PollflowError

NOTICES = {"revoked": "Token revoked.", "hearing": "How you hear was saved"}
WEBHOOK_LONGEST = 500  # Person.webhook_url's column


def _page(request, viewer, session, status=200, **context) -> Response:
    from store.identity.roles import all_roles
    from store.identity.tokens import tokens_of

    person = session.get(Person, viewer.person_id)
    context.setdefault("errors", {})
    context["role_names"] = [r.name for r in all_roles(session) if r.key in viewer.roles]
    context.setdefault("secret", None)
    context.setdefault("hearing", {"hear_by": person.hear_by, "webhook_url": person.webhook_url or ""})
    context["hear_by"] = HEAR_BY
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
        return _page(request, viewer, session, notice=NOTICES.get(notice or ""))


def _hearing_errors(person: Person, choice: str, webhook: str) -> dict[str, str]:
    """What is wrong with a choice of how to hear, by field, in the order the page shows them."""
    errors = {}
    if choice not in HEAR_BY:
        errors["hear_by"] = (
            "Choose how you hear: by email, by text message, in your own Teams or Slack channel, "
            "or only in your morning digest"
        )
    elif choice == "text" and not person.phone:
        errors["hear_by"] = (
            "You cannot choose text messages because we have no mobile number for you: choose "
            "another way, or ask your electoral services manager to add your number"
        )
    if len(webhook) > WEBHOOK_LONGEST:
        errors["webhook_url"] = f"Your webhook address must be {WEBHOOK_LONGEST} characters or fewer"
    elif webhook and not webhook_address_ok(webhook):
        errors["webhook_url"] = (
            "Enter your webhook address in full, starting https:// (for example "
            "https://hooks.slack.com/services/…), or leave it empty"
        )
    elif choice == "webhook" and not webhook:
        errors["webhook_url"] = "Enter your Teams or Slack webhook address to hear in your own channel"
    return errors


@router.post("/account/hearing")
async def hearing(request: Request, viewer=need(None)) -> Response:
    form = await form_of(request, viewer)
    choice, webhook = form.get("hear_by", "").strip(), form.get("webhook_url", "").strip()
    with session_scope() as session, acting_as(viewer.actor()):
        person = session.get(Person, viewer.person_id)  # the one signed in, never one the form names
        errors = _hearing_errors(person, choice, webhook)
        if errors:
            shown = choice if choice in HEAR_BY else person.hear_by
            hearing = {"hear_by": shown, "webhook_url": webhook}
            return _page(request, viewer, session, status=400, errors=errors, hearing=hearing)
        was = person.hear_by
        person.hear_by, person.webhook_url = choice, webhook or None
        # The webhook's address is the key to their channel: the audit trail names its host only.
        host = urlsplit(webhook).hostname if webhook else None
        details = {"hear_by": choice, "was": was, "webhook": host}
        record(session, viewer.email, "how they hear changed", subject=viewer.email, details=details)
    return RedirectResponse("/account?notice=hearing", 303)


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
