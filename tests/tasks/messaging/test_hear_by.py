"""How each person chose to hear (Person.hear_by; tasks/messaging/policy.py ``route_for``): what
the alert policy gathers goes by text, to their own Teams or Slack webhook, or by email, as they
chose; a missed statutory deadline, sign-in links and the rest stay email; a choice that cannot
be met falls back to email. A message to a person's own webhook reaches it (on https, with a
certificate made here) through delivery, and a message to "webhook" still reaches the team's."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import select

from store.models import Notification, Person
from store.outbox import enqueue, message
from tasks.messaging.accounts import queue_sign_in_link
from tasks.messaging.delivery import deliver
from tasks.messaging.gather import gather
from tasks.messaging.policy import policy, route_for
from timetables import settings
from timetables.clock import LONDON

NOON = dt.datetime(2027, 3, 2, 12, 0, tzinfo=LONDON)  # a Tuesday, outside quiet hours
PHONE = "07700 900123"
SLACK = "https://hooks.slack.com/services/T0000/B0000/own-channel-key"
RENDERED = ("Publish the notice of election: due Thu 8 Apr", "Dear Olu,\n\nIt is due.\n")


def people() -> dict[str, Person]:
    """One person for each choice, and for each choice that cannot be met."""
    made = {
        "email": Person(email="em@wychwood.gov.uk", name="Em", hear_by="email"),
        "text": Person(email="tex@wychwood.gov.uk", name="Tex", hear_by="text", phone=PHONE),
        "webhook": Person(email="web@wychwood.gov.uk", name="Web", hear_by="webhook", webhook_url=SLACK),
        "digest": Person(email="di@wychwood.gov.uk", name="Di", hear_by="digest"),
        "text, no phone": Person(email="nop@wychwood.gov.uk", name="Nop", hear_by="text"),
        "webhook, no address": Person(email="noa@wychwood.gov.uk", name="Noa", hear_by="webhook"),
        "webhook on http": Person(
            email="htt@wychwood.gov.uk", name="Htt", hear_by="webhook", webhook_url="http://hooks.slack.com/x"
        ),
    }
    return made


def test_what_the_policy_gathers_goes_the_way_each_person_chose():
    rules = policy()
    kinds = [k for k in rules.gathered if k not in rules.urgent]
    assert {"reminder", "overdue", "overdue-manager", "unassigned", "unblocked", "moved"} <= set(kinds)
    for kind in kinds:
        got = {choice: route_for(p, kind, rules) for choice, p in people().items()}
        assert got == {
            "email": ("email", "em@wychwood.gov.uk"),
            "text": ("sms", PHONE),
            "webhook": ("webhook", SLACK),
            "digest": ("email", "di@wychwood.gov.uk"),  # gather() leaves it to the digest
            # Never lost for want of a phone or an address: by email.
            "text, no phone": ("email", "nop@wychwood.gov.uk"),
            "webhook, no address": ("email", "noa@wychwood.gov.uk"),
            "webhook on http": ("email", "htt@wychwood.gov.uk"),
        }, kind


def test_a_missed_deadline_sign_in_links_and_the_rest_stay_email(tmp_path, monkeypatch):
    rules = policy()
    for kind in ("missed", "invitation", "reset", "digest", "staff-offer", "canvass-report", "gathered"):
        for p in people().values():
            assert route_for(p, kind, rules) == ("email", p.email), (kind, p.hear_by)
    # A council that gathers missed deadlines too: urgent still wins, by email at once.
    own = tmp_path / "alerts.yaml"
    own.write_text("gathered: [reminder, missed]\n")
    monkeypatch.setenv("POLLFLOW_ALERTS_CONFIG", str(own))
    theirs = policy()
    texter = people()["text"]
    assert route_for(texter, "missed", theirs) == ("email", texter.email)
    assert route_for(texter, "reminder", theirs) == ("sms", PHONE)
    assert route_for(texter, "overdue", theirs) == ("email", texter.email)  # not gathered there


# --- a person's own webhook, on https ------------------------------------------------------------


@pytest.fixture
def own_webhook(tmp_path, monkeypatch):
    """A person's own Teams or Slack channel: an https webhook on this machine, its certificate
    made here and trusted by requests (REQUESTS_CA_BUNDLE), keeping each (path, JSON body)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now, here = dt.datetime.now(dt.UTC), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([here]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "hook.pem", tmp_path / "hook.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))
    received: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/services/T0000/B0000/own-channel-key"
    yield url, received
    server.shutdown()
    server.server_close()


def test_a_message_to_their_own_webhook_reaches_it_and_webhook_still_means_the_teams(
    store, own_webhook, webhook
):
    url, received = own_webhook
    with store.session() as s:
        web = Person(email="web@wychwood.gov.uk", name="Web", hear_by="webhook", webhook_url=url)
        s.add(web)
        s.flush()
        channel, recipient = route_for(web, "reminder", policy())
        assert (channel, recipient) == ("webhook", url)
        enqueue(
            s,
            [
                message("reminder:1", "reminder", RENDERED, to=web, channel=channel, recipient=recipient),
                message("missed:1:webhook", "missed", RENDERED, recipient="webhook", channel="webhook"),
            ],
        )
    report = deliver(store.engine, settings.load())
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0), report.errors
    text = f"{RENDERED[0]}\n\n{RENDERED[1]}"
    assert received == [("/services/T0000/B0000/own-channel-key", {"text": text})]
    assert webhook.received == [{"text": text}]  # the team's, POLLFLOW_WEBHOOK_URL


