"""Who is looking: the signed-in person behind a request, and what they may do.

The session cookie (HttpOnly, SameSite=Lax, Secure over TLS) holds the session's random id and
the time the person was last seen, signed with the store's secret key. The idle timeout is read
from the cookie and the cookie re-signed on each answer, so that reading a page never writes to
the store; the absolute timeout and "sign out everywhere" are checked against the store's row.

Every form carries the session's own token (CSRF), checked on every POST; the sign-in form,
before there is a session, carries a token matched against a cookie of its own.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Path, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from store.identity.acting import Actor
from store.identity.sessions import ABSOLUTE, IDLE

COOKIE = "pollflow_session"
# A row's id in a path: a whole number the database can hold (a longer one is a 400, not a 500).
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
FORM_COOKIE = "pollflow_form"


@dataclass
class Viewer:
    person_id: int
    email: str
    name: str
    method: str  # password | sso
    csrf: str
    secret: str = field(repr=False)
    roles: set[str] = field(default_factory=set)
    permissions: set[str] = field(default_factory=set)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def actor(self) -> Actor:
        return Actor(self.email, self.method, "web", self.person_id, self.email)


class SignInNeeded(Exception):
    def __init__(self, path: str):
        self.path = path


def _serializer() -> URLSafeTimedSerializer:
    from store.secrets import secret_key

    return URLSafeTimedSerializer(secret_key(), salt="pollflow-web-session")


def cookie_value(secret: str) -> str:
    return _serializer().dumps({"s": secret, "seen": int(time.time())})


def set_session_cookie(request: Request, response, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        cookie_value(secret),
        max_age=int(ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def read_viewer(request: Request) -> Viewer | None:
    """The signed-in person, or None (no cookie, tampered, idle too long, ended, inactive)."""
    from store.db import session_scope
    from store.identity import sessions
    from store.identity.roles import permissions_of
    from store.people import roles_of

    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=int(ABSOLUTE.total_seconds()))
        secret, seen = str(data["s"]), int(data["seen"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if time.time() - seen > IDLE.total_seconds():
        return None
    with session_scope() as session:
        found = sessions.find(session, secret)
        if found is None:
            return None
        row, person = found
        return Viewer(
            person_id=person.id,
            email=person.email,
            name=person.name,
            method=row.method,
            csrf=row.csrf,
            secret=secret,
            roles=roles_of(session, person),
            permissions=permissions_of(session, person),
        )


def install(app) -> None:
    @app.middleware("http")
    async def who(request: Request, call_next):
        request.state.viewer = None
        if not request.url.path.startswith(("/static/", "/health")):
            # In a worker thread: the store is not to hold up the event loop.
            request.state.viewer = await run_in_threadpool(read_viewer, request)
        response = await call_next(request)
        viewer = request.state.viewer
        if viewer is not None and "set-cookie" not in response.headers:
            set_session_cookie(request, response, viewer.secret)  # the idle clock restarts
        return response

    @app.exception_handler(SignInNeeded)
    async def to_sign_in(request: Request, exc: SignInNeeded):
        return RedirectResponse(f"/sign-in?next={quote(exc.path, safe='/')}", 303)


def need(permission: str | None = "view"):
    """A route's dependency: the signed-in viewer, holding ``permission`` (None: anyone signed in)."""

    def dependency(request: Request) -> Viewer:
        viewer = request.state.viewer
        if viewer is None:
            raise SignInNeeded(request.url.path if request.method == "GET" else "/work")
        if permission is not None and not viewer.can(permission):
            raise HTTPException(403)
        return viewer

    return Depends(dependency)


async def form_of(request: Request, viewer: Viewer | None = None) -> dict[str, str]:
    """The POSTed form, once its CSRF token is checked; every value a string."""
    form = await request.form()
    sent = str(form.get("csrf") or "")
    expected = viewer.csrf if viewer is not None else request.cookies.get(FORM_COOKIE, "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(
            400, "The form had expired or came from elsewhere: go back, reload the page and try again"
        )
    values = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise HTTPException(400, f"{key}: files cannot be sent to this form")
        if key in values:
            values[key] = values[key] + "\n" + value  # checkboxes: one per line
        else:
            values[key] = value
    return values


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def safe_next(path: str | None) -> str:
    """Where to go after signing in: only a path of this site (never //elsewhere or a URL)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/work"
    return path


_council: dict[str, tuple[float, str]] = {}


def council_name() -> str:
    """The council's name for every page's header, read from the store at most every 30 seconds
    (an administrator's change shows within that)."""
    from store.db import database_url, session_scope
    from store.identity.council import council_name as name

    key = database_url()
    cached = _council.get(key)
    if cached is None or time.monotonic() - cached[0] > 30:
        with session_scope() as session:
            cached = _council[key] = (time.monotonic(), name(session))
    return cached[1]


def forget_council_name() -> None:
    _council.clear()
