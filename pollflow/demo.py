"""``pollflow demo``: a fictional district council plans its polls, end to end, on embedded defaults.

Wychwood District Council's electoral services team plans the combined district and parish
elections of Thursday 6 May 2027 and a UK Parliament by-election, runs the deadline check at a
few dates in the run-up as if it were then, records some work as done, and receives every
reminder and alert on an SMTP server the demo starts on localhost. The demo's store lives in
$POLLFLOW_HOME/demo and is made afresh each run; the rest of POLLFLOW_HOME is left alone.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import shutil
import socket
import threading
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from timetables.paths import pollflow_home

LONDON = ZoneInfo("Europe/London")
PEOPLE_CSV = """name,email,phone,roles
Priya Shah,priya.shah@wychwood.example.gov.uk,01993 000001,electoral-services-manager
Tom Evans,tom.evans@wychwood.example.gov.uk,01993 000002,electoral-services-officer;postal-votes-officer
Grace Okafor,grace.okafor@wychwood.example.gov.uk,01993 000003,returning-officer
Sam Patel,sam.patel@wychwood.example.gov.uk,,deputy-returning-officer;electoral-registration-officer
Lucy Brown,lucy.brown@wychwood.example.gov.uk,01993 000005,staffing-officer;finance-officer
"""
DOMAIN = "wychwood.example.gov.uk"
DEMO_PASSWORD = "wychwood demo 2027"  # the demo's only: a real team sets its own by invitation
CANVASS = "canvass.wychwood.2027"
# What notices need that the timetable does not hold (`pollflow document details`).
DETAILS = {
    "council": "Wychwood District Council",
    "returning_officer": {
        "name": "Grace Okafor",
        "address": "Council Offices, 1 High Street, Wychwood, WY1 1AA",
        "phone": "01993 000003",
        "email": f"elections@{DOMAIN}",
        "website": "www.wychwood.example.gov.uk/elections",
    },
    "nomination_hours": "10am to 4pm",
    "elections": {
        "local.wychwood.2027-05-06": {
            "areas": [
                {"name": "Abbey", "seats": 2},
                {"name": "Castle", "seats": 3},
                {"name": "Mill", "seats": 1},
            ]
        },
        "local.wychwood-parishes.2027-05-06": {
            "areas": [
                {"name": "Ashby Parish Council", "seats": 7},
                {"name": "Brook Town Council", "seats": 11},
            ]
        },
    },
}
MAY_POLLS = ["local.wychwood.2027-05-06", "local.wychwood-parishes.2027-05-06"]
BY_ELECTION = "parl.wychwood-and-chipping.by.2027-03-18"
BY_ELECTION_DATES = {"writ_received": "2027-02-12", "close_of_nominations": "2027-02-19T16:00"}
# When the team runs the check. Before each, it has recorded as done everything due by then,
# except what it forgot: booking the count venue (overdue from 22 March) and publishing the
# parishes' notice of election (a missed statutory deadline on 31 March).
CHECKS = ["2027-02-15T09:30", "2027-03-08T09:30", "2027-03-22T18:00", "2027-04-01T10:00", "2027-05-07T09:00"]
FORGOTTEN = {
    "book_count_venue",
    "publish_notice_of_election:local.wychwood-parishes.2027-05-06",
    "count_setup",
    "declaration_of_result:local.wychwood.2027-05-06",
    "declaration_of_result:local.wychwood-parishes.2027-05-06",
}


class MailCollector:
    """An SMTP server on localhost that keeps every message (aiosmtpd)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self._lock = threading.Lock()
        collector = self

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 (aiosmtpd's name)
                with collector._lock:
                    collector.messages.append(
                        email.message_from_bytes(envelope.content, policy=default_policy)
                    )
                return "250 OK"

        with socket.socket() as probe:  # a free port (aiosmtpd's readiness check needs a real one)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> str:
        self.controller.start()
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.controller.stop()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON)


