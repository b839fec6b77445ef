"""The register of temporary election staff:
``pollflow staff import|list|withdraw|link|letters|purge|config``.

Purging checks its input before Prefect starts, so a mistake is one line at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import (
    ReportOption,
    SkipOption,
    actor,
    console,
    find_poll,
    parse_moment,
    refused,
    skipped,
    store_session,
)
from timetables.errors import PollflowError

staff_app = typer.Typer(help="The register of temporary election staff.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")

ByOption = Annotated[str | None, typer.Option("--by", help="who is doing this (for the audit trail)")]


@staff_app.command("import")
def staff_import(
    file: Annotated[Path, typer.Argument(help="CSV or .xlsx: name, email, roles, ... (see the README)")],
    skip_bad_rows: SkipOption = False,
    report: ReportOption = None,
    by: ByOption = None,
) -> None:
    """Add or update temporary staff; a file with a bad row is refused whole (or --skip-bad-rows).
    Bank details and NI numbers are encrypted and never shown."""
    from store.staff.register_import import read_staff, save_staff
    from store.tables import ImportRefused

    try:
        parsed = read_staff(file, skip_bad_rows)
    except ImportRefused as exc:
        refused(exc, report)
        raise
    with store_session() as session:
        result = save_staff(session, parsed, actor(by, permission="manage_staff") + f" (import {file.name})")
    out = console()
    out.print(
        f"{file.name}: {len(parsed.records)} people: {len(result.added)} added, "
        f"{len(result.updated)} updated, "
        f"{result.unchanged} unchanged"
        + (
            f"; bank or NI details stored (encrypted) for {result.sensitive_stored}"
            if result.sensitive_stored
            else ""
        )
        + "."
    )
    skipped(out, parsed.skipped, report)


@staff_app.command("list")
def staff_list(
    role: Annotated[str | None, typer.Option(help="only people who can do this role")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """The staff register: roles, experience, preferences (never bank or NI details)."""
    from sqlalchemy import select

    from store.models.staff import STAFF_ROLES, StaffMember

    if role is not None and role not in STAFF_ROLES:
        raise PollflowError(f"unknown role '{role}': roles are {', '.join(STAFF_ROLES)}")
    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    with store_session() as session:
        people = [
            m
            for m in session.scalars(select(StaffMember).order_by(StaffMember.name))
            if not role or role in m.roles
        ]
        rows = [
            {
                "name": m.name,
                "email": m.email,
                "phone": m.phone,
                "roles": m.roles,
                "experience": m.experience,
                "performance": m.performance,
                "postcode": m.postcode,
                "preferred_area": m.preferred_area,
                "preferred_stations": m.preferred_stations,
                "preferred_colleagues": m.preferred_colleagues,
                "payroll_ref": m.payroll_ref,
                "active": m.active,
                "bank_or_ni_details_held": m.sensitive is not None,
            }
            for m in people
        ]
    if format == "json":
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"Staff register ({len(rows)})")
    for column in ("Name", "Email", "Roles", "Experience", "Postcode", "Prefers", "Bank/NI held"):
        table.add_column(column)
    for r in rows:
        prefers = "; ".join(
            x
            for x in (
                r["preferred_area"] or "",
                ", ".join(r["preferred_stations"]),
                ", ".join(r["preferred_colleagues"]),
            )
            if x
        )
        table.add_row(
            r["name"] + ("" if r["active"] else " [dim](inactive)[/dim]"),
            r["email"],
            ", ".join(r["roles"]),
            ", ".join(f"{k}:{v}" for k, v in r["experience"].items()),
            r["postcode"] or "",
            prefers,
            "yes" if r["bank_or_ni_details_held"] else "",
        )
    console().print(table)


@staff_app.command("withdraw")
def staff_withdraw(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    email: Annotated[str, typer.Argument(help="the person who can no longer work")],
    reason: Annotated[str | None, typer.Option(help="why (for the audit trail)")] = None,
    by: ByOption = None,
) -> None:
    """Record that a person can no longer work at a poll: their posts go to the reserve list
    (`pollflow recruit` offers them to others)."""
    from store.staff import recruitment as staff_recruitment

    with store_session() as session:
        poll = find_poll(session, election_id)
        released = staff_recruitment.withdraw(
            session, poll, email, actor(by, permission="manage_staff"), reason
        )
    out = console()
    out.print(f"{email} withdrawn from {poll.key}: {len(released)} post(s) vacant.")
    for post in released:
        out.print(f"  {post.label}")
    if released:
        out.print(f"Run `pollflow recruit {election_id}` to offer them to the reserve list.")


@staff_app.command("link")
def staff_link(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    email: Annotated[str, typer.Argument(help="the person")],
) -> None:
    """A person's personal answer link (to take an answer by phone with `pollflow respond`)."""
    from tasks.staffing import link_for

    with store_session() as session:
        poll = find_poll(session, election_id)
        kind, url = link_for(session, poll, email)
    console().print(f"{kind}: {url}", soft_wrap=True)


