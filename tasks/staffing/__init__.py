"""Recruiting staff, as plain functions (the Prefect tasks that run them are in ``tasks.steps``):

- ``links``: the signed personal links in invitations and offers, and what a link is for.
- ``recruitment``: the steps of the recruitment flow, each one transaction.
- ``messages``: what each step and answer sends, and what messages and letters say.
- ``answers``: answers taken from the web page and the command line.
- ``letters``: appointment letters and training invitations, as PDF.

The names the answer page, the commands and the flows use are re-exported here.
"""

from tasks.staffing.answers import Responded, book_training, respond
from tasks.staffing.letters import appointment_letter, letter_context, training_invitation
from tasks.staffing.links import (
    INVITATION,
    OFFER,
    Resolved,
    invitation_token,
    letter_url,
    link_for,
    offer_token,
    resolve,
    respond_url,
)
from tasks.staffing.messages import duty_lines, duty_text, post_ctx, session_ctx
from tasks.staffing.recruitment import (
    Prepared,
    after_poll,
    check_recruitable,
    fill,
    lapse,
    open_polls,
    prepare,
    purge,
    send_chasers,
    send_invitations,
    send_offers,
    send_training_reminders,
    update_work,
)

__all__ = [
    "INVITATION",
    "OFFER",
    "Prepared",
    "Resolved",
    "Responded",
    "after_poll",
    "appointment_letter",
    "book_training",
    "check_recruitable",
    "duty_lines",
    "duty_text",
    "fill",
    "invitation_token",
    "lapse",
    "letter_context",
    "letter_url",
    "link_for",
    "offer_token",
    "open_polls",
    "post_ctx",
    "prepare",
    "purge",
    "resolve",
    "respond",
    "respond_url",
    "send_chasers",
    "send_invitations",
    "send_offers",
    "send_training_reminders",
    "session_ctx",
    "training_invitation",
    "update_work",
]
