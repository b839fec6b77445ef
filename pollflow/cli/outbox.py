"""The outbox, as the team's technical staff see it: what was queued or sent and why anything
failed (`pollflow outbox`), and sending failed messages again (`pollflow outbox retry`)."""

from __future__ import annotations

from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import actor, console, store_session

outbox_app = typer.Typer(help="Messages pollflow has queued or sent, and why any failed.")
app.add_typer(outbox_app, name="outbox")


@outbox_app.callback(invoke_without_command=True)
def outbox(
    context: typer.Context,
    status: Annotated[str | None, typer.Option(help="queued, sending, sent or failed")] = None,
    limit: Annotated[int, typer.Option(help="how many to list")] = 50,
) -> None:
    """Messages pollflow has queued or sent, and why any failed (`pollflow outbox retry` sends
    failed ones again)."""
    if context.invoked_subcommand is not None:
        return
    from rich.table import Table
    from sqlalchemy import select

    from store import outbox as box
    from store.models import Notification
    from timetables.clock import local

    with store_session() as session:
        counts = box.counts(session)
        query = select(Notification).order_by(Notification.id.desc()).limit(limit)
        if status:
            query = query.where(Notification.status == status)
        rows = session.scalars(query).all()
        table = Table(title="Outbox: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for column in ("Id", "Created", "Status", "Kind", "To", "Subject", "Error"):
            table.add_column(column)
        for n in rows:
            table.add_row(
                str(n.id),
                f"{local(n.created_at):%d %b %H:%M}",
                n.status,
                n.kind,
                n.recipient,
                n.subject,
                n.last_error or "",
            )
    console().print(table)


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[
        list[int] | None, typer.Argument(help="the failed messages (default: every one)")
    ] = None,
) -> None:
    """Queue failed messages again (after an outage, or once an address is corrected): the next
    delivery sends them, each once."""
    from store.outbox import retry_failed

    who = actor(None, "outbox retry")
    with store_session() as session:
        requeued = retry_failed(session, message_id or None, who)
    console().print(
        f"Queued again: {requeued} failed message{'s' if requeued != 1 else ''}; `pollflow check` "
        "(or the next scheduled run) delivers them."
    )
