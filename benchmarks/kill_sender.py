"""A sender to kill again and again, cheaply: ``python -m benchmarks.kill_sender [BATCH]``.

It imports pollflow and checks the store once, then for each line on stdin forks a child that
runs ``deliver()`` (settings from the environment, as in production: the database, the SMTP
server, the lease), a sender in a process of its own:

- ``kill MS``: once the child says it has started, wait MS milliseconds and kill it with SIGKILL;
- ``run``: let the child run to the end.

Each line is answered with one line of JSON: ``{"killed": true}`` if the kill landed, else the
child's report. The killing is done here, by the child's parent, so that the process killed is
certainly the sender (its id cannot have been reused: it is not reaped until after the kill).
Forking, rather than starting Python afresh (over a second here), lets a benchmark kill a sender
a hundred times in a few seconds; bench_kill.py and tests/tasks/messaging/test_kills.py do.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time

from sqlmodel import Session

from store import outbox
from store.db import get_engine
from store.models import Notification
from tasks.messaging.channels import SmtpChannel
from tasks.messaging.delivery import deliver
from timetables import settings


def _child(write_fd: int, batch: int) -> None:
    status = 1
    try:
        engine = get_engine()  # the parent's, with no connection in its pool: this process's own
        config = settings.load()
        os.write(write_fd, b"started\n")
        report = deliver(engine, config, batch=batch)
        os.write(write_fd, json.dumps({**report.summary(), "taken_over": report.taken_over}).encode() + b"\n")
        status = 0
    finally:
        os._exit(status)  # nothing of the parent's (its stdin, its exit handlers) runs here


def sender(batch: int, delay_ms: float | None) -> dict:
    """Fork a sender; kill it ``delay_ms`` after it starts (None: let it finish); what happened."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(write_fd, batch)
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        started = reader.readline()
        if started and delay_ms is not None:
            time.sleep(delay_ms / 1000)
            os.kill(pid, signal.SIGKILL)  # a child not yet reaped: this pid is still the sender
        _, status = os.waitpid(pid, 0)
        rest = reader.read().strip()
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return {"killed": True}
    if not started or not rest:
        return {"killed": False, "error": f"the sender exited with status {status} without a report"}
    return {"killed": False, **json.loads(rest)}


def warm_up(engine) -> None:
    """What a sender does the first time, once for every child: the ORM's mappers configured, the
    outbox's statements compiled (run so as to change nothing), an email made. A child then
    starts sending within milliseconds, as a sender that has run before does, so that a kill soon
    after it starts lands while it is sending."""
    config = settings.load()
    with (
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
        Session(connection, expire_on_commit=False) as session,
    ):
        outbox.claim(session, 0, dt.timedelta(seconds=1))
        nobody = Notification(id=-1, attempts=-1, dedupe_key="warm-up", kind="reminder")
        outbox.mark_sent(session, nobody)
    nobody.recipient, nobody.subject, nobody.body = "warm-up@localhost", "warm-up", "warm-up\n"
    SmtpChannel(config.smtp_url or "smtp://127.0.0.1", config.mail_from).prepare(nobody)


def main(argv: list[str]) -> None:
    batch = int(argv[0]) if argv else 100
    engine = get_engine()  # migrated (SQLite) or checked (PostgreSQL) once, for every child
    warm_up(engine)
    engine.dispose()  # and no connection left open for a child to inherit
    print("ready", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        delay = float(args[0]) if command == "kill" else None
        print(json.dumps(sender(batch, delay)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
