"""Training sessions for staff: ``pollflow training add|list|book|attended`` (capacity, booking,
attendance).
"""

from __future__ import annotations

from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import actor, console, find_poll, parse_moment, store_session

training_app = typer.Typer(help="Training sessions: capacity, booking, attendance.", no_args_is_help=True)
app.add_typer(training_app, name="training")

ByOption = Annotated[str | None, typer.Option("--by", help="who is doing this (for the audit trail)")]


@training_app.command("add")
def training_add(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    code: Annotated[str, typer.Argument(help="a short code for the session, e.g. T1")],
    starts: Annotated[str, typer.Option(help="YYYY-MM-DDTHH:MM (UK time)")],
    ends: Annotated[str, typer.Option(help="YYYY-MM-DDTHH:MM, or HH:MM the same day")],
    venue: Annotated[str, typer.Option(help="where")],
    capacity: Annotated[int, typer.Option(help="places")],
    title: Annotated[str | None, typer.Option(help="what it is called")] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="only for this role (repeat; default all)")
    ] = None,
    by: ByOption = None,
) -> None:
    """Add (or change) a training session; it must be before polling day."""
    from store.staff import training as staff_training

    start = parse_moment(starts)
    end = parse_moment(f"{starts[:10]}T{ends}" if len(ends) <= 5 else ends)
    with store_session() as session:
        poll = find_poll(session, election_id)
        training, warnings = staff_training.add_session(
            session,
            poll,
            code,
            title=title or "Polling station staff training",
            venue=venue,
            starts_at=start,
            ends_at=end,
            capacity=capacity,
            roles=role or [],
            actor=actor(by, permission="manage_staff"),
        )
    out = console()
    out.print(f"Training session {code}: {start:%a %d %b %Y %H:%M}-{end:%H:%M}, {venue}, {capacity} places.")
    for warning in warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")


@training_app.command("list")
def training_list(election_id: Annotated[str, typer.Argument(help="the election (or poll) id")]) -> None:
    """Sessions, places booked and attendance."""
    from rich.table import Table
    from sqlalchemy import func, select

    from store import staff
    from store.models.staff import TrainingBooking
    from store.staff import training as staff_training
    from timetables.clock import local

    table = Table(title="Training sessions")
    for column in ("Code", "When", "Venue", "For", "Capacity", "Booked", "Attended"):
        table.add_column(column)
    with store_session() as session:
        poll = find_poll(session, election_id)
        for s in staff_training.sessions_of(session, poll):
            counts = dict(
                session.execute(
                    select(TrainingBooking.status, func.count())
                    .where(TrainingBooking.session_id == s.id)
                    .group_by(TrainingBooking.status)
                ).all()
            )
            table.add_row(
                s.code,
                f"{local(s.starts_at):%a %d %b %H:%M}-{local(s.ends_at):%H:%M}",
                s.venue,
                ", ".join(map(staff.label, s.roles)) or "all",
                str(s.capacity),
                str(counts.get("booked", 0) + counts.get("attended", 0)),
                str(counts.get("attended", 0)),
            )
    console().print(table)


@training_app.command("book")
def training_book(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    email: Annotated[str, typer.Argument(help="who")],
    code: Annotated[str, typer.Argument(help="the session")],
    by: ByOption = None,
) -> None:
    """Book a person on a session (moving any other booking for this poll)."""
    from store import staff
    from store.staff import training as staff_training

    with store_session() as session:
        poll = find_poll(session, election_id)
        member = staff.find_staff(session, email)
        _, changed = staff_training.book(session, poll, member, code, actor(by, permission="manage_staff"))
    console().print(f"{email} {'booked on' if changed else 'was already booked on'} {code}.")


@training_app.command("attended")
def training_attended(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    code: Annotated[str, typer.Argument(help="the session")],
    emails: Annotated[list[str], typer.Argument(help="who came (or, with --absent, who did not)")],
    absent: Annotated[bool, typer.Option("--absent", help="record them as absent")] = False,
    by: ByOption = None,
) -> None:
    """Record attendance at a session (the register)."""
    from store.staff import training as staff_training

    with store_session() as session:
        poll = find_poll(session, election_id)
        changed = staff_training.mark_attendance(
            session, poll, code, emails, not absent, actor(by, permission="manage_staff")
        )
    console().print(f"{code}: {len(changed)} marked {'absent' if absent else 'attended'}.")
