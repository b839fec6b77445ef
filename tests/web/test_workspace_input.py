"""Bad input and hostile requests get a clear answer, never a 500, a traceback or SQL; reading
pages never writes; every answer carries the security headers."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import text
from sqlmodel import select

from pollflow.web import security as web_security
from pollflow.web import session as web_session
from pollflow.web.session import COOKIE
from store.models import AuditEntry, WorkItem
from tests.support.identity import PASSWORD
from tests.support.workspace import TEAM, Client, seed_team

MANAGER, RO, OFFICER = (
    TEAM["electoral-services-manager"],
    TEAM["returning-officer"],
    TEAM["electoral-services-officer"],
)


@pytest.fixture
def base(sqlite_store, web_server):
    seed_team(sqlite_store)
    return web_server


def signed_in(base, email=MANAGER) -> Client:
    client = Client(base)
    assert client.sign_in(email).status_code == 303
    return client


def test_security_headers_on_pages_and_errors(base):
    client = signed_in(base)
    for path in ("/work", "/no-such-page", "/sign-in"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'self'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "SAMEORIGIN"
        assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in client.get("/work").headers  # plain HTTP here: no HSTS
    assert client.get("/work").headers["Cache-Control"] == "no-store"


def test_the_session_cookie_is_http_only_and_same_site(base):
    answer = Client(base)
    token = answer.form_token("/sign-in")
    signed = answer.post("/sign-in", {"csrf": token, "email": MANAGER, "password": PASSWORD})
    cookie = signed.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


@pytest.mark.parametrize(
    "path",
    [
        "/work/abc",
        "/work/99999999999999999999999",
        "/polls/%F0%9F%97%B3",
        "/work/é",
        "/signoff/-1",
        "/audit?poll=x",
        "/audit?from=yesterday",
        "/documents/abc.pdf",
        "/account/invitation/%E2%80%AE",
        "/account/reset/" + "x" * 5000,
        "/calendar/%C3%A9.ics",
        "/staff/respond/{{x}}",
    ],
)
def test_bad_addresses_are_refused_plainly(base, path):
    answer = signed_in(base).get(path)
    assert answer.status_code in (400, 404, 410), f"{path}: {answer.status_code}"
    assert "Traceback" not in answer.text and "sqlalchemy" not in answer.text.lower()


def test_odd_but_harmless_queries_are_ignored(base):
    client = signed_in(base)
    for path in ("/audit?page=-3", "/audit?page=abc", "/polls/1?owner={{7*7}}&area=%00", "/work?x=%FF"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert ">49<" not in answer.text and "Traceback" not in answer.text


def test_a_form_without_its_token_is_refused_and_changes_nothing(base, sqlite_store):
    client = signed_in(base)
    with sqlite_store.session() as s:
        item = s.exec(select(WorkItem).where(WorkItem.key == "project_plan")).one()
        before = len(s.exec(select(AuditEntry)).all())
    for token in ("", "forged"):
        answer = client.post(f"/work/{item.id}/comment", {"comment": "sneaky", "csrf": token})
        assert answer.status_code == 400 and "came from elsewhere" in answer.text
    with sqlite_store.session() as s:
        assert len(s.exec(select(AuditEntry)).all()) == before


def test_a_request_body_over_the_limit_is_refused(base):
    client = signed_in(base)
    answer = client.post("/work/1/comment", {"comment": "x" * (web_security.MAX_BODY + 10)})
    assert answer.status_code == 413


def test_bad_form_values_are_named(base, sqlite_store):
    client = signed_in(base)
    with sqlite_store.session() as s:
        item = s.exec(select(WorkItem).where(WorkItem.key == "book_polling_stations")).one()
    checks = [
        (f"/work/{item.id}/comment", {"comment": "   "}, "write a comment first"),
        (f"/work/{item.id}/comment", {"comment": "x" * 2001}, "at most 2,000 characters"),
        (f"/work/{item.id}/reassign", {"owner": "nobody@wychwood.gov.uk"}, "no person with email nobody@"),
        (f"/work/{item.id}/complete", {}, "waits for project_plan"),
        ("/polls/new", {"election_ids": "local.nowhere.2027-02-30"}, "2027-02-30"),
        ("/polls/new", {"election_ids": "local.x.2027-05-06", "nation": "atlantis"}, "Choose the nation"),
        ("/admin/people", {"email": "not-an-email", "roles": "staffing-officer"}, "is not an email address"),
        ("/admin/people", {"email": "new@wychwood.gov.uk", "roles": "staffing-officer"}, "give their name"),
        (
            "/admin/people",
            {"email": "new@wychwood.gov.uk", "name": "N", "roles": "tsar"},
            "Unknown role(s) tsar",
        ),
        ("/admin/roles", {"key": "Count Team", "name": "x"}, "is not allowed"),
        ("/admin/council", {"name": "Wychwood", "public_url": "ftp://x"}, "must start https://"),
        ("/account/tokens", {"name": ""}, "A token needs a name"),
    ]
    for path, form, words in checks:
        answer = client.post(path, form)
        assert answer.status_code == 400, f"{path} {form}: {answer.status_code}"
        assert words in answer.text, f"{path} {form}: {words!r} not in the page"
        assert "Traceback" not in answer.text


def test_reading_every_page_writes_nothing(base, sqlite_store):
    client = signed_in(base, RO)
    admin = signed_in(base, TEAM["head-of-electoral-services"])
    tables = ["audit_entry", "work_item", "person", "account", "web_session", "access_token", "notification"]

    def counts():
        with sqlite_store.session() as s:
            return {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}

    before = counts()
    for path in ("/work", "/work/1", "/polls", "/polls/1", "/signoff", "/audit", "/audit.csv", "/account"):
        assert client.get(path).status_code == 200, path
    for path in ("/admin/people", "/admin/people/1", "/admin/roles", "/admin/council", "/admin/tokens"):
        assert admin.get(path).status_code == 200, path
    assert counts() == before


def test_a_signed_out_session_and_a_tampered_cookie_get_nothing(base):
    client = signed_in(base)
    stolen = client.http.cookies.get(COOKIE)
    assert client.post("/sign-out").status_code == 303
    thief = requests.get(f"{base}/work", cookies={COOKIE: stolen}, allow_redirects=False, timeout=10)
    assert thief.status_code == 303 and thief.headers["location"].startswith("/sign-in")
    forged = requests.get(
        f"{base}/work", cookies={COOKIE: stolen[:-3] + "abc"}, allow_redirects=False, timeout=10
    )
    assert forged.status_code == 303


def test_an_idle_session_expires_after_thirty_minutes(base, monkeypatch):
    client = signed_in(base)
    secret = web_session._serializer().loads(client.http.cookies.get(COOKIE))["s"]
    stale = web_session._serializer().dumps({"s": secret, "seen": int(time.time()) - 31 * 60})
    answer = requests.get(f"{base}/work", cookies={COOKIE: stale}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    fresh = web_session._serializer().dumps({"s": secret, "seen": int(time.time()) - 29 * 60})
    assert (
        requests.get(f"{base}/work", cookies={COOKIE: fresh}, allow_redirects=False, timeout=10).status_code
        == 200
    )


def test_sign_in_refuses_open_redirects_and_locks_out_guessers(base):
    client = Client(base)
    token = client.form_token("/sign-in")
    answer = client.post(
        "/sign-in", {"csrf": token, "email": OFFICER, "password": PASSWORD, "next": "//evil.example"}
    )
    assert answer.headers["location"] == "/work"
    guesser = Client(base)
    token = guesser.form_token("/sign-in")
    for _ in range(5):
        wrong = guesser.post("/sign-in", {"csrf": token, "email": MANAGER, "password": "guess guess guess"})
        assert wrong.status_code == 400 and "Email address or password not right" in wrong.text
    locked = guesser.post("/sign-in", {"csrf": token, "email": MANAGER, "password": PASSWORD})
    assert locked.status_code == 400 and "locked after 5 failed sign-ins" in locked.text
    empty = guesser.post("/sign-in", {"csrf": token, "email": "", "password": ""})
    assert "Enter your email address" in empty.text and "Enter your password" in empty.text


def test_one_address_is_throttled_after_twenty_failures(base):
    guesser = Client(base)
    token = guesser.form_token("/sign-in")
    statuses = [
        guesser.post(
            "/sign-in", {"csrf": token, "email": f"x{i}@wychwood.gov.uk", "password": "nope nope"}
        ).status_code
        for i in range(21)
    ]
    assert statuses[:20] == [400] * 20 and statuses[20] == 429
