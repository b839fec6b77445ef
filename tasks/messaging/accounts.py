"""The emails that let a person in: an invitation and a password reset, each a single-use link,
queued in the outbox like every other message (so they are sent once, and retried)."""

from __future__ import annotations

from sqlmodel import Session

from store.identity.council import council_name, public_address
from store.identity.credentials import make_link
from store.models import Person
from store.outbox import enqueue, message
from tasks.messaging.render import render

PATHS = {"invitation": "account/invitation", "reset": "account/reset"}


def queue_sign_in_link(session: Session, person: Person, purpose: str, by: str) -> str:
    """Make the link, queue the email with it, and return the link (for the one who sent it)."""
    token = make_link(session, person, purpose, by)
    link = f"{public_address(session)}/{PATHS[purpose]}/{token}"
    template = "invitation" if purpose == "invitation" else "password_reset"
    rendered = render(template, person=person, link=link, by=by, council=council_name(session))
    # A new link is a new message: the dedupe key is the link's own (hashed) token.
    enqueue(session, [message(f"{purpose}:{person.id}:{token[:16]}", purpose, rendered, to=person)])
    return link