def run_demo(console: Console) -> None:
    base = pollflow_home()
    demo_home = base / "demo"
    shutil.rmtree(demo_home, ignore_errors=True)
    demo_home.mkdir(parents=True)
    # Prefect's own database stays in POLLFLOW_HOME/prefect between runs (it starts faster).
    os.environ.setdefault("PREFECT_HOME", str(base / "prefect"))
    os.environ["POLLFLOW_HOME"] = str(demo_home)
    os.environ["POLLFLOW_DATABASE_URL"] = f"sqlite:///{demo_home / 'pollflow.db'}"
    for name in ("POLLFLOW_NOTIFY_API_KEY", "POLLFLOW_WEBHOOK_URL"):
        os.environ.pop(name, None)
    mail = MailCollector()
    os.environ["POLLFLOW_SMTP_URL"] = mail.start()
    try:
        _run(console, demo_home, mail)
    finally:
        mail.stop()


def _run(console: Console, demo_home, mail: MailCollector) -> None:
    from pollflow.runtime import run_flow
    from store.db import session_scope
    from store.identity.council import save_council
    from store.people import read_people_csv, save_people

    console.rule("pollflow demo: Wychwood District Council (fictional)")
    people_file = demo_home / "people.csv"
    people_file.write_text(PEOPLE_CSV)
    with session_scope() as session:
        save_people(session, read_people_csv(people_file), actor="demo")
        _demo_accounts(session)
        # The council's details, as its administrator saves them first: messages and letters
        # are signed with them, and nothing goes to temporary staff until they are set. The
        # workspace's public address is left to POLLFLOW_PUBLIC_URL: this machine, for the demo.
        owner = DETAILS["returning_officer"]
        save_council(
            session,
            {
                "name": DETAILS["council"],
                "returning_officer": owner["name"],
                "address": owner["address"].replace(", ", "\n"),
                "email": owner["email"],
                "phone": owner["phone"],
            },
            "demo",
        )
    console.print(
        f"1. Imported 5 officers from {people_file}, each with a workspace account, and saved "
        "the council's details"
    )

    with console.status("Starting Prefect's embedded API (a few seconds the first time)..."):
        may = run_flow(
            "plan_election:plan_election",
            election_ids=MAY_POLLS,
            kind=["local", "parish"],
            actor=f"priya.shah@{DOMAIN}",
        )
    console.print(
        f"2. Planned {may['poll_key']}: {may['events']} statutory events, "
        f"{may['work_items']} work items, {may['reminders']} reminders"
    )
    by = run_flow(
        "plan_election:plan_election",
        election_ids=[BY_ELECTION],
        nation="england",
        overrides=BY_ELECTION_DATES,
        actor=f"priya.shah@{DOMAIN}",
    )
    console.print(
        f"3. Planned {by['poll_key']} (writ and nominations as the Returning Officer fixed "
        f"them): {by['events']} events, {by['work_items']} work items, {by['reminders']} reminders"
    )

    done = run_flow(
        "complete_work:complete_work_item",
        ref="project_plan",
        election=MAY_POLLS[0],
        by=f"grace.okafor@{DOMAIN}",
        note="signed at the planning meeting",
        deliver=False,
    )
    console.print(
        f"   Grace Okafor (Returning Officer) signed off: {done['title']}; "
        f"now ready: {', '.join(done['unblocked'])}"
    )
    rows = []
    for moment in CHECKS:
        completed = _catch_up(at(moment))
        result = run_flow("check_deadlines:check_deadlines", as_of=at(moment))
        rows.append((moment, completed, result))
    digest = run_flow("daily_digest:daily_digest", as_of=at("2027-04-01T08:00"))

    table = Table(title="4. Deadline checks, as if run on these days (the team records work as it goes)")
    columns = ("As of", "Work done", "Reminders", "Overdue", "Missed statutory", "New messages", "Sent")
    for column in (*columns, "Gathered into them"):
        table.add_column(column, justify="right")
    for moment, completed, result in rows:
        table.add_row(
            moment.replace("T", " "),
            str(completed),
            str(result["reminders"]),
            str(result["overdue"]),
            str(result["missed_statutory_deadlines"]),
            str(result["messages_queued"]),
            str(result["delivery"]["sent"]),
            str(result["delivery"].get("gathered", 0)),
        )
    console.print(table)
    console.print(f"5. Morning digests for Thu 1 Apr 2027: {digest['digests_queued']} sent")

    published = _notice_of_election(console, demo_home)
    canvass = run_flow(
        "run_canvass:run_canvass", canvass_id=CANVASS, nation="england", actor=f"sam.patel@{DOMAIN}"
    )
    console.print(
        f"7. Planned the registration year {canvass['poll_key']}: {canvass['events']} statutory "
        f"events (monthly notices of alteration, the canvass, the revised register by 1 December), "
        f"{canvass['work_items']} work items, {canvass['reminders']} reminders"
    )

    ics_file, xlsx_file = demo_home / "priya-shah.ics", demo_home / "plan.xlsx"
    _write_feeds(ics_file, xlsx_file)
    _summary(console, demo_home, mail, may, by, ics_file, xlsx_file, published)


