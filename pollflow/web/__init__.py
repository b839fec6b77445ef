"""pollflow's small web service: iCalendar feeds Outlook can subscribe to, and pages that people
reach through signed links. Served by ``pollflow web`` (uvicorn)."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse, Response

from tasks.messaging.tokens import TokenError, sign, verify
from timetables.settings import public_url

CALENDAR = "calendar"


def calendar_url(email: str) -> str:
    """The subscription address of a person's work calendar (no expiry: Outlook keeps polling)."""
    return f"{public_url()}/calendar/{sign(CALENDAR, {'email': email.lower()})}.ics"


def create_app() -> FastAPI:
    app = FastAPI(title="pollflow", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health", response_class=PlainTextResponse)
    def health() -> str:
        return "ok"

    @app.get("/calendar/{token}.ics")
    def calendar(token: str) -> Response:
        from pollflow.output.calendar_feed import person_calendar
        from store import queries
        from store.db import session_scope
        from store.people import find_person
        from timetables.clock import now

        try:
            email = verify(CALENDAR, token)["email"]
        except (TokenError, KeyError, ValueError) as exc:
            raise HTTPException(status_code=404, detail="no such calendar") from exc
        with session_scope() as session:
            person = find_person(session, email)
            rows = queries.tasks(session, person=person.email, as_of=now())
            body = person_calendar(person.name, person.email, rows).to_ical()
        return Response(
            body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    # Other parts of pollflow add their pages from their own modules, each with a register(app);
    # the list is explicit (tests/test_registries.py checks every module of this package is on it).
    for module in page_modules():
        module.register(app)
    return app


def page_modules() -> tuple:
    from pollflow.web import canvass, staff

    return (canvass, staff)


def serve(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
