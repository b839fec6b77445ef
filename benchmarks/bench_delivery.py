"""Delivering the outbox: N emails to a local SMTP server (aiosmtpd, in a process of its own).

Reports messages per second through the outbox (claimed in batches, each message marked sent in
its own transaction) on SQLite, and on PostgreSQL when the test server answers, and the ratio
against sending the same messages with smtplib over one connection with no store at all: what is
left is the outbox's overhead. Target: at least 200 messages per second.
"""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import time
from dataclasses import replace
from email.message import EmailMessage
from email.utils import formatdate

from sqlmodel import Session

from benchmarks.databases import databases
from store.outbox import OutgoingMessage

N = 1000
ROUNDS = 3
TARGET = 200  # messages per second
MAIL_FROM = "pollflow <pollflow@localhost>"

# The SMTP server: counts what it accepts by Message-ID; "count" on stdin asks for the tally.
SERVER = """
import collections, json, socket, sys
from email.parser import BytesHeaderParser
from aiosmtpd.controller import Controller
seen = collections.Counter()
class Handler:
    async def handle_DATA(self, server, session, envelope):
        seen[BytesHeaderParser().parsebytes(envelope.content)["Message-ID"]] += 1
        return "250 OK"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
for line in sys.stdin:
    print(json.dumps({"total": sum(seen.values()), "distinct": len(seen)}), flush=True)
    seen.clear()
controller.stop()
"""


class Server:
    def __init__(self, script: str = SERVER):
        self.process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.port = int(self.process.stdout.readline())

    def tally(self) -> dict:
        """What it accepted since it was last asked."""
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def messages(prefix: str, n: int = N) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            dedupe_key=f"bench:{prefix}:{i}",
            kind="reminder",
            channel="email",
            recipient=f"officer{i % 50}@wychwood.gov.uk",
            subject=f"Reminder: publish the notice of election ({i})",
            body="The notice of election must be published by 4pm on Monday 29 March.\n" * 8,
        )
        for i in range(n)
    ]


def reference(server: Server, items: list[OutgoingMessage]) -> float:
    """smtplib over one connection, the same messages, no store: seconds taken."""
    from tasks.messaging.channels import message_id

    start = time.perf_counter()
    connection = smtplib.SMTP("127.0.0.1", server.port, timeout=20)
    for m in items:
        email = EmailMessage()
        email["From"] = MAIL_FROM
        email["To"] = m.recipient
        email["Subject"] = m.subject
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = message_id(m.dedupe_key)
        email["X-Pollflow-Kind"] = m.kind
        email.set_content(m.body)
        connection.send_message(email)
    connection.quit()
    return time.perf_counter() - start


def through_outbox(url: str, server: Server, prefix: str) -> tuple[float, float]:
    """Queue N messages and deliver them: (seconds to queue, seconds to deliver)."""
    from store import outbox
    from store.db import get_engine
    from tasks.messaging.delivery import deliver
    from timetables import settings

    engine = get_engine(url)
    start = time.perf_counter()
    with Session(engine) as session:
        outbox.enqueue(session, messages(prefix))
        session.commit()
    queued = time.perf_counter() - start
    config = replace(settings.load(), database_url=url, smtp_url=f"smtp://127.0.0.1:{server.port}")
    start = time.perf_counter()
    report = deliver(engine, config)
    delivered = time.perf_counter() - start
    tally = server.tally()
    if report.sent != N or tally != {"total": N, "distinct": N}:
        raise AssertionError(f"expected {N} messages each delivered once: {report.summary()}, {tally}")
    return queued, delivered


def run():
    server = Server()
    try:
        reference(server, messages("warm-up"))
        server.tally()
        ref = min(reference(server, messages(f"ref{r}")) for r in range(ROUNDS))
        if server.tally() != {"total": N * ROUNDS, "distinct": N * ROUNDS}:
            raise AssertionError("the reference runs did not each deliver every message once")
        ref_rate = N / ref
        print(f"{N} emails, one SMTP connection, best of {ROUNDS}")
        print(f"smtplib alone (reference):      {ref_rate:7.0f} messages/s")
        for name, url in databases("pollflow-bench"):
            results = [through_outbox(url, server, f"{name}{r}") for r in range(ROUNDS)]
            queued = min(q for q, _ in results)
            delivered = min(d for _, d in results)
            rate = N / delivered
            overhead = (delivered - ref) / N * 1000
            print(
                f"{name + ' outbox:':<31} {rate:7.0f} messages/s "
                f"(queueing {N / queued:,.0f}/s; {overhead:.2f} ms a message over smtplib); "
                f"ratio {rate / ref_rate:.2f} of smtplib alone; target {TARGET}/s "
                f"{'MET' if rate >= TARGET else 'NOT MET'}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    run()
