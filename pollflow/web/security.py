"""What every response of ``pollflow web`` carries, and what no request may do.

- Headers: a Content-Security-Policy with no inline script (scripts and styles come from
  /static), framing only by the workspace itself (the sign-off page shows the PDF in a frame),
  nosniff, a same-origin referrer, and HSTS when served over TLS.
- A request body over 2 MB is refused (413) before it is read whole.
- Errors are pages, never tracebacks or SQL: bad input is a 400 naming what was wrong; a bug is
  a 500 page that says so and logs the detail for the team's technical staff.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException

from timetables.errors import PollflowError

MAX_BODY = 2 * 1024 * 1024
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
    410: ("This link has expired", "Ask for a new one."),
    413: ("The file or form is too large", "The most a form can send is 2 MB."),
    429: ("Too many attempts", "Wait 15 minutes and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. What went wrong has been logged."),
}


class BodyLimit:
    """Refuses a request whose body is larger than MAX_BODY, declared or streamed."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return await PlainTextResponse("Request too large: the most is 2 MB", 413)(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise HTTPException(413)
            return message

        return await self.app(scope, counted, send)


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
