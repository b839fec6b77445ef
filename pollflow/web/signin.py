"""Signing in and out: with a password, or with the council's single sign-on; an invitation or
a reset link to set a password; "forgotten your password".

GET  /sign-in                 the sign-in page          POST /sign-in      check a password
GET  /sign-in/sso             off to the provider       GET  /sign-in/sso/callback  and back
POST /sign-out                this session ends         POST /account/sign-out-everywhere
GET  /account/forgot          ask for a reset link      POST /account/forgot
GET  /account/invitation/{t}  set a first password      POST (the same)
GET  /account/reset/{t}       choose a new password     POST (the same)

Throttling: besides each account's lockout (store.identity.credentials), one address may fail 20
sign-ins in 15 minutes before it is refused for the rest of them (429).
"""

from __future__ import annotations

import collections
import threading
import time

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from pollflow.web.render import page, sentence
from pollflow.web.session import (
    COOKIE,
    FORM_COOKIE,
    form_of,
    need,
    new_form_token,
    safe_next,
    set_session_cookie,
)
from store.audit import record
from store.db import session_scope
from store.identity.acting import Actor, acting_as
from timetables import settings

WINDOW, MAX_PER_ADDRESS = 15 * 60, 20
_failures: dict[str, collections.deque] = collections.defaultdict(collections.deque)
_lock = threading.Lock()


def _throttled(address: str, failed: bool = False) -> bool:
    now = time.monotonic()
    with _lock:
        seen = _failures[address]
        while seen and seen[0] < now - WINDOW:
            seen.popleft()
        if failed:
            seen.append(now)
        return len(seen) >= MAX_PER_ADDRESS


def _form_page(request: Request, template: str, status: int = 200, **context) -> Response:
    token = request.cookies.get(FORM_COOKIE) or new_form_token()
    response = page(request, template, status=status, csrf=token, viewer=None, **context)
    response.set_cookie(
        FORM_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )
    return response


def _signed_in(request: Request, person, method: str, next_path: str) -> Response:
    from store.identity import sessions

    with session_scope() as session, acting_as(Actor.of(person, method, "web")):
        _, secret = sessions.start(session, person, method)
        record(session, person.email, "signed in", details={"method": method})
    response = RedirectResponse(safe_next(next_path), 303)
    set_session_cookie(request, response, secret)
    return response


router = APIRouter()


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/work" if request.state.viewer else "/sign-in", 303)


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/work") -> Response:
    if request.state.viewer is not None:
        return RedirectResponse(safe_next(next), 303)
    return _form_page(
        request, "sign_in.html.j2", next=safe_next(next), sso=settings.sso(), errors={}, email=""
    )


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await form_of(request)
    address = request.client.host if request.client else "unknown"
    if _throttled(address):
        raise HTTPException(429)
    email, password = form.get("email", "").strip()[:320], form.get("password", "")[:1000]
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    if not errors:
        from store.identity.credentials import sign_in_with_password

        def check():
            with session_scope() as session:
                return sign_in_with_password(session, email, password)

        result = await run_in_threadpool(check)
        if result.person is not None:
            return await run_in_threadpool(_signed_in, request, result.person, "password", form.get("next"))
        _throttled(address, failed=True)
        errors["email"] = result.error
    return _form_page(
        request,
        "sign_in.html.j2",
        status=400,
        next=safe_next(form.get("next")),
        sso=settings.sso(),
        errors=errors,
        email=email,
    )


