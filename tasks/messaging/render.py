"""Message text, rendered from ``templates/messages/`` (the first line is the subject)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from templates import MESSAGES_DIR
from timetables.clock import local


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(MESSAGES_DIR),
        undefined=StrictUndefined,  # a missing value is an error naming it, never a blank
        keep_trailing_newline=True,
        autoescape=False,  # plain text
    )


def render(name: str, **context) -> tuple[str, str]:
    """(subject, body) of ``templates/messages/<name>.txt.j2``."""
    text = environment().get_template(f"{name}.txt.j2").render(**context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"messages/{name}.txt.j2 must start with a 'Subject: ' line")
    return first.removeprefix("Subject: ").strip(), body.strip() + "\n"


def when(moment: dt.datetime) -> str:
    """'Thu 8 Apr 2027 at 16:00', in Europe/London."""
    moment = local(moment)
    return f"{moment:%a} {moment.day} {moment:%b %Y} at {moment:%H:%M}"
