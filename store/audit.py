"""The audit trail: append-only.

``record`` is the only way the application writes it; it records who was authenticated, how and
through what from ``store.identity.acting``. The session refuses to flush an update or
a delete of an AuditEntry, and the database (triggers from the first migration) refuses them too.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session

from store.identity.acting import current
from store.models import AuditEntry
from timetables.errors import PollflowError


class AuditTrailError(PollflowError):
    """An attempt to change or delete the audit trail."""


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    poll_id: int | None = None,
    subject: str | None = None,
    details: dict | None = None,
    flow_run_id: str | None = None,
) -> AuditEntry:
    who = current()  # the authenticated person (or automation), whatever ``actor`` says
    entry = AuditEntry(
        actor=actor,
        person_id=who.person_id,
        auth_method=who.method,
        via=who.via,
        action=action,
        poll_id=poll_id,
        subject=subject,
        details=details or {},
        flow_run_id=flow_run_id,
    )
    session.add(entry)
    return entry


@event.listens_for(Session, "before_flush")
def _append_only(session, _context, _instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditTrailError("the audit trail is append-only: an entry cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditTrailError("the audit trail is append-only: an entry cannot be deleted")
