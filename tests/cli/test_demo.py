"""`make demo` (= `pollflow demo`), run as a user runs it: a fresh POLLFLOW_HOME, its own SMTP
server, Prefect's embedded API. It must finish and show the work it did."""

import os
import re
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import Session, create_engine, select

from pollflow.demo import DEMO_PASSWORD
from store.identity.credentials import sign_in_with_password
from store.models import Notification, Person

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_plans_checks_delivers_publishes_and_summarises(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLLFLOW_", "PREFECT_"))}
    env.update(POLLFLOW_HOME=str(tmp_path), COLUMNS="200")
    done = subprocess.run(
        [sys.executable, "-m", "pollflow", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = " ".join(done.stdout.split())  # rich wraps long lines to the terminal
    assert "Planned local.wychwood.2027-05-06+local.wychwood-parishes.2027-05-06: 31 statutory events" in out
    assert "Planned parl.wychwood-and-chipping.by.2027-03-18" in out
    assert "1 published on Wed 31 Mar 2027" in out
    assert re.search(r"Planned the registration year canvass\.wychwood\.2027: \d+ statutory events", out)
    delivered = int(re.search(r"Messages delivered to the demo's SMTP server: (\d+)", out).group(1))
    assert delivered > 0 and f"Outbox: sent {delivered}, with " in out

    notice = next((tmp_path / "demo" / "published").rglob("notice_of_election.pdf"))
    text = PdfReader(notice).pages[0].extract_text()
    assert "NOTICE OF ELECTION" in text and "Wednesday 31 March 2027" in text
    assert "4pm on Thursday 8 April 2027" in text  # close of nominations: 19 working days before

    # The demo's officers can sign in to the workspace, and it says how.
    assert "sign in as priya.shah@wychwood.example.gov.uk (the manager)" in out
    engine = create_engine(f"sqlite:///{tmp_path / 'demo' / 'pollflow.db'}")
    with Session(engine) as session:
        people = session.exec(select(Person)).all()
        assert len(people) == 5
        assert all(sign_in_with_password(session, p.email, DEMO_PASSWORD).person for p in people)
        assert_messages_humane(session, people, delivered)
    engine.dispose()


def assert_messages_humane(session, people, delivered):
    """The shipped alert policy over the demo's five checks and a digest, person by person: a
    missed statutory deadline once per statutory event, everything else one message a delivery."""
    checks = 5
    sent = session.exec(select(Notification).where(Notification.status == "sent")).all()
    assert len(sent) == delivered
    for person in people:
        theirs = [n for n in sent if n.person_id == person.id]
        missed = [n.dedupe_key.rsplit(":", 1)[0] for n in theirs if n.kind == "missed"]
        assert len(missed) == len(set(missed)), person.email  # once per statutory event
        assert sum(n.kind == "digest" for n in theirs) <= 1, person.email  # one morning's digest
        rest = [n for n in theirs if n.kind not in {"missed", "digest"}]
        assert len(rest) <= checks, (person.email, [n.subject for n in rest])
    # Humane: the busiest officer hears a handful of times over the election, not dozens.
    assert max(sum(n.person_id == p.id for n in sent) for p in people) <= 15
    assert session.exec(select(Notification).where(Notification.status == "gathered")).first()
