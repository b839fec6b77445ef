"""The workspace's pages: one Jinja2 environment over templates/web/workspace, and ``page`` to
answer with one. Every page is rendered strictly (a missing value is an error, never "None"),
escaped, and marked not to be cached: it may hold personal data."""

from __future__ import annotations

import datetime as dt
from functools import cache

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from templates import WEB_DIR
from timetables.clock import local

NAVIGATION = (  # (path, label, the permission that shows it)
    ("/work", "My work", "view"),
    ("/polls", "Polls", "view"),
    ("/signoff", "Sign-off", "proof"),
    ("/audit", "Audit", "view_audit"),
    ("/admin/people", "Admin", "administer"),
    ("/account", "Your account", None),
)


def sentence(text: str) -> str:
    """An error from the store as a sentence on a page: its first letter a capital, the rest as is."""
    return text[:1].upper() + text[1:]


def when(moment: dt.datetime | None) -> str:
    """'Thu 8 Apr 2027, 16:00' in UK time (as officers read it)."""
    if moment is None:
        return ""
    moment = local(moment)
    return f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M}"


def day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local(value).date()
    return f"{value:%A} {value.day} {value:%B %Y}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(WEB_DIR / "workspace"), undefined=StrictUndefined, autoescape=True
    )
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["sentence"] = sentence
    return env


def page(request: Request, template: str, *, status: int = 200, viewer=None, **context) -> HTMLResponse:
    from pollflow.web.session import council_name

    viewer = viewer if viewer is not None else getattr(request.state, "viewer", None)
    nav = []
    if viewer is not None:
        nav = [
            (path, label, request.url.path.startswith(path))
            for path, label, need in NAVIGATION
            if need is None or viewer.can(need)
        ]
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            viewer=viewer,
            navigation=nav,
            council=council_name(),
            csrf=viewer.csrf if viewer is not None else context.pop("csrf", ""),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
