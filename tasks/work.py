"""Completing work as one transaction: the completion, its audit entry, and the messages (queued
in the outbox) to the owners of what it unblocks. The CLI, the workspace and the complete-work
flow all call ``complete_work``, so a completion is the same whichever way it comes in."""

from __future__ import annotations

from sqlmodel import Session

from store.queries import elections_of
from store.work import complete
from tasks.messaging.changes import unblocked_messages


def complete_work(
    session: Session,
    ref: str,
    by: str,
    note: str | None = None,
    election: str | None = None,
    flow_run_id: str | None = None,
) -> dict:
    """What was completed, by whom, and what is now ready; completing twice changes nothing."""
    done = complete(session, ref, by, note, election, flow_run_id)
    if not done.already_done:
        unblocked_messages(session, done.item, done.by)
    return {
        "work_item_id": done.item.id,
        "key": done.item.key,
        "title": done.item.title,
        "poll": done.poll.key,
        "by": done.by.email,
        "already_done": done.already_done,
        "unblocked": [w.key for w in done.unblocked],
        "election_ids": elections_of(session, done.poll),
    }
