"""Who is acting, proven: set once where a request or command comes in, read by the audit trail.

The web sets it from the session, the CLI from ``POLLFLOW_TOKEN`` (or the machine's user, as
``local-shell``), flows run unattended as ``automation``. ``store.audit.record`` copies it onto
every entry, so no write can name a person the caller merely typed.
"""

from __future__ import annotations

import contextlib
import contextvars
import getpass
from collections.abc import Iterator
from dataclasses import dataclass

METHODS = ("password", "sso", "token", "local-shell", "automation")
VIAS = ("web", "cli", "flow")


@dataclass(frozen=True)
class Actor:
    label: str  # what the audit's actor column shows: an email, "local-shell:<user>", "flow:<name>"
    method: str
    via: str
    person_id: int | None = None
    email: str | None = None

    @property
    def is_person(self) -> bool:
        return self.person_id is not None

    @classmethod
    def of(cls, person, method: str, via: str) -> Actor:
        """A person of the store (anything with ``id`` and ``email``), authenticated by ``method``."""
        return cls(person.email, method, via, person.id, person.email)

    @classmethod
    def shell(cls) -> Actor:
        """The machine's user at the command line, with no token: no named person."""
        return cls(f"local-shell:{getpass.getuser()}", "local-shell", "cli")


AUTOMATION = Actor(label="automation", method="automation", via="flow")

_current: contextvars.ContextVar[Actor] = contextvars.ContextVar("pollflow_actor", default=AUTOMATION)


def current() -> Actor:
    return _current.get()


def prove(actor: Actor) -> None:
    """From here on (in this context) ``actor`` is acting: the CLI, once it has checked a token."""
    _current.set(actor)


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