@staff_app.command("letters")
def staff_letters(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    output: Annotated[Path, typer.Option(help="the folder to write PDFs into")] = Path("letters"),
    kind: Annotated[str, typer.Option(help="appointment or training")] = "appointment",
    email: Annotated[str | None, typer.Option(help="only this person's letter")] = None,
) -> None:
    """Appointment letters (one PDF per appointed person) or training invitations."""
    from sqlalchemy import select

    from store import staff
    from store.models.staff import StaffMember, StaffPost
    from tasks.staffing import appointment_letter, training_invitation

    if kind not in ("appointment", "training"):
        raise PollflowError(f"unknown kind '{kind}': kinds are appointment, training")
    statuses = ("accepted",) if kind == "appointment" else ("offered", "accepted")
    make = appointment_letter if kind == "appointment" else training_invitation
    out = console()
    with store_session() as session:
        poll = find_poll(session, election_id)
        staff.require_plan(session, poll)
        ids = set(
            session.scalars(
                select(StaffPost.staff_id).where(StaffPost.poll_id == poll.id, StaffPost.status.in_(statuses))
            )
        )
        members = session.scalars(
            select(StaffMember).where(StaffMember.id.in_(ids)).order_by(StaffMember.name)
        ).all()
        if email:
            members = [m for m in members if m.email == email.lower()]
            if not members:
                raise PollflowError(f"{email} holds no {' or '.join(statuses)} post at {poll.key}")
        if not members:
            raise PollflowError(f"nobody holds a {' or '.join(statuses)} post at {poll.key} yet")
        output.mkdir(parents=True, exist_ok=True)
        from rich.progress import track

        from store.exports import write_bytes  # a letter names the person and their post: private

        for member in track(members, description="Writing letters", console=out, disable=not out.is_terminal):
            slug = member.email.replace("@", "_at_").replace(".", "_")
            write_bytes(output / f"{kind}-{slug}.pdf", make(session, poll, member))
    out.print(f"Wrote {len(members)} {kind} letter(s) to {output}/.")


@staff_app.command("purge")
def staff_purge(
    as_of: Annotated[str | None, typer.Option(help="as if it were this date")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say whose details would go; delete nothing")
    ] = False,
    by: ByOption = None,
) -> None:
    """Delete bank details and NI numbers past their retention period (config: retention)."""
    from pollflow.runtime import run_flow
    from store.staff.config import staffing_rules

    moment = parse_moment(as_of)
    days = staffing_rules().retention.sensitive_data_days
    out = console()
    result = run_flow(
        "recruit_staff:purge_staff_data",
        out,
        as_of=moment,
        actor=actor(by, permission="manage_staff") + " (purge)",
        dry_run=dry_run,
    )
    verb = "Would delete" if dry_run else "Deleted"
    out.print(
        f"{verb} bank and NI details of {len(result['purged'])} people "
        f"(kept {days} days after their last poll); "
        f"{result['kept']} still within the period."
    )


@staff_app.command("config")
def staff_config() -> None:
    """The staffing rules and fee schedule in force, and the files they come from."""
    from store.staff.config import config_sources, fee_schedule, staffing_rules

    rules, fees = staffing_rules(), fee_schedule()
    out = console()
    for name, paths in config_sources().items():
        out.print(f"{name}: {' + '.join(paths)}")
    out.print("Station staffing (electors in person, " + rules.stations.basis.strip() + "):")
    for band in rules.stations.bands:
        out.print(f"  up to {band.electors:,}: " + ", ".join(f"{n} {r}" for r, n in band.posts.items()))
    out.print(f"  no station above {rules.stations.max_electors:,} electors")
    out.print(f"Inspectors: one per {rules.inspectors.stations_per_inspector} stations")
    out.print(
        f"Count ({rules.count.starts}): one assistant per "
        f"{rules.count.ballot_papers_per_assistant} ballot papers, "
        f"a supervisor per {rules.count.assistants_per_supervisor} assistants"
    )
    out.print(f"Reserve list: {rules.allocation.reserve_share:.0%} above the need")
    out.print(
        f"Bank and NI details kept {rules.retention.sensitive_data_days} days after the last poll worked"
    )
    out.print(
        "Fees: "
        + ", ".join(f"{r} £{f.fee:,.2f}" for r, f in fees.roles.items())
        + f"; training £{fees.training.fee:,.2f}"
    )
