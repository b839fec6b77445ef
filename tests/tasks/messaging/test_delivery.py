"""The outbox and its delivery, on SQLite and on PostgreSQL, against real servers: an SMTP server
(aiosmtpd), a GOV.UK Notify stand-in that checks its JWTs, a webhook receiver, and senders in
processes of their own that race each other or are killed mid-message.

Every message is delivered exactly once: counted by Message-ID (email) or reference (Notify)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlmodel import Session

from store import outbox
from store.models import Notification, Person, utcnow
from store.outbox import OutgoingMessage, retry_failed
from tasks.messaging.channels import NotifyChannel, message_id
from tasks.messaging.delivery import deliver
from tests.support import fakes
from tests.support.fakes import SmtpServer, free_port
from timetables import settings
from timetables.errors import PollflowError

ROOT = Path(__file__).resolve().parents[3]
LEASE = dt.timedelta(minutes=5)


def messages(
    n: int, prefix: str = "m", channel: str = "email", start: int = 0, **fields
) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            **{
                "dedupe_key": f"{prefix}:{i}",
                "kind": "reminder",
                "channel": channel,
                "recipient": f"officer{i}@wychwood.gov.uk",
                "subject": f"Reminder {i}: publish the notice of election",
                "body": f"Notice of election for Ynys Môn, item {i}. Deposit £0.\n",
                **fields,
            }
        )
        for i in range(start, start + n)
    ]


def queue(store, items: list[OutgoingMessage]) -> int:
    with store.session() as s:
        return outbox.enqueue(s, items)


def rows(store) -> dict[str, Notification]:
    with store.session() as s:
        return {n.dedupe_key: n for n in s.scalars(select(Notification).order_by(Notification.id))}


def received(server: SmtpServer) -> Counter:
    """How many times the SMTP server accepted each Message-ID."""
    return Counter(m["Message-ID"] for m in list(server.messages))


def expected(items: list[OutgoingMessage]) -> Counter:
    """Each message's Message-ID, once."""
    return Counter(message_id(m.dedupe_key) for m in items)


def run(store, **kwargs):
    return deliver(store.engine, settings.load(), **kwargs)


def start_sender(*args: str, lease: int | None = None) -> subprocess.Popen:
    """``deliver()`` in a process of its own (tests/support/kill_delivery.py), configured by environment."""
    env = dict(os.environ)
    if lease is not None:
        env["POLLFLOW_DELIVERY_LEASE_SECONDS"] = str(lease)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.kill_delivery", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=10)


# --- queueing ------------------------------------------------------------------------------------


def test_enqueue_queues_each_dedupe_key_once(store):
    assert queue(store, messages(3)) == 3
    assert queue(store, messages(3)) == 0
    # The same new key twice in one call, beside one already queued: one new message.
    assert queue(store, messages(1, start=7) * 2 + messages(1)) == 1
    assert sorted(rows(store)) == ["m:0", "m:1", "m:2", "m:7"]
    with store.session() as s:
        assert outbox.counts(s) == {"queued": 4}


def test_enqueue_keeps_fields_only_some_messages_have(store):
    """One INSERT for many messages: a field only some give is kept for those, not dropped or
    refused (a missed deadline queues emails to people and one webhook message to nobody)."""
    with store.session() as s:
        person = Person(email="alice@wychwood.gov.uk", name="Alice")
        s.add(person)
        s.flush()
        first, second, third = messages(3)
        second = replace(second, person_id=person.id)
        assert outbox.enqueue(s, [first, second, third]) == 3
        assert outbox.enqueue(s, messages(1, prefix="p", person_id=person.id) + messages(1, prefix="q")) == 2
        person_id = person.id
    got = rows(store)
    assert [got[k].person_id for k in ("m:0", "m:1", "m:2", "p:0", "q:0")] == [
        None,
        person_id,
        None,
        person_id,
        None,
    ]
    # A field the outbox does not have is refused where the message is made.
    with pytest.raises(TypeError, match="colour"):
        messages(1, prefix="x", colour="red")


