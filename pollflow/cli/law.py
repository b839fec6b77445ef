"""Deadlines changed by emergency legislation for one poll (timetables/amendments.py):
`pollflow law amendments` lists them; `pollflow law amend` records one, then replans every live
poll it touches and tells the owners of what moved, as `pollflow replan` does."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import actor, console, parse_date, store_session
from timetables.errors import PollflowError

law_app = typer.Typer(help="Deadlines the law changed for one poll after its timetable was set.")
app.add_typer(law_app, name="law")


@law_app.command("amendments")
def amendments_list() -> None:
    """Every amendment in force: the bundled ones and the council's own."""
    from timetables import amendments

    out = console()
    found = amendments.load()
    if not found:
        out.print("No amendments.")
    for a in found:
        at = f" {a.time:%H:%M}" if a.time else ""
        where = "" if a.nations == amendments.NATIONS else f" ({', '.join(a.nations)})"
        out.print(
            f"{a.kind} poll of {a.poll.isoformat()}{where}: {a.event} on {a.date.isoformat()}{at}, "
            f"by {a.citation}" + (f" (added by {a.added_by})" if a.added_by else "")
        )


@law_app.command("amend")
def amend(
    kind: Annotated[str, typer.Argument(help="the kind of poll, e.g. ref, local, parl")],
    poll: Annotated[str, typer.Argument(help="its polling day, YYYY-MM-DD")],
    event: Annotated[str, typer.Argument(help="the event the law changed, e.g. registration")],
    date: Annotated[str, typer.Argument(help="its new date, YYYY-MM-DD")],
    citation: Annotated[str, typer.Option(help="the instrument that made the change")],
    time: Annotated[str | None, typer.Option(help="its new time, HH:MM (else the rule's)")] = None,
    nation: Annotated[list[str] | None, typer.Option(help="where it applies (default: every nation)")] = None,
    reason: Annotated[str | None, typer.Option(help="why the law was changed")] = None,
    by: Annotated[str | None, typer.Option(help="who is recording it (for the audit trail)")] = None,
) -> None:
    """Record a deadline changed by emergency legislation; replan the live polls it touches."""
    from pydantic import ValidationError

    from pollflow.holiday_data import write_atomically
    from timetables import amendments, calendars

    who = actor(by, "amend", permission="plan")
    at = None
    if time is not None:
        try:
            at = dt.time.fromisoformat(time)
        except ValueError as exc:
            raise PollflowError(f"--time '{time}' is not a time: write HH:MM") from exc
    try:
        entry = amendments.Amendment(
            kind=kind,
            poll=parse_date(poll, "POLL"),
            event=event,
            date=parse_date(date, "DATE"),
            time=at,
            nations=tuple(nation) if nation else amendments.NATIONS,
            citation=citation.strip(),
            reason=reason,
            added_by=who,
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"])
        raise PollflowError(f"{field}: {problem['msg']}") from exc
    write_atomically(amendments.user_file(), amendments.written_with(entry))
    calendars.reload()
    out = console()
    out.print(
        f"Recorded: the {kind} poll of {entry.poll.isoformat()} has its {event} on "
        f"{entry.date.isoformat()}, by {entry.citation} ({amendments.user_file()})."
    )
    live = _live_polls(kind, entry.poll, entry.nations)
    if not live:
        out.print("No live poll is planned for that day: polls planned from now on take it.")
    for key in live:
        _replan(out, key, who)


def _live_polls(kind: str, poll: dt.date, nations: tuple[str, ...]) -> list[str]:
    from sqlalchemy import select

    from store.models import Election, Poll

    with store_session() as session:
        rows = session.scalars(
            select(Poll.key)
            .join(Election, Election.poll_id == Poll.id)
            .where(
                Election.kind == kind,
                Election.nation.in_(nations),
                Poll.poll_date == poll,
                Poll.status == "planned",
            )
            .distinct()
        ).all()
    return sorted(rows)


def _replan(out, key: str, who: str) -> None:
    """What `pollflow replan` does: recompute, keep dates set by hand, tell the owners what moved."""
    from pollflow.cli.work import print_replanned
    from pollflow.runtime import run_flow
    from tasks.planning import replan_poll

    checked = replan_poll(key, None, {}, [])
    print_replanned(out, run_flow("replan:replan", out, election_id=key, actor=who, plan=checked))
