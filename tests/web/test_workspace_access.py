"""Who may reach what: every route of the workspace, for every default role and for someone not
signed in. Signed out, every page sends you to sign in; a role without the permission gets 403;
a role with it gets the page (or, for a form sent empty or about nothing, a clear 400 or 404,
never a 403 and never a 500)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from store.models import DEFAULT_ROLES, Person, WorkItem
from tests.support.workspace import TEAM, Client, seed_team

# (method, path, what it needs: a permission, or a test of the permissions held, or None for
# anyone signed in, form). {item} is work the Electoral Services Officer owns; {person} is the
# manager. Sign-out comes last: it ends the session.
ROUTES = [
    ("GET", "/work", "view", None),
    ("GET", "/work/{item}", "view", None),
    ("POST", "/work/{item}/comment", "view", {"comment": "Checked the keys"}),
    ("POST", "/work/{item}/reassign", "assign", {"owner": TEAM["electoral-services-officer"]}),
    (
        "POST",
        "/work/{item}/complete",
        lambda p, role: "complete_others" in p or ("complete" in p and role == "electoral-services-officer"),
        {"note": "done"},
    ),
    ("GET", "/polls", "view", None),
    ("GET", "/polls/{poll}", "view", None),
    ("GET", "/polls/{poll}/staffing", "view", None),
    ("GET", "/polls/new", "plan", None),
    ("POST", "/polls/new", "plan", {"election_ids": ""}),
    ("GET", "/signoff", "proof", None),
    ("GET", "/signoff/999999", "proof", None),
    ("POST", "/signoff/999999", lambda p, role: "proof" in p, {"step": "proof"}),
    ("POST", "/signoff/999999", lambda p, role: "proof" in p and "approve" in p, {"step": "approve"}),
    ("GET", "/documents/999999.pdf", "view", None),
    ("GET", "/audit", "view_audit", None),
    ("GET", "/audit.csv", "view_audit", None),
    ("GET", "/admin/people", "administer", None),
    ("POST", "/admin/people", "administer", {"email": ""}),
    ("GET", "/admin/people/{person}", "administer", None),
    ("POST", "/admin/people/999999", "administer", {}),
    ("POST", "/admin/people/999999/invite", "administer", {}),
    ("GET", "/admin/roles", "administer", None),
    ("POST", "/admin/roles", "administer", {"key": ""}),
    ("GET", "/admin/council", "administer", None),
    ("POST", "/admin/council", "administer", {"name": ""}),
    ("GET", "/admin/tokens", "administer", None),
    ("POST", "/admin/tokens/999999/revoke", "administer", {}),
    ("GET", "/account", None, None),
    ("POST", "/account/hearing", None, {"hear_by": ""}),
    ("POST", "/account/hearing", None, {"hear_by": "digest"}),
    ("POST", "/account/tokens", None, {"name": ""}),
    ("POST", "/account/tokens/999999/revoke", None, {}),
    ("POST", "/account/sign-out-everywhere", None, {}),
]


@pytest.fixture
def workspace(sqlite_store, web_server):
    seed_team(sqlite_store)
    with sqlite_store.session() as s:
        item = s.exec(select(WorkItem).where(WorkItem.key == "book_polling_stations")).one()
        manager = s.exec(select(Person).where(Person.email == TEAM["electoral-services-manager"])).one()
        ids = {"item": item.id, "poll": item.poll_id, "person": manager.id}
    return web_server, ids


def _allowed(need, permissions: set[str], role: str) -> bool:
    if need is None:
        return True
    if callable(need):
        return need(permissions, role)
    return need in permissions


@pytest.mark.parametrize("role", list(DEFAULT_ROLES))
def test_every_route_for_every_role(workspace, role):
    base, ids = workspace
    client = Client(base)
    assert client.sign_in(TEAM[role]).status_code == 303
    permissions = set(DEFAULT_ROLES[role][1])
    for method, path, need, form in ROUTES:
        url = path.format(**ids)
        answer = client.get(url) if method == "GET" else client.post(url, form)
        where = f"{role}: {method} {url}"
        assert answer.status_code < 500, f"{where}: {answer.status_code}"
        if _allowed(need, permissions, role):
            assert answer.status_code != 403, where
            assert not answer.headers.get("location", "").startswith("/sign-in?next="), where
        else:
            assert answer.status_code == 403, f"{where}: {answer.status_code}"
            assert "You cannot see this page" in answer.text, where


def test_signed_out_every_route_sends_you_to_sign_in(workspace):
    base, ids = workspace
    client = Client(base)
    client.csrf = "anything"
    for method, path, _, form in ROUTES:
        url = path.format(**ids)
        answer = client.get(url) if method == "GET" else client.post(url, form)
        assert answer.status_code == 303, f"{method} {url}: {answer.status_code}"
        assert answer.headers["location"].startswith("/sign-in"), f"{method} {url}"
    assert client.get("/work/5").headers["location"] == "/sign-in?next=/work/5"