# --- claiming ------------------------------------------------------------------------------------


def test_claim_never_takes_a_message_another_sender_holds(store):
    queue(store, messages(10))
    with (
        Session(store.engine, expire_on_commit=False) as a,
        Session(store.engine, expire_on_commit=False) as b,
    ):
        mine = outbox.claim(a, 4, LEASE)
        theirs = outbox.claim(b, 100, LEASE)
        assert [m.dedupe_key for m in mine] == ["m:0", "m:1", "m:2", "m:3"]
        assert [m.dedupe_key for m in theirs] == [f"m:{i}" for i in range(4, 10)]
        assert all(m.status == "sending" and m.attempts == 1 for m in mine + theirs)
        assert outbox.claim(b, 100, LEASE) == []
        # Not while the lease has any time left to run ...
        assert outbox.claim(b, 100, LEASE, now=utcnow() + LEASE - dt.timedelta(seconds=5)) == []
        for m in theirs:
            assert outbox.mark_sent(b, m)
        # ... but once it has run out, b takes a's messages over, and a can no longer record
        # anything about them (nor renew its lease): they are b's now.
        taken = outbox.claim(b, 100, LEASE, now=utcnow() + LEASE + dt.timedelta(seconds=1))
        assert [m.dedupe_key for m in taken] == ["m:0", "m:1", "m:2", "m:3"]
        assert all(m.attempts == 2 for m in taken)
        assert outbox.extend(a, mine, LEASE) == []
        assert not outbox.mark_sent(a, mine[0])
        assert not outbox.mark_retry(a, mine[1], "a's late error")
        assert not outbox.mark_failed(a, mine[2], "a's late error")
        assert outbox.extend(b, taken, LEASE) == taken
        assert outbox.mark_sent(b, taken[0], "b's")
    got = rows(store)
    assert (got["m:0"].status, got["m:0"].provider_id, got["m:0"].attempts) == ("sent", "b's", 2)
    assert {got[k].status for k in ("m:1", "m:2", "m:3")} == {"sending"}
    assert {got[k].last_error for k in ("m:1", "m:2", "m:3")} == {None}


def test_claim_skips_rows_another_transaction_has_locked(postgres_store):
    """FOR UPDATE SKIP LOCKED: a sender passes over rows another is claiming, without waiting."""
    store = postgres_store
    queue(store, messages(6))
    with store.engine.connect() as other:
        other.execute(text("SELECT id FROM notification WHERE dedupe_key IN ('m:0', 'm:3') FOR UPDATE"))
        with Session(store.engine) as s:
            s.execute(text("SET lock_timeout = '3s'"))  # waiting for the lock would fail, not hang
            got = [m.dedupe_key for m in outbox.claim(s, 100, LEASE)]
        other.rollback()
    assert got == ["m:1", "m:2", "m:4", "m:5"]


# --- email over SMTP -----------------------------------------------------------------------------


def test_email_over_smtp_is_delivered_once_with_a_stable_message_id(store, smtp):
    items = messages(25)
    assert queue(store, items) == 25
    report = run(store, batch=10)
    assert (report.sent, report.retrying, report.failed, report.errors) == (25, 0, 0, [])
    assert received(smtp) == expected(items)
    email = next(m for m in smtp.messages if m["Message-ID"] == message_id("m:3"))
    assert email["To"] == "officer3@wychwood.gov.uk"
    assert email["From"] == "pollflow <pollflow@localhost>"
    assert email["Subject"] == "Reminder 3: publish the notice of election"
    assert email["X-Pollflow-Kind"] == "reminder"
    assert (
        email.get_content().replace("\r\n", "\n") == "Notice of election for Ynys Môn, item 3. Deposit £0.\n"
    )
    for n in rows(store).values():
        assert (n.status, n.attempts, n.last_error, n.claimed_until) == ("sent", 1, None, None)
        assert n.sent_at is not None
    # The Message-ID is the dedupe key's, whenever it is sent.
    assert message_id("m:3") == message_id("m:3") == email["Message-ID"] != message_id("m:4")
    # Nothing is left to send, now or later.
    assert run(store).sent == 0
    assert run(store, now=utcnow() + dt.timedelta(days=1)).sent == 0
    assert len(smtp.messages) == 25


