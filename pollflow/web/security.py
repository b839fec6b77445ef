"""What every response of ``pollflow web`` carries, and what no request may do.

- Headers: a Content-Security-Policy with no inline script (scripts and styles come from
  /static), framing only by the workspace itself (the sign-off page shows the PDF in a frame),
  nosniff, a same-origin referrer, and HSTS when served over TLS.
- A request body over 1 MB is refused (413) before it is read whole, declared or streamed.
- Errors are pages, never tracebacks or SQL: bad input is a 400 naming what was wrong; a change the
  database refuses is a 409 saying why in words; a bug is a 500 page that says so and logs the
  detail for the team's technical staff.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from timetables.errors import PollflowError

MAX_BODY = 1024 * 1024  # forms only: no page takes a file upload
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# The pages for staff and canvass reports keep their own small inline style sheets.
CSP_INLINE_STYLE = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
log = logging.getLogger("pollflow.web")

MESSAGES = {
    400: ("There is a problem with the request", "Check what you entered and try again."),
    403: ("You cannot see this page", "None of your roles allows it. Ask your Electoral Services Manager."),
    404: (
        "Page not found",
        "If you typed the address, check it is correct. If you followed a link, it may be out of date.",
    ),
    405: ("There is a problem with the request", "This page cannot be used like that."),
    409: (
        "The change could not be saved",
        "Nothing was saved. Try again, or tell your Electoral Services Manager.",
    ),
    410: ("This link has expired", "Ask for a new one."),
    413: ("The file or form is too large", "The most a form can send is 1 MB."),
    429: ("Too many attempts", "Wait 15 minutes and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. What went wrong has been logged."),
}


class _TooLarge(Exception):
    """Raised from a request's receive once its body passes MAX_BODY."""


class BodyLimit:
    """Refuses a request whose body is larger than MAX_BODY, declared or streamed: a declared
    Content-Length over it is refused before a byte is read; a body sent without one (chunked) is
    counted as it arrives and refused as soon as it passes, so the server never holds more."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return await _refusal()(scope, receive, send)
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            if seen > MAX_BODY:  # a handler that asks again is refused again
                raise _TooLarge
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge
            return message

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BaseException as exc:
            # Starlette's http middlewares run the app in a task group: the refusal may come back
            # inside an ExceptionGroup.
            too_large = isinstance(exc, _TooLarge) or (
                isinstance(exc, BaseExceptionGroup) and exc.subgroup(_TooLarge) is not None
            )
            if not too_large:
                raise
            if not started:
                await _refusal()(scope, receive, send)


def _refusal() -> Response:
    title, advice = MESSAGES[413]
    # Connection: close, so the rest of a body never sent is not waited for.
    return PlainTextResponse(f"{title}: {advice}\n", 413, headers={"Connection": "close"})


def install(app: FastAPI) -> None:
    app.add_middleware(BodyLimit)

    @app.middleware("http")
    async def headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        inline = request.url.path.startswith(("/staff/", "/canvass/report"))
        response.headers.setdefault("Content-Security-Policy", CSP_INLINE_STYLE if inline else CSP)
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error_page(
            request,
            exc.status_code,
            exc.detail if isinstance(exc.detail, str) else None,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{' '.join(str(p) for p in e.get('loc', [])[1:]) or 'the request'}: {e.get('msg', 'not valid')}"
            for e in exc.errors()[:5]
        )
        return error_page(request, 400, problems or None)

    @app.exception_handler(PollflowError)
    async def refused(request: Request, exc: PollflowError) -> Response:
        return error_page(request, 400, str(exc))

    @app.exception_handler(SQLAlchemyError)
    async def database(request: Request, exc: SQLAlchemyError) -> Response:
        # The words, never the statement or its values (names, emails, bank data); the detail,
        # without values, goes to the log at DEBUG (store.db.database_refusal).
        from store.db import database_refusal

        said = database_refusal(exc)
        log.warning("%s %s: %s", request.method, request.url.path, said)
        return error_page(request, 409, said[0].upper() + said[1:] + ".")

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return error_page(request, 500, None)


def error_page(request: Request, status: int, detail: str | None, headers: dict | None = None) -> Response:
    from pollflow.web.render import page

    title, advice = MESSAGES.get(status, MESSAGES[400])
    if detail in (None, "Not Found", "Method Not Allowed", "Forbidden") or status >= 500:
        detail = None
    wants_html = "text/html" in request.headers.get("accept", "") or request.method == "POST"
    if not wants_html:
        return PlainTextResponse(f"{title}: {detail or advice}", status, headers=headers)
    try:
        response = page(request, "error.html.j2", status=status, title=title, advice=advice, detail=detail)
    except Exception:  # the error page itself failed (a broken store): plain words, still no traceback
        log.exception("the error page failed")
        response = HTMLResponse(f"<h1>{title}</h1><p>{advice}</p>", status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
