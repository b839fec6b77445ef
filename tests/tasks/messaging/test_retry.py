"""Temporary failures are retried while a message is still worth sending: an SMTP outage of
seven hours, then recovery, delivers every message once, and gives up only on the one that was
no use by then (a reminder of work that came due during the outage), saying why."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select

from store import outbox
from store.models import Notification, utcnow
from store.outbox import OutgoingMessage
from tasks.messaging.channels import message_id
from tasks.messaging.delivery import deliver
from tests.support.fakes import SmtpServer, free_port
from timetables import settings


def reminder(i: int, useful_until: dt.datetime | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        dedupe_key=f"reminder:{i}",
        kind="reminder",
        channel="email",
        recipient=f"officer{i}@wychwood.gov.uk",
        subject=f"Reminder: publish notice {i}",
        body="Publish the notice of election.\n",
        useful_until=useful_until,
    )


def statuses(store) -> dict[str, Notification]:
    with store.session() as s:
        return {n.dedupe_key: n for n in s.scalars(select(Notification))}


def test_a_seven_hour_outage_then_recovery_delivers_everything_once(store, monkeypatch):
    port = free_port()
    monkeypatch.setenv("POLLFLOW_SMTP_URL", f"smtp://127.0.0.1:{port}")
    start = utcnow()
    due_soon = start + dt.timedelta(hours=3)  # its work is due three hours into the outage
    items = [reminder(i) for i in range(20)] + [reminder(99, useful_until=due_soon)]
    with store.session() as s:
        assert outbox.enqueue(s, items) == 21
    config = settings.load()
    # The server is down for seven hours; delivery runs every quarter of an hour, as scheduled.
    tries = 0
    for quarter in range(0, 7 * 4):
        report = deliver(store.engine, config, now=start + dt.timedelta(minutes=15 * quarter))
        tries += report.retrying + report.failed
    got = statuses(store)
    assert got["reminder:99"].status == "failed"
    assert got["reminder:99"].last_error.startswith("not sent by ")
    assert "after which it is no use" in got["reminder:99"].last_error
    assert "cannot connect" in got["reminder:99"].last_error
    waiting = [n for k, n in got.items() if k != "reminder:99"]
    assert {n.status for n in waiting} == {"queued"}
    # Backoff: far fewer tries than one a quarter for each message (it doubles, up to an hour).
    assert 20 * 7 <= tries < 20 * 28
    assert all(n.last_error and "cannot connect" in n.last_error for n in waiting)
    assert max(n.next_attempt_at for n in waiting) <= start + dt.timedelta(hours=8)

    # The server comes back: the next runs deliver each waiting message, once.
    server = SmtpServer(port=port).start()
    try:
        later = start + dt.timedelta(hours=8)
        assert deliver(store.engine, config, now=later).sent == 20
        assert deliver(store.engine, config, now=later + dt.timedelta(hours=1)).sent == 0
        assert Counter(m["Message-ID"] for m in server.messages) == Counter(
            message_id(f"reminder:{i}") for i in range(20)
        )
    finally:
        server.stop()
    assert {n.status for k, n in statuses(store).items() if k != "reminder:99"} == {"sent"}


def test_retrying_a_failed_message_gives_it_another_day(store, monkeypatch):
    """`pollflow outbox retry` after a message gave up: queued at once, worth a day of tries."""
    monkeypatch.setenv("POLLFLOW_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    with store.session() as s:
        outbox.enqueue(s, [reminder(1, useful_until=utcnow() + dt.timedelta(seconds=30))])
    assert deliver(store.engine, settings.load()).failed == 1
    with store.session() as s:
        assert outbox.retry_failed(s, None, "local-shell:test") == 1
    got = statuses(store)["reminder:1"]
    assert got.status == "queued"
    assert got.useful_until - got.next_attempt_at >= outbox.RETRIED_FOR - dt.timedelta(seconds=5)
    # Still down: it waits and tries again rather than failing at once.
    assert deliver(store.engine, settings.load()).retrying == 1