def _notice_of_election(console: Console, demo_home) -> list[str]:
    """The district election's notice of election, as the team would make it: the council's
    details given, the notice drawn up from the timetable, proof-checked by an officer, approved
    by the Returning Officer, and published on its day. Returns the published files."""
    from pollflow.runtime import run_flow
    from store.db import session_scope
    from store.documents.council_details import parse_details, save_details
    from store.documents.versions import approve, find_document, proof
    from store.queries import find_poll
    from tasks.documents.catalogue import CATALOGUE

    with session_scope() as session:
        poll = find_poll(session, MAY_POLLS[0])
        save_details(session, poll, parse_details(DETAILS), actor=f"priya.shah@{DOMAIN}")
    drawn = run_flow(
        "produce_documents:produce_documents",
        election_id=MAY_POLLS[0],
        as_of=at("2027-03-15T09:00"),
        only=["notice_of_election"],
        actor=f"priya.shah@{DOMAIN}",
    )
    with session_scope() as session:  # the district's notice only: the parishes' was forgotten
        poll, doc = find_document(session, MAY_POLLS[0], "notice_of_election", list(CATALOGUE))
        proof(session, doc, poll, f"tom.evans@{DOMAIN}", note="demo: checked against the timetable")
        approve(session, doc, poll, f"grace.okafor@{DOMAIN}", note="demo: approved")
    published = run_flow(
        "produce_documents:produce_documents",
        election_id=MAY_POLLS[0],
        as_of=at("2027-03-31T09:00"),  # the day the notice is dated
        only=["notice_of_election"],
        actor=f"priya.shah@{DOMAIN}",
    )
    # The folder keeps each version (-v1.pdf) beside the current copy the website links to.
    files = sorted(str(p) for p in (demo_home / "published").rglob("*.pdf") if "-v" not in p.stem)
    console.print(
        f"6. Notices of election: {len(drawn['generated'])} drawn up from the timetable on 15 March; "
        f"the district's proof-checked by Tom Evans and approved by Grace Okafor; "
        f"{len(published['published'])} published on Wed 31 Mar 2027 as HTML and PDF "
        f"(the parishes' still awaits its proof-check)"
    )
    return files


def _catch_up(moment: dt.datetime) -> int:
    """Record as done (by its owner, or the Returning Officer where it needs a sign-off) the work
    due by ``moment``, except what the team forgot and what waits for it."""
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import Person, WorkItem, WorkStatus
    from store.work import WorkError, complete

    count = 0
    with session_scope() as session:
        progress = True
        while progress:
            progress = False
            due = session.scalars(
                select(WorkItem)
                .where(WorkItem.status == WorkStatus.OPEN, WorkItem.due_at <= moment)
                .order_by(WorkItem.due_at)
            ).all()
            for item in due:
                if item.key in FORGOTTEN:
                    continue
                owner = session.get(Person, item.owner_id) if item.owner_id else None
                who = f"grace.okafor@{DOMAIN}" if item.needs_signoff or owner is None else owner.email
                try:
                    complete(session, str(item.id), who, note="demo: done on time")
                except WorkError:
                    continue  # waits for forgotten work
                count += 1
                progress = True
    return count


