"""complete_work_item: who did it and when; tells the owners of what it unblocks."""

from __future__ import annotations

from prefect import flow

from flows.publish import current_run_id, emit
from store.db import session_scope
from store.queries import elections_of
from store.work import complete
from tasks.messaging.changes import unblocked_messages
from tasks.steps import deliver_outbox


@flow(name="complete-work-item")
def complete_work_item(
    ref: str, by: str, note: str | None = None, election: str | None = None, deliver: bool = True
) -> dict:
    with session_scope() as session:
        done = complete(session, ref, by, note, election, current_run_id())
        result = {
            "work_item_id": done.item.id,
            "key": done.item.key,
            "title": done.item.title,
            "poll": done.poll.key,
            "by": done.by.email,
            "already_done": done.already_done,
            "unblocked": [w.key for w in done.unblocked],
        }
        if not done.already_done:
            unblocked_messages(session, done.item, done.by)
        ids = elections_of(session, done.poll)
    if not result["already_done"]:
        emit(
            "pollflow.workitem.completed",
            f"pollflow.workitem.{result['work_item_id']}",
            ids,
            result,
            name=result["title"],
        )
        if deliver:
            deliver_outbox()
    return result