@router.get("/sign-in/sso")
def sso_start(request: Request, next: str = "/work") -> Response:
    from pollflow.web.sso import COOKIE as SSO_COOKIE
    from pollflow.web.sso import LIFETIME, start

    url, memo = start(safe_next(next))
    response = RedirectResponse(url, 303)
    response.set_cookie(
        SSO_COOKIE,
        memo,
        max_age=LIFETIME,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/sign-in/sso/callback")
def sso_callback(
    request: Request, state: str | None = None, code: str | None = None, error: str | None = None
) -> Response:
    from pollflow.web.sso import COOKIE as SSO_COOKIE
    from pollflow.web.sso import SSOError, finish
    from store.identity.credentials import person_for_sso

    try:
        claims, next_path = finish(request.cookies.get(SSO_COOKIE), state, code, error)
    except SSOError as exc:
        return _form_page(
            request,
            "sign_in.html.j2",
            status=400,
            next="/work",
            sso=settings.sso(),
            errors={"sso": str(exc)},
            email="",
        )
    email = claims.get("email") if claims.get("email_verified", True) else None
    with session_scope() as session:
        person = person_for_sso(session, claims["iss"], claims["sub"], email)
    if person is None:
        return _form_page(
            request,
            "sign_in.html.j2",
            status=403,
            next="/work",
            sso=settings.sso(),
            email="",
            errors={
                "sso": "Your council account is not in the elections team here: ask your "
                "Electoral Services Manager to add you"
            },
        )
    response = _signed_in(request, person, "sso", next_path)
    response.delete_cookie(SSO_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    from store.identity import sessions

    viewer = request.state.viewer
    if viewer is not None:
        await form_of(request, viewer)
        with session_scope() as session, acting_as(viewer.actor()):
            sessions.end(session, viewer.secret)
            record(session, viewer.email, "signed out")
    request.state.viewer = None
    response = RedirectResponse("/sign-in?signed_out=1", 303)
    response.delete_cookie(COOKIE)
    return response


@router.post("/account/sign-out-everywhere")
async def sign_out_everywhere(request: Request, viewer=need(None)) -> Response:
    from store.identity.credentials import sign_out_everywhere as everywhere
    from store.models import Person

    await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        everywhere(session, session.get(Person, viewer.person_id))
        record(session, viewer.email, "signed out everywhere")
    request.state.viewer = None
    response = RedirectResponse("/sign-in?signed_out=1", 303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/account/forgot")
def forgot_page(request: Request) -> Response:
    return _form_page(request, "forgot.html.j2", sent=False, errors={})


@router.post("/account/forgot")
async def forgot(request: Request) -> Response:
    from sqlmodel import select

    from store.models import Person
    from tasks.messaging.accounts import queue_sign_in_link

    form = await form_of(request)
    email = form.get("email", "").strip().lower()[:320]
    if not email:
        return _form_page(
            request,
            "forgot.html.j2",
            status=400,
            sent=False,
            errors={"email": "Enter your email address"},
        )
    address = request.client.host if request.client else "unknown"
    if _throttled(address, failed=True):  # each request counts: the page cannot be used to spam
        raise HTTPException(429)
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.email == email, Person.active)).first()
        if person is not None:
            queue_sign_in_link(session, person, "reset", "password reset page")
    # The same answer whether or not the address is known: the page cannot say who works here.
    return _form_page(request, "forgot.html.j2", sent=True, errors={})


PURPOSES = ("invitation", "reset")


def _unusable(request: Request, exc: Exception) -> Response:
    """A link that is forged, used already or expired: 410, saying which and what to do."""
    return page(
        request,
        "error.html.j2",
        status=410,
        title="This link cannot be used",
        advice=str(exc),
        detail=None,
        viewer=None,
    )


def _purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise HTTPException(404)
    return purpose


@router.get("/account/{purpose}/{token}")
def link_page(request: Request, purpose: str, token: str) -> Response:
    from store.identity.credentials import SignInError, open_link

    purpose = _purpose(purpose)

    with session_scope() as session:
        try:
            _, person = open_link(session, token)
        except SignInError as exc:
            return _unusable(request, exc)
        name, email = person.name, person.email
    return _form_page(
        request, "set_password.html.j2", purpose=purpose, token=token, name=name, email=email, errors={}
    )


@router.post("/account/{purpose}/{token}")
async def link_set(request: Request, purpose: str, token: str) -> Response:
    from store.identity.credentials import SignInError, open_link, use_link

    purpose = _purpose(purpose)

    form = await form_of(request)
    password, again = form.get("password", ""), form.get("confirm", "")
    with session_scope() as session:
        try:
            link, person = open_link(session, token)
        except SignInError as exc:
            return _unusable(request, exc)
        errors = {}
        if password != again:
            errors["confirm"] = "The two passwords are not the same"
        else:
            try:
                with acting_as(Actor.of(person, "password", "web")):
                    use_link(session, token, password)
                    record(session, person.email, "password set", details={"by": link.purpose})
            except SignInError as exc:
                errors["password"] = sentence(str(exc))
        if errors:
            session.rollback()
            return _form_page(
                request,
                "set_password.html.j2",
                status=400,
                purpose=purpose,
                token=token,
                name=person.name,
                email=person.email,
                errors=errors,
            )
    return _signed_in(request, person, "password", "/work")


def register(app: FastAPI) -> None:
    app.include_router(router)
