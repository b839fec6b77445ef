"""pollflow's web application, served by ``pollflow web`` (uvicorn): the signed-in workspace
(sign-in, my work, polls, sign-off, audit, admin), the iCalendar feeds Outlook subscribes to, and
the pages temporary staff reach through their signed links.

The workspace's styles and scripts are GOV.UK Frontend, built by ``make assets`` into
pollflow/web/static (from pollflow/web/frontend)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from tasks.messaging.tokens import TokenError, sign, verify

CALENDAR = "calendar"
STATIC = Path(__file__).resolve().parent / "static"


def calendar_url(email: str, address: str) -> str:
    """The subscription address of a person's work calendar (no expiry: Outlook keeps polling)."""
    return f"{address}/calendar/{sign(CALENDAR, {'email': email.lower()})}.ics"


def create_app() -> FastAPI:
    from pollflow.web import security, session

    app = FastAPI(title="pollflow", docs_url=None, redoc_url=None, openapi_url=None)
    session.install(app)
    security.install(app)  # outermost: its headers and error pages cover everything
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)  # no crown: GOV.UK's icon is GOV.UK's alone

    @app.get("/health", response_class=PlainTextResponse)
    def health() -> str:
        return "ok"

    @app.get("/calendar/{token}.ics")
    def calendar(token: str) -> Response:
        from pollflow.output.calendar_feed import person_calendar
        from store import queries
        from store.db import session_scope
        from store.identity.council import public_address
        from store.people import find_person
        from timetables.clock import now

        try:
            email = verify(CALENDAR, token)["email"]
        except (TokenError, KeyError, ValueError, TypeError, UnicodeError) as exc:
            raise HTTPException(status_code=404, detail="no such calendar") from exc
        with session_scope() as session:
            person = find_person(session, email)
            rows = queries.tasks(session, person=person.email, as_of=now())
            body = person_calendar(person.name, person.email, rows, public_address(session)).to_ical()
        return Response(
            body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    # Other parts of pollflow add their pages from their own modules, each with a register(app);
    # the list is explicit (tests/test_registries.py checks every module of this package is on it).
    for module in page_modules():
        module.register(app)
    return app


def page_modules() -> tuple:
    from pollflow.web import account, admin, audit, canvass, polls, signin, signoff, staff, work

    return (account, admin, audit, canvass, polls, signin, signoff, staff, work)


def serve(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
