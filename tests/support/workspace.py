"""The workspace as its users meet it: a team with one person for every default role (each with a
password), a planned poll, and a signed-in HTTP client that sends each form's CSRF token."""

from __future__ import annotations

import re

import requests

from store.models import DEFAULT_ROLES
from tasks import planning
from tests.support.identity import PASSWORD, seed_account

POLL = "local.wychwood.2027-05-06"
TEAM = {role: f"{role}@wychwood.gov.uk" for role in DEFAULT_ROLES}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def seed_team(store) -> dict[str, str]:
    """One person per default role, and the poll planned (without Prefect: the plain functions)."""
    with store.session() as s:
        for role, email in TEAM.items():
            seed_account(s, email, role.replace("-", " ").title(), [role])
    planning.save_plan(planning.plan_poll([POLL]), "tests", None)
    return TEAM


class Client:
    """A browser-like HTTP client: cookies kept, redirects not followed, forms carry the token."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.csrf = ""

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("headers", {"Accept": "text/html"})
        return self.http.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def post(self, path: str, data: dict | None = None, csrf: bool = True, **kwargs) -> requests.Response:
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf", self.csrf)
        kwargs.setdefault("headers", {"Accept": "text/html"})
        return self.http.post(self.base + path, data=body, allow_redirects=False, timeout=60, **kwargs)

    def form_token(self, path: str) -> str:
        found = CSRF.search(self.get(path).text)
        return found.group(1) if found else ""

    def sign_in(self, email: str, password: str = PASSWORD, next_path: str = "/work") -> requests.Response:
        token = self.form_token("/sign-in")
        answer = self.post(
            "/sign-in", {"csrf": token, "email": email, "password": password, "next": next_path}
        )
        if answer.status_code == 303:
            self.csrf = self.form_token("/account")
        return answer
