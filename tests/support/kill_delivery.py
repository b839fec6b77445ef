"""Deliver the outbox once, in a process of its own: for tests that kill a sender mid-message or
race two senders. ``python -m tests.support.kill_delivery [BATCH] [--wait]``.

Settings (the database, the SMTP server, the lease) come from the environment, as in
production. With --wait it connects, prints "ready" and waits for a line on stdin before it
starts, so that two senders can be started together. It prints its report as JSON at the end.
"""

from __future__ import annotations

import json
import sys

from sqlalchemy import text

from store.db import get_engine
from tasks.messaging.delivery import deliver
from timetables import settings


def main(argv: list[str]) -> None:
    numbers = [a for a in argv if a.isdigit()]
    batch = int(numbers[0]) if numbers else 100
    engine = get_engine()
    with engine.connect() as connection:  # connected (and the schema checked) before "ready"
        connection.execute(text("select 1"))
    config = settings.load()
    if "--wait" in argv:
        print("ready", flush=True)
        sys.stdin.readline()
    report = deliver(engine, config, batch=batch)
    print(json.dumps({**report.summary(), "taken_over": report.taken_over}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
