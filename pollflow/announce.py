"""Telling Prefect what happened in the workspace or at the command line, when a Prefect API is
up (``PREFECT_API_URL``, or the server ``pollflow serve`` started).

A click or a CLI write is answered from the store alone; the pollflow.* event that Prefect
reacts to (delivering the outbox, redrawing notices) is emitted afterwards: on a background
thread from the web, so a slow API never holds a page up. Nothing is lost when no API is up: the
outbox and the store hold the work, and the next scheduled run picks it up.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("pollflow")


def prefect_api() -> str | None:
    from pollflow.runtime import running_server

    return os.environ.get("PREFECT_API_URL") or running_server()


def announce(
    event: str,
    resource_id: str,
    election_ids: list[str],
    payload: dict,
    name: str | None,
    background: bool = True,
) -> None:
    def send() -> None:
        try:
            if not prefect_api():
                return  # no server: the next scheduled run picks the work up from the store
            from pollflow.runtime import prepare_prefect

            prepare_prefect()
            from flows.publish import emit

            emit(event, resource_id, election_ids, payload, name=name)
        except Exception:  # an event is a nudge, never the record: log it and carry on
            log.warning("could not announce %s to Prefect", event, exc_info=True)

    if background:
        threading.Thread(target=send, name="pollflow-announce", daemon=True).start()
    else:
        send()