def test_smtp_down_backs_off_longer_each_time_then_delivers_once(store, monkeypatch):
    port = free_port()  # nothing listens here (yet)
    monkeypatch.setenv("POLLFLOW_SMTP_URL", f"smtp://127.0.0.1:{port}")
    items = messages(5)
    queue(store, items)
    first_at = utcnow()
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (0, 5, 0)
    first = rows(store)
    for n in first.values():
        assert (n.status, n.attempts, n.claimed_until) == ("queued", 1, None)
        assert f"cannot connect to SMTP 127.0.0.1:{port}" in n.last_error
        assert n.next_attempt_at >= first_at + outbox.BACKOFF_START
    # Not due again yet: a run now takes nothing and counts no attempt.
    assert run(store).retrying == 0
    assert {n.attempts for n in rows(store).values()} == {1}
    # Still down three minutes on: the second wait is longer than the first.
    second_at = utcnow() + dt.timedelta(minutes=3)
    assert run(store, now=second_at).retrying == 5
    for key, n in rows(store).items():
        assert (n.status, n.attempts) == ("queued", 2)
        assert n.next_attempt_at > first[key].next_attempt_at
        assert (
            n.next_attempt_at - second_at >= 2 * outbox.BACKOFF_START > first[key].next_attempt_at - first_at
        )
    # The server comes up on that port: every message is delivered, exactly once.
    server = SmtpServer(port=port).start()
    try:
        report = run(store, now=second_at + dt.timedelta(hours=1))
        assert (report.sent, report.retrying) == (5, 0)
        assert run(store, now=second_at + dt.timedelta(hours=2)).sent == 0
        assert received(server) == expected(items)
    finally:
        server.stop()
    assert {(n.status, n.attempts, n.last_error) for n in rows(store).values()} == {("sent", 3, None)}


