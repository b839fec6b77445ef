"""What every ``pollflow`` command shares: the console, the one way to open the store, to name
who is acting, and to read a date, a moment, a duration or ``--set`` pairs from the command line.

Each parser raises the one-line PollflowError naming what was wrong and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from timetables import settings
from timetables.errors import PollflowError


def console() -> Console:
    # A wide console when output is piped, so tables stay readable in logs and CI.
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def store_session():
    """The store, as one transaction: committed on success, rolled back on any error."""
    from store.db import session_scope

    return session_scope()


TOKEN_HELP = (
    "set POLLFLOW_TOKEN to your personal access token (make one in the workspace under "
    "Your account > Access tokens, or `pollflow tokens create EMAIL`)"
)


def actor(
    by: str | None = None, default: str = "cli", *, named: str | None = None, permission: str | None = None
) -> str:
    """Who this command acts as, proven, and what the audit trail's actor column shows.

    With ``POLLFLOW_TOKEN`` it is the token's person (``--by``, if given, must be them). Without
    one it is the machine's user, recorded as ``local-shell:<user>``: ``--by`` is refused, since a
    name typed is not proof, and so is any act that must be a named person's (``named`` says
    which). A token's person must hold ``permission`` through one of their roles. The Actor is
    set for the rest of the command; store.audit records it on every entry.
    """
    from store.identity.acting import Actor, prove

    given = (by or "").strip().lower()
    secret = settings.token()
    if secret:
        from store.identity.roles import require
        from store.identity.tokens import person_for_token

        with store_session() as session:
            person, _ = person_for_token(session, secret)
            if permission:
                require(session, person, permission)
        if given and given != person.email:
            raise PollflowError(
                f"--by {given} is not who POLLFLOW_TOKEN belongs to ({person.email}): "
                "leave --by out, or use that person's own token"
            )
        prove(Actor.of(person, "token", "cli"))
        return person.email
    if given:
        raise PollflowError(f"--by is not believed without a token: {TOKEN_HELP}")
    if named:
        raise PollflowError(f"{named} must be recorded as a named person: {TOKEN_HELP}")
    shell = Actor.shell()
    prove(shell)
    return shell.label if default == "cli" else f"{shell.label} ({default})"


def parse_date(text: str | None, option: str) -> dt.date | None:
    """``YYYY-MM-DD``, or None when the option was not given."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise PollflowError(f"{option} '{text}' is not a date: write YYYY-MM-DD") from exc


def parse_moment(text: str | None) -> dt.datetime:
    """A date or datetime; without an offset it is UK time. None is now."""
    from timetables.clock import LONDON, now

    if text is None:
        return now()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise PollflowError(f"'{text}' is not a date or time: write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)


DURATION = re.compile(r"^(\d+)([hdw])$")


def parse_duration(text: str) -> dt.timedelta:
    match = DURATION.match(text.strip().lower())
    if not match:
        raise PollflowError(f"'{text}' is not a duration: write for example 12h, 7d or 2w")
    n, unit = int(match[1]), match[2]
    return {"h": dt.timedelta(hours=n), "d": dt.timedelta(days=n), "w": dt.timedelta(weeks=n)}[unit]


def parse_sets(values: list[str] | None) -> dict[str, str]:
    """``--set KEY=DATE[THH:MM]`` options as a mapping."""
    out: dict[str, str] = {}
    for value in values or []:
        key, sep, date = value.partition("=")
        if not sep or not key.strip() or not date.strip():
            raise PollflowError(
                f"--set {value!r} is not KEY=DATE: write for example "
                "--set close_of_nominations=2025-04-03T16:00"
            )
        out[key.strip()] = date.strip()
    return out


def refused(exc, report: Path | None) -> None:
    """An import refused whole: write every bad row where asked, then let the one line through."""
    from store.exports import write_text
    from store.tables import ImportRefused, problems_csv

    if report is not None and isinstance(exc, ImportRefused):
        write_text(report, problems_csv(exc.problems))
        print(f"pollflow: every bad row is listed in {report}", file=sys.stderr)


def skipped(out, problems, report: Path | None) -> None:
    """The bad rows an import skipped (``--skip-bad-rows``): the first twenty, all in the report."""
    from store.exports import write_text
    from store.tables import problems_csv

    if not problems:
        return
    lines = sorted({p.line for p in problems})
    out.print(f"[yellow]Skipped {len(lines)} bad row(s):[/yellow]")
    for problem in problems[:20]:
        out.print(f"  {problem}")
    if len(problems) > 20:
        out.print(f"  ... and {len(problems) - 20} more")
    if report is not None:
        write_text(report, problems_csv(problems))
        out.print(f"Every skipped row is listed in {report}.")


NationOption = Annotated[
    list[str] | None,
    typer.Option(
        "--nation",
        help="england, wales, scotland or northern-ireland; once for all ids, or once per id",
    ),
]
KindOption = Annotated[
    list[str] | None,
    typer.Option(
        "--kind",
        help="what an id cannot say (parish, community, la-mayor, ca-mayor...); "
        "once for all ids, or once per id",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="fix a date someone chooses: KEY=YYYY-MM-DD[THH:MM]"),
]
SkipOption = Annotated[
    bool, typer.Option("--skip-bad-rows", help="import the good rows and report the bad ones skipped")
]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="write every bad or skipped row (line, reason) to this CSV")
]


def find_poll(session, election_id: str):
    """The planned poll an election (or poll) id names, or the one-line error saying none is."""
    from store.queries import find_poll as found

    return found(session, election_id)
