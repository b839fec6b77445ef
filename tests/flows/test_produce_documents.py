"""The produce_documents flow under Prefect's test harness, on SQLite and PostgreSQL: what is due is
drawn up once, proof-checks and approvals become work, approved versions are published to the
output folder and a webhook (signed; a failed delivery is tried again on the next run), and running
it again changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler

import pytest
from sqlmodel import select

from store.documents.versions import DocumentError, approve, find_document, proof
from store.models import AuditEntry, WorkItem
from tests.store.documents.test_store import AFTER_SOPN, ELECTION, ON_SOPN_DAY, wychwood
from tests.support.fakes import _HttpServer
from tests.tasks.documents.test_samples import PROOFER, RO_EMAIL

pytestmark = pytest.mark.usefixtures("prefect")
SECRET = "s3cret-for-the-council-website"


class Receiver(_HttpServer):
    """A council website's endpoint: keeps each body and its headers; answers 503 ``fail`` times."""

    def __init__(self, fail: int = 0):
        self.received: list[tuple[dict, dict]] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append((dict(self.headers), json.loads(body), body))
                self.send_response(204)
                self.end_headers()

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notices"


@pytest.fixture
def receiver(monkeypatch, tmp_path):
    server = Receiver(fail=1)
    monkeypatch.setenv("POLLFLOW_DOCUMENTS_WEBHOOK_URL", server.url)
    monkeypatch.setenv("POLLFLOW_DOCUMENTS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("POLLFLOW_DOCUMENTS_DIR", str(tmp_path / "published"))
    yield server
    server.stop()


def counts(store):
    with store.session() as session:
        return {
            "work": len(session.exec(select(WorkItem)).all()),
            "audit": len(session.exec(select(AuditEntry)).all()),
        }


def test_produce_documents_generates_raises_work_and_publishes_once(store, receiver, tmp_path):
    from flows.produce_documents import produce_documents

    with store.session() as session:
        wychwood(session)
    first = produce_documents(election_id=ELECTION, as_of=AFTER_SOPN)
    assert f"sopn:{ELECTION} v1" in first["generated"] and not first["blocked"]
    assert f"proof_sopn:{ELECTION}:v1" in first["work_raised"]
    before = counts(store)
    again = produce_documents(election_id=ELECTION, as_of=AFTER_SOPN)
    assert not again["generated"] and not again["work_raised"] and not again["published"]
    assert counts(store) == before  # idempotent: nothing new

    with store.session() as session:
        poll, doc = find_document(session, ELECTION, "sopn")
        proof(session, doc, poll, PROOFER)
        approve(session, doc, poll, RO_EMAIL)
    published = produce_documents(election_id=ELECTION, as_of=ON_SOPN_DAY)
    assert published["published"] == [f"sopn:{ELECTION} v1"]
    assert published["errors"] and "503" in published["errors"][0]  # the website was down
    assert (tmp_path / "published").rglob("sopn-v1.pdf")

    retried = produce_documents(election_id=ELECTION, as_of=ON_SOPN_DAY)
    assert retried["webhooks"] == [f"sopn:{ELECTION} v1"] and not retried["published"]
    assert len(receiver.received) == 1
    headers, payload, body = receiver.received[0]
    assert payload["document"] == "sopn" and payload["version"] == 1 and payload["election_id"] == ELECTION
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Pollflow-Signature"] == expected
    pdf = next(f for f in payload["files"] if f["media_type"] == "application/pdf")
    content = base64.b64decode(pdf["content_base64"])
    assert content.startswith(b"%PDF") and hashlib.sha256(content).hexdigest() == pdf["sha256"]

    quiet = produce_documents(election_id=ELECTION, as_of=ON_SOPN_DAY)
    assert not quiet["published"] and not quiet["webhooks"] and len(receiver.received) == 1
    with store.session() as session:
        actions = [e.action for e in session.exec(select(AuditEntry))]
    assert actions.count("document published") == 1 and actions.count("document sent to webhook") == 1


def test_publish_document_flow_refuses_before_approval(store, receiver):
    from flows.produce_documents import produce_documents, publish_document

    with store.session() as session:
        wychwood(session)
    produce_documents(election_id=ELECTION, as_of=AFTER_SOPN, publish=False)
    with pytest.raises(DocumentError, match="cannot be published before the Returning Officer"):
        publish_document(election_id=ELECTION, key="sopn", as_of=ON_SOPN_DAY)


def test_produce_all_documents_covers_every_planned_poll(store, receiver):
    from flows.produce_documents import produce_all_documents

    with store.session() as session:
        wychwood(session)
    results = produce_all_documents(as_of=AFTER_SOPN)
    assert list(results) == [ELECTION]
    assert f"sopn:{ELECTION} v1" in results[ELECTION]["generated"]
    again = produce_all_documents(as_of=AFTER_SOPN)
    assert not again[ELECTION]["generated"]
