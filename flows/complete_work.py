"""complete_work_item: who did it and when; tells the owners of what it unblocks."""

from __future__ import annotations

from prefect import flow

from flows.publish import current_run_id, emit
from store.db import session_scope
from tasks.steps import deliver_outbox
from tasks.work import complete_work


@flow(name="complete-work-item")
def complete_work_item(
    ref: str, by: str, note: str | None = None, election: str | None = None, deliver: bool = True
) -> dict:
    with session_scope() as session:
        result = complete_work(session, ref, by, note, election, current_run_id())
    ids = result.pop("election_ids")
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
