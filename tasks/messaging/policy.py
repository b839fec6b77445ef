"""The alert policy (config/alerts.yaml, with the council's own laid over it): when messages to
the team wait, gather, or go at once, and how each person may choose to hear.

Each person's choice (Person.hear_by) is one of HEAR_BY. Whatever they chose, an urgent message
(a missed statutory deadline) goes at once and by email; the choice shapes everything else that
the policy gathers (``route_for``): sign-in links, staff messages and reports go as they were queued.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from store.models import Person
from store.staff.config import layered
from timetables.clock import LONDON

HEAR_BY = {
    "email": "By email, as things happen",
    "text": "By text message, as things happen",
    "webhook": "To my own Teams or Slack channel, as things happen",
    "digest": "Only in my morning digest",  # the account page says urgent ones still come at once
}


def webhook_address_ok(url: str | None) -> bool:
    """A Teams or Slack webhook address pollflow will post to: https, to a named host. Not
    http: the address is itself the key to the channel, and would cross the network in clear."""
    if not url or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname) and "." in parts.hostname and not parts.username


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Strict):
    start: dt.time
    end: dt.time

    def holds(self, moment: dt.datetime) -> dt.datetime | None:
        """When the quiet hours ``moment`` falls in end, or None if it is outside them."""
        local = moment.astimezone(LONDON)
        t, day = local.timetz().replace(tzinfo=None), local.date()
        if self.start == self.end:
            return None
        if self.start < self.end:  # within one day, 01:00-05:00 say
            inside = self.start <= t < self.end
            end_day = day
        else:  # over midnight, 20:00-07:00
            inside = t >= self.start or t < self.end
            end_day = day + dt.timedelta(days=1) if t >= self.start else day
        if not inside:
            return None
        return dt.datetime.combine(end_day, self.end, tzinfo=LONDON).astimezone(dt.UTC)


class Policy(_Strict):
    """config/alerts.yaml, which says what each key means: every key is given there, so the
    file is the one place the defaults are written."""

    overdue_to_manager_after_hours: int = Field(ge=1)
    gather_minutes: int = Field(ge=0)
    quiet_hours: QuietHours | None
    urgent: tuple[str, ...]
    gathered: tuple[str, ...]
    missed_to: tuple[str, ...]
    managers: tuple[str, ...]

    @property
    def gather_window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.gather_minutes)

    @property
    def overdue_to_manager_after(self) -> dt.timedelta:
        return dt.timedelta(hours=self.overdue_to_manager_after_hours)


def policy() -> Policy:
    return layered(Policy, "alerts.yaml", "POLLFLOW_ALERTS_CONFIG")


def route_for(person: Person, kind: str, rules: Policy) -> tuple[str, str]:
    """(channel, recipient) for a message of ``kind`` to ``person``, by how they chose to hear.

    Only what the policy gathers follows the choice; urgent messages and the rest go by email.
    A choice that cannot be met now (text with no phone on record, a webhook with no address)
    falls back to email rather than losing the message: the account page refuses such a choice,
    but a phone number can be taken off the team list after it was made."""
    if kind in rules.gathered and kind not in rules.urgent:
        if person.hear_by == "text" and person.phone:
            return "sms", person.phone
        if person.hear_by == "webhook" and webhook_address_ok(person.webhook_url):
            return "webhook", person.webhook_url
    return "email", person.email