def test_their_own_webhook_needs_no_team_webhook_and_its_key_stays_out_of_errors(store, monkeypatch):
    monkeypatch.delenv("POLLFLOW_WEBHOOK_URL", raising=False)
    gone = "https://127.0.0.1:9/services/T0000/B0000/own-channel-key"  # the discard port: refused
    with store.session() as s:
        web = Person(email="web@wychwood.gov.uk", name="Web", hear_by="webhook", webhook_url=gone)
        s.add(web)
        s.flush()
        enqueue(s, [message("reminder:1", "reminder", RENDERED, to=web, channel="webhook", recipient=gone)])
    report = deliver(store.engine, settings.load())
    assert report.retrying == 1
    with store.session() as s:
        error = s.scalars(select(Notification)).one().last_error
    assert error.startswith("their own webhook at 127.0.0.1 is unreachable")
    assert "own-channel-key" not in error and "POLLFLOW_WEBHOOK_URL" not in error
    assert report.errors[0].startswith("their own webhook (127.0.0.1): ")  # the run's report, too
    assert not any("own-channel-key" in e for e in report.errors)


# --- before delivery, by gather() -----------------------------------------------------------------


def test_gather_sends_what_is_due_the_way_each_person_chose(store, monkeypatch):
    monkeypatch.setenv("POLLFLOW_PUBLIC_URL", "https://elections.wychwood.gov.uk")
    with store.session() as s:
        chose = people()
        s.add_all(chose.values())
        s.flush()
        queued = [message(f"reminder:{p.id}", "reminder", RENDERED, to=p) for p in chose.values()]
        queued += [message(f"missed:{p.id}", "missed", RENDERED, to=p) for p in chose.values()]
        enqueue(s, queued)
        queue_sign_in_link(s, chose["text"], "invitation", "ada@wychwood.gov.uk")
        gather(s, NOON)
        got = {
            (n.kind, n.person_id): (n.status, n.channel, n.recipient)
            for n in s.scalars(select(Notification).order_by(Notification.id))
        }
        by = {choice: p.id for choice, p in chose.items()}
        assert got[("reminder", by["text"])] == ("queued", "sms", PHONE)
        assert got[("reminder", by["webhook"])] == ("queued", "webhook", SLACK)
        assert got[("reminder", by["email"])] == ("queued", "email", "em@wychwood.gov.uk")
        assert got[("reminder", by["text, no phone"])] == ("queued", "email", "nop@wychwood.gov.uk")
        assert got[("reminder", by["digest"])][0] == "gathered"  # left to the morning digest
        for choice, person_id in by.items():
            assert got[("missed", person_id)] == ("queued", "email", chose[choice].email), choice
        assert got[("invitation", by["text"])] == ("queued", "email", "tex@wychwood.gov.uk")


def test_several_things_for_someone_who_hears_by_text_are_gathered_into_an_email(store):
    """A gathered message is too long for a text (Notify refuses over 918 characters)."""
    with store.session() as s:
        tex = people()["text"]
        s.add(tex)
        s.flush()
        enqueue(s, [message(f"reminder:{tex.id}:{i}", "reminder", RENDERED, to=tex) for i in range(2)])
        assert gather(s, NOON)["gathered"] == 2
        (folded,) = s.scalars(select(Notification).where(Notification.kind == "gathered")).all()
        assert (folded.channel, folded.recipient, folded.status) == ("email", tex.email, "queued")
        one = message(f"reminder:{tex.id}:alone", "reminder", RENDERED, to=tex)
        enqueue(s, [one])
        gather(s, NOON)
        alone = s.scalars(select(Notification).where(Notification.dedupe_key == one.dedupe_key)).one()
        assert (alone.channel, alone.recipient) == ("sms", PHONE)  # one thing alone goes as they chose
