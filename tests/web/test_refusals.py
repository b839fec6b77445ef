"""What the workspace refuses, over real HTTP to the running server (issue 16): a change the
database refuses is a page saying so in words, never the SQL or its values; a request body over
the limit is refused with 413 before it is read, declared or streamed; a normal form still works."""

from __future__ import annotations

import http.client
from urllib.parse import urlparse

import pytest
from sqlalchemy import text

from pollflow.web import security
from tests.support.workspace import TEAM, Client, seed_team

MANAGER = TEAM["electoral-services-manager"]
SECRET_NAME = "Alice Secretname"


@pytest.fixture
def base(sqlite_store, web_server):
    seed_team(sqlite_store)
    return web_server


def signed_in(base) -> Client:
    client = Client(base)
    assert client.sign_in(MANAGER).status_code == 303
    return client


def test_a_change_the_database_refuses_is_a_page_without_sql_or_values(base, sqlite_store):
    with sqlite_store.engine.begin() as connection:  # a rule the page does not check for itself
        connection.execute(text("CREATE UNIQUE INDEX test_person_name ON person (name)"))
    client = signed_in(base)
    form = {"name": SECRET_NAME, "roles": "staffing-officer"}
    assert client.post("/admin/people", {**form, "email": "alice.one@wychwood.gov.uk"}).status_code == 303
    answer = client.post("/admin/people", {**form, "email": "alice.two@wychwood.gov.uk"})
    assert answer.status_code == 409
    words = answer.text.lower()
    assert "the database refused the change: a duplicate of something that must be unique" in words
    assert "nothing was saved" in words
    for word in ("INSERT", "SELECT", "[parameters", "[SQL", "alice.two@", "Traceback"):
        assert word not in answer.text, word


def _raw_post(base: str, path: str, chunks, headers: dict) -> tuple[int, str]:
    """A POST by hand, so the body can be declared large or streamed without a length."""
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.putrequest("POST", path)
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.endheaders()
        try:
            for chunk in chunks:
                if "Transfer-Encoding" in headers:
                    connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                else:
                    connection.send(chunk)
            if "Transfer-Encoding" in headers:
                connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused early and closed: the answer is still there to read
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_a_body_over_the_limit_is_refused_early_declared_or_streamed(base):
    path = "/staff/respond/not-a-token"
    over = security.MAX_BODY + 1
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    # Declared: refused on the header alone, the 300 MB never sent.
    status, body = _raw_post(base, path, [], {**form, "Content-Length": str(300 * 1024 * 1024)})
    assert status == 413 and "too large" in body.lower()
    # Streamed without a length: refused once the bytes counted pass the limit.
    chunk = b"reason=" + b"x" * (64 * 1024)
    chunks = [chunk] * (over // len(chunk) + 4)
    status, body = _raw_post(base, path, chunks, {**form, "Transfer-Encoding": "chunked"})
    assert status == 413 and "too large" in body.lower()
    # A declared length that is not a number is refused too.
    status, _ = _raw_post(base, path, [], {**form, "Content-Length": "lots"})
    assert status in (400, 413)


def test_a_normal_form_still_works_under_the_limit(base):
    client = signed_in(base)
    answer = client.post("/work/1/comment", {"comment": "Booked the hall. " * 100})
    assert answer.status_code in (303, 200), answer.text[:300]
    assert security.MAX_BODY == 1024 * 1024