def _write_feeds(ics_file, xlsx_file) -> None:
    from pollflow.output.calendar_feed import person_calendar
    from pollflow.output.workbook import write_plan
    from store import queries
    from store.db import session_scope
    from store.identity.council import public_address

    moment = at("2027-03-01T09:00")
    with session_scope() as session:
        rows = queries.tasks(session, person=f"priya.shah@{DOMAIN}", as_of=moment)
        ics_file.write_bytes(
            person_calendar("Priya Shah", f"priya.shah@{DOMAIN}", rows, public_address(session)).to_ical()
        )
        everything = queries.tasks(session, as_of=moment)
        polls = {r.poll.id: r.poll for r in everything}
        write_plan(
            xlsx_file, [(p, queries.timetable(session, p)) for p in polls.values()], everything, moment
        )


def _demo_accounts(session) -> None:
    """Every demo officer can sign in to the workspace with the demo's password."""
    from sqlmodel import select

    from store.identity.credentials import set_password
    from store.models import Person

    for person in session.exec(select(Person)).all():
        set_password(session, person, DEMO_PASSWORD)


def _summary(console, demo_home, mail, may, by, ics_file, xlsx_file, published) -> None:
    from pollflow.runtime import running_server
    from store import outbox
    from store.db import session_scope

    with session_scope() as session:
        counts = outbox.counts(session)
    kinds: dict[str, int] = {}
    for message in mail.messages:
        kinds[message["X-Pollflow-Kind"]] = kinds.get(message["X-Pollflow-Kind"], 0) + 1
    console.rule("Summary")
    console.print(
        f"Statutory events planned: {may['events'] + by['events']}; work items: "
        f"{may['work_items'] + by['work_items']}; reminders scheduled: {may['reminders'] + by['reminders']}"
    )
    console.print(
        f"Messages delivered to the demo's SMTP server: {len(mail.messages)} "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
    )
    for message in mail.messages[:3]:
        console.print(f"  e.g. to {message['To']}: {message['Subject']}")
    # 'gathered': messages that went inside another (one a person a delivery: the alert policy).
    others = "".join(f", {k} {v}" for k, v in sorted(counts.items()) if k not in {"sent", "gathered"})
    console.print(
        f"Outbox: sent {counts.get('sent', 0)}, with {counts.get('gathered', 0)} more gathered into "
        f"them{others} (POLLFLOW_HOME={demo_home} pollflow outbox)"
    )
    console.print(
        f"Store: {demo_home / 'pollflow.db'}; audit trail: POLLFLOW_HOME={demo_home} "
        f"pollflow audit {MAY_POLLS[0]}"
    )
    console.print(f"Priya's calendar feed for Outlook: {ics_file}; the plan in Excel: {xlsx_file}")
    console.print(f"The published notice of election: {', '.join(published)}")
    console.print(
        f"The workspace: POLLFLOW_HOME={demo_home} pollflow web, then open "
        f"http://127.0.0.1:8080/sign-in and sign in as priya.shah@{DOMAIN} (the manager), "
        f"grace.okafor@{DOMAIN} (the Returning Officer) or tom.evans@{DOMAIN} (an officer), "
        f"password: {DEMO_PASSWORD}"
    )
    server = running_server()
    if server:
        console.print(f"Prefect UI (flow runs, events, artifacts): {server[:-4]}")
    else:
        console.print(
            "Prefect UI: these runs used Prefect's embedded API; `pollflow serve` starts a "
            "Prefect server whose UI, at http://127.0.0.1:4200, is the audit dashboard."
        )