def test_backoff_is_capped_and_gives_up_once_the_message_is_no_use(store, monkeypatch):
    monkeypatch.setenv("POLLFLOW_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    # m:0 is worth sending for days yet; m:1 only for the next half hour (a reminder of work due then).
    queue(store, messages(1) + messages(1, start=1, useful_until=utcnow() + dt.timedelta(minutes=30)))
    with store.session() as s:
        s.execute(update(Notification).values(attempts=8))
    at = utcnow()
    report = run(store, now=at)
    assert (report.retrying, report.failed) == (1, 1)
    got = rows(store)
    assert got["m:0"].status == "queued"
    assert got["m:0"].next_attempt_at - at == outbox.BACKOFF_CAP  # not 2**8 minutes
    assert got["m:1"].status == "failed"
    assert got["m:1"].last_error.startswith("not sent by ")
    assert "after which it is no use (9 attempts): cannot connect" in got["m:1"].last_error
    # Queued without a time of its own, a message is worth trying for USEFUL_FOR.
    assert got["m:0"].useful_until - got["m:0"].created_at == outbox.USEFUL_FOR


def test_rejected_recipient_fails_for_good_and_the_rest_are_delivered(store, smtp):
    items = messages(5)
    smtp.reject.add("officer2@wychwood.gov.uk")
    queue(store, items)
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (4, 0, 1)
    got = rows(store)
    assert got["m:2"].status == "failed"
    assert "550" in got["m:2"].last_error and "officer2@wychwood.gov.uk" in got["m:2"].last_error
    assert {got[k].status for k in got if k != "m:2"} == {"sent"}
    assert received(smtp) == expected(items) - Counter([message_id("m:2")])
    # Failed is final: not tried again, however much later.
    assert run(store, now=utcnow() + dt.timedelta(days=2)).failed == 0
    assert len(smtp.messages) == 4


def test_a_message_that_cannot_be_an_email_fails_alone(store, smtp):
    """A line break in a subject is folded away; one in an address (header injection) fails."""
    items = messages(3)
    items[0] = replace(items[0], subject="Poll cards\nBcc: everyone@example.com")
    items[1] = replace(items[1], recipient="officer1@wychwood.gov.uk\nBcc: everyone@example.com")
    queue(store, items)
    report = run(store)
    assert (report.sent, report.failed, report.retrying) == (2, 1, 0)
    got = rows(store)
    assert got["m:1"].status == "failed" and "cannot make an email" in got["m:1"].last_error
    assert [m["Subject"] for m in smtp.messages] == [
        "Poll cards Bcc: everyone@example.com",
        "Reminder 2: publish the notice of election",
    ]
    assert all(m["Bcc"] is None for m in smtp.messages)


def test_a_long_batch_keeps_its_lease_so_no_other_sender_takes_it_over(store, smtp, monkeypatch):
    """Sends that outlast the lease: the sender renews it, and a rival taking whatever is due
    the whole time gets nothing."""
    monkeypatch.setenv("POLLFLOW_DELIVERY_LEASE_SECONDS", "1")

    class SlowServer(list):  # the server takes 0.25 s over each message: 8 take twice the lease
        def append(self, item):
            time.sleep(0.25)
            super().append(item)

    smtp.messages = SlowServer()
    items = messages(8)
    queue(store, items)
    done = threading.Event()
    rival: list[str] = []

    def rival_sender():
        while not smtp.messages and not done.is_set():  # until the sender has claimed its batch
            time.sleep(0.01)
        with Session(store.engine) as s:
            while not done.is_set():
                rival.extend(m.dedupe_key for m in outbox.claim(s, 100, LEASE))
                time.sleep(0.05)

    thread = threading.Thread(target=rival_sender)
    thread.start()
    try:
        report = run(store)
    finally:
        done.set()
        thread.join()
    assert rival == []
    assert (report.sent, report.taken_over) == (8, 0)
    assert received(smtp) == expected(items)


# --- GOV.UK Notify and webhooks ------------------------------------------------------------------


def test_notify_sends_email_and_texts_with_personalisation_and_reference(store, notify):
    text_message = OutgoingMessage(
        dedupe_key="missed:7:20270410T1600:2",
        kind="missed",
        channel="sms",
        recipient="07700 900123",
        subject="Deadline missed",
        body="Nominations: the deadline passed at 4pm.",
    )
    queue(store, [*messages(2), text_message])
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (3, 0, 0)
    assert notify.rejected_tokens == 0
    sent = {n["reference"]: n for n in notify.sent}
    assert sorted(sent) == ["m:0", "m:1", "missed:7:20270410T1600:2"]
    assert (sent["m:1"]["type"], sent["m:1"]["to"]) == ("email", "officer1@wychwood.gov.uk")
    assert sent["m:1"]["personalisation"] == {
        "subject": "Reminder 1: publish the notice of election",
        "body": "Notice of election for Ynys Môn, item 1. Deposit £0.\n",
    }
    texted = sent["missed:7:20270410T1600:2"]
    assert (texted["type"], texted["to"]) == ("sms", "07700 900123")
    assert texted["personalisation"]["body"] == "Nominations: the deadline passed at 4pm."
    for key, n in rows(store).items():
        assert (n.status, n.provider_id) == ("sent", sent[key]["id"])
    assert run(store, now=utcnow() + dt.timedelta(days=1)).sent == 0
    assert len(notify.sent) == 3


def test_notify_400_fails_and_500_is_retried(store, notify):
    queue(
        store,
        [
            *messages(1, prefix="bad", recipient="permanent-failure@wychwood.gov.uk"),
            *messages(1, prefix="busy", recipient="temporary-failure@wychwood.gov.uk"),
            *messages(1),
        ],
    )
    at = utcnow()
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (1, 1, 1)
    got = rows(store)
    assert got["bad:0"].status == "failed" and got["bad:0"].last_error.startswith("Notify 400")
    assert (got["busy:0"].status, got["busy:0"].attempts) == ("queued", 1)
    assert got["busy:0"].last_error.startswith("Notify 500")
    assert got["busy:0"].next_attempt_at >= at + outbox.BACKOFF_START
    assert got["m:0"].status == "sent"
    assert [n["reference"] for n in notify.sent] == ["m:0"]


def test_notify_unreachable_leaves_messages_queued(store, monkeypatch):
    monkeypatch.setenv("POLLFLOW_NOTIFY_API_KEY", fakes.NOTIFY_API_KEY)
    monkeypatch.setenv("POLLFLOW_NOTIFY_BASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("POLLFLOW_NOTIFY_EMAIL_TEMPLATE", fakes.NOTIFY_EMAIL_TEMPLATE)
    queue(store, messages(3))
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (0, 3, 0)
    for n in rows(store).values():
        assert (n.status, n.attempts) == ("queued", 1)
        assert n.last_error.startswith("cannot reach Notify")


def test_notify_message_sent_before_a_crash_is_not_sent_again(store, notify):
    """The sender died after Notify took the message, before recording it: the next run finds
    it at Notify by its reference and records it as sent, without sending it twice."""
    queue(store, messages(2))
    config = settings.load()
    with store.session() as s:
        message = s.scalars(select(Notification).where(Notification.dedupe_key == "m:0")).one()
        provider_id = NotifyChannel(config).send(message)
        message.status, message.attempts = "sending", 1
        message.claimed_until = utcnow() - dt.timedelta(seconds=1)
    assert len(notify.sent) == 1
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    assert sorted(n["reference"] for n in notify.sent) == ["m:0", "m:1"]
    got = rows(store)
    assert (got["m:0"].status, got["m:0"].provider_id, got["m:0"].attempts) == ("sent", provider_id, 2)


def test_webhook_messages_reach_the_receiver_beside_email(store, smtp, webhook):
    queue(store, messages(2, prefix="team", channel="webhook") + messages(1))
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (3, 0, 0)
    assert webhook.received == [
        {"text": f"Reminder {i}: publish the notice of election\n\n"
                 f"Notice of election for Ynys Môn, item {i}. Deposit £0.\n"}
        for i in range(2)
    ]  # fmt: skip
    assert received(smtp) == expected(messages(1))


def test_nothing_configured_leaves_messages_queued_with_a_clear_error(store, monkeypatch):
    for name in ("POLLFLOW_SMTP_URL", "POLLFLOW_NOTIFY_API_KEY", "POLLFLOW_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    queue(
        store,
        [
            *messages(2),
            *messages(1, prefix="text", channel="sms", recipient="07700 900123"),
            *messages(1, prefix="team", channel="webhook"),
            *messages(1, prefix="fax", channel="fax"),
        ],
    )
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (0, 4, 1)
    got = rows(store)
    for key in ("m:0", "m:1", "text:0", "team:0"):
        assert (got[key].status, got[key].attempts) == ("queued", 1)
    assert "POLLFLOW_SMTP_URL" in got["m:0"].last_error
    assert "POLLFLOW_NOTIFY_API_KEY" in got["text:0"].last_error
    assert "POLLFLOW_WEBHOOK_URL" in got["team:0"].last_error
    assert got["fax:0"].status == "failed" and "no such channel" in got["fax:0"].last_error
    # A mistyped URL is a setting to fix, not a reason to throw the messages away.
    monkeypatch.setenv("POLLFLOW_SMTP_URL", "http://mail.wychwood.gov.uk")
    assert run(store, now=utcnow() + dt.timedelta(hours=1)).retrying == 4
    assert "is not smtp://" in rows(store)["m:0"].last_error


# --- several senders, and a sender killed ---------------------------------------------------------


def test_two_senders_at_once_deliver_each_message_exactly_once(store, smtp):
    items = messages(200)
    queue(store, items)
    senders = [start_sender("10", "--wait") for _ in range(2)]
    try:
        for sender in senders:
            assert sender.stdout.readline().strip() == "ready", sender.stderr.read()
        for sender in senders:  # both start claiming at the same moment
            sender.stdin.write("go\n")
            sender.stdin.flush()
        outputs = [sender.communicate(timeout=60) for sender in senders]
    finally:
        for sender in senders:
            stop(sender)
    reports = [json.loads(out.splitlines()[-1]) for out, _ in outputs]
    assert sum(r["sent"] for r in reports) == 200, outputs
    assert all(r["sent"] > 0 for r in reports), reports  # both really took part
    assert received(smtp) == expected(items)
    assert {(n.status, n.attempts) for n in rows(store).values()} == {("sent", 1)}


def test_sender_killed_mid_message_is_taken_over_once_its_lease_runs_out(store, smtp):
    class HoldAfterSix(list):  # the server accepts six messages, then stalls inside the next DATA
        def append(self, item):
            super().append(item)
            if len(self) == 6:
                smtp.hold.set()

    smtp.messages = HoldAfterSix()
    items = messages(30)
    queue(store, items)
    sender = start_sender(lease=1)
    try:
        assert smtp.held.wait(30), "the sender never reached the seventh message"
        sender.send_signal(signal.SIGKILL)
        sender.wait(10)
    finally:
        stop(sender)
    smtp.hold.clear()  # the held message is answered 451, to nobody: it was never accepted
    assert len(smtp.messages) == 6
    got = rows(store)
    assert sorted(k for k, n in got.items() if n.status == "sent") == [f"m:{i}" for i in range(6)]
    unsent = [n for n in got.values() if n.status != "sent"]
    assert {n.status for n in unsent} == {"sending"}  # claimed by the dead sender
    # Once the dead sender's lease has run out, the rest, the one it had in hand included, are
    # sent, each once; none of the six again.
    lease_end = max(n.claimed_until for n in unsent)
    time.sleep(max(0.0, (lease_end - utcnow()).total_seconds()) + 0.1)
    report = run(store)
    assert (report.sent, report.retrying, report.failed) == (24, 0, 0)
    assert received(smtp) == expected(items)
    got = rows(store)
    assert {(got[f"m:{i}"].status, got[f"m:{i}"].attempts) for i in range(6)} == {("sent", 1)}
    assert {(got[f"m:{i}"].status, got[f"m:{i}"].attempts) for i in range(6, 30)} == {("sent", 2)}


def test_a_failed_message_queued_again_is_delivered_once(store, smtp):
    items = messages(3)
    smtp.reject.add("officer1@wychwood.gov.uk")
    queue(store, items)
    assert run(store).failed == 1
    smtp.reject.clear()  # the address is put right
    with store.session() as s:
        failed = rows(store)["m:1"]
        sent = rows(store)["m:0"]
        with pytest.raises(
            PollflowError, match=rf"only failed messages are queued again, not {sent.id} \(sent\)"
        ):
            retry_failed(s, [sent.id], "tests")
        with pytest.raises(PollflowError, match="no message 999999 in the outbox"):
            retry_failed(s, [999999], "tests")
    with store.session() as s:
        assert retry_failed(s, [failed.id], "tests") == 1
    report = run(store)
    assert (report.sent, report.failed) == (1, 0)
    assert received(smtp) == expected(items)  # each exactly once, the corrected one included
    with store.session() as s:
        assert retry_failed(s, None, "tests") == 0  # nothing is failed now: nothing to do
