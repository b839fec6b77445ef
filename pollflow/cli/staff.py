"""The ``pollflow`` commands for polling stations and temporary staff: import stations and the
staff register, recruit (invite, chase, offer, replace), take answers, allocate, pin, train, and
the staffing table, letters and payroll.

Commands that change state through a flow (recruit, allocate, staff purge) check their input
first, so a mistake is one line at once, before Prefect starts; the others never import Prefect.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pollflow.cli import app, console
from timetables.errors import PollflowError

stations_app = typer.Typer(help="Polling places and stations, from the EMS.", no_args_is_help=True)
staff_app = typer.Typer(help="The register of temporary election staff.", no_args_is_help=True)
training_app = typer.Typer(help="Training sessions: capacity, booking, attendance.", no_args_is_help=True)
app.add_typer(stations_app, name="stations")
app.add_typer(staff_app, name="staff")
app.add_typer(training_app, name="training")

ByOption = Annotated[str | None, typer.Option("--by", help="who is doing this (for the audit trail)")]
SkipOption = Annotated[
    bool, typer.Option("--skip-bad-rows", help="import the good rows and report the bad ones skipped")
]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="write every bad or skipped row (line, reason) to this CSV")
]


def _session():
    from store.db import session_scope

    return session_scope()


def _actor(by: str | None) -> str:
    return by or "cli"


def _moment(text: str | None) -> dt.datetime:
    from pollflow.cli.work import parse_moment

    return parse_moment(text)


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise PollflowError(f"{what} '{text}' is not a date: write YYYY-MM-DD") from exc


def _refused(exc, report: Path | None) -> None:
    """Write the full list of bad rows where asked, then let the one-line error through."""
    from store.tables import ImportRefused, problems_csv

    if report is not None and isinstance(exc, ImportRefused):
        report.write_text(problems_csv(exc.problems))
        print(f"pollflow: every bad row is listed in {report}", file=sys.stderr)


def _skipped(out, skipped, report: Path | None) -> None:
    from store.tables import problems_csv

    if not skipped:
        return
    lines = sorted({p.line for p in skipped})
    out.print(f"[yellow]Skipped {len(lines)} bad row(s):[/yellow]")
    for problem in skipped[:20]:
        out.print(f"  {problem}")
    if len(skipped) > 20:
        out.print(f"  ... and {len(skipped) - 20} more")
    if report is not None:
        report.write_text(problems_csv(skipped))
        out.print(f"Every skipped row is listed in {report}.")


# --- stations -----------------------------------------------------------------------------------


@stations_app.command("import")
def stations_import(
    file: Annotated[Path, typer.Argument(help="an EMS export (CSV) or pollflow's layout (CSV or .xlsx)")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format", help="xpress, eros, democracy-counts or pollflow (default: from the columns)"
        ),
    ] = None,
    skip_bad_rows: SkipOption = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="stations not in the file stop being used (a whole-area export)")
    ] = False,
    report: ReportOption = None,
    by: ByOption = None,
) -> None:
    """Import polling districts, places and stations, with electorates. A file with a bad row is
    refused whole, every bad row named (or --skip-bad-rows)."""
    from store.staff.config import staffing_rules
    from store.staff.stations import read_stations, save_stations
    from store.tables import ImportRefused

    try:
        parsed = read_stations(file, format, skip_bad_rows, staffing_rules().stations.max_electors)
    except ImportRefused as exc:
        _refused(exc, report)
        raise
    out = console()
    with _session() as session:
        result = save_stations(session, parsed, _actor(by) + f" (import {file.name})", replace=replace)
    out.print(
        f"{file.name} ({parsed.format}, {parsed.rows} rows): {len(parsed.stations)} stations: "
        f"{len(result.added)} added, {len(result.updated)} updated, {result.unchanged} unchanged"
        + (
            f", {len(result.deactivated)} no longer used ({', '.join(result.deactivated)})"
            if result.deactivated
            else ""
        )
        + "."
    )
    _skipped(out, parsed.skipped, report)
    for warning in parsed.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")


@stations_app.command("electorate")
def stations_electorate(
    file: Annotated[
        Path, typer.Argument(help="CSV or .xlsx: station (or district), electorate, postal_voters")
    ],
    skip_bad_rows: SkipOption = False,
    report: ReportOption = None,
    by: ByOption = None,
) -> None:
    """Set electorates (and postal voters) from the EMS's electorate report, by station or district."""
    from store.staff.stations import read_electorates, save_electorates
    from store.tables import ImportRefused

    with _session() as session:
        try:
            parsed = read_electorates(session, file, skip_bad_rows)
        except ImportRefused as exc:
            _refused(exc, report)
            raise
        changed = save_electorates(session, parsed, _actor(by))
    out = console()
    out.print(f"Electorates for {len(parsed.by_station)} stations: {len(changed)} changed.")
    _skipped(out, parsed.skipped, report)


@stations_app.command("list")
def stations_list(
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    all_: Annotated[bool, typer.Option("--all", help="include stations no longer used")] = False,
) -> None:
    """The polling stations, with electorates and the staff each needs."""
    from sqlalchemy import select

    from store.models.staff import PollingStation
    from store.staff.config import staffing_rules

    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    rules = staffing_rules()
    with _session() as session:
        query = select(PollingStation).order_by(PollingStation.code)
        if not all_:
            query = query.where(PollingStation.active)
        stations = session.scalars(query).all()
        rows = []
        for s in stations:
            in_person = s.electorate
            if in_person is not None and rules.stations.exclude_postal_voters and s.postal_voters:
                in_person = max(in_person - s.postal_voters, 0)
            need = rules.station_posts(in_person) if in_person is not None else None
            rows.append(
                {
                    "code": s.code,
                    "name": s.name,
                    "address": s.address,
                    "postcode": s.postcode,
                    "area": s.area,
                    "districts": s.districts,
                    "electorate": s.electorate,
                    "postal_voters": s.postal_voters,
                    "easting": s.easting,
                    "northing": s.northing,
                    "need": need,
                    "active": s.active,
                    "source": s.source,
                }
            )
    if format == "json":
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"Polling stations ({len(rows)})")
    for column in ("Code", "Station", "Postcode", "Area", "Districts", "Electorate", "Postal", "Staff"):
        table.add_column(column, justify="right" if column in ("Electorate", "Postal") else "left")
    for r in rows:
        need = r["need"]
        table.add_row(
            r["code"],
            r["name"],
            r["postcode"] or "",
            r["area"] or "",
            r["districts"],
            f"{r['electorate']:,}" if r["electorate"] is not None else "[yellow]unknown[/yellow]",
            f"{r['postal_voters']:,}" if r["postal_voters"] is not None else "",
            f"PO + {need.get('poll-clerk', 0)} clerks" if need else "",
        )
    console().print(table)


# --- the staff register -------------------------------------------------------------------------


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
        _refused(exc, report)
        raise
    with _session() as session:
        result = save_staff(session, parsed, _actor(by) + f" (import {file.name})")
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
    _skipped(out, parsed.skipped, report)


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
    with _session() as session:
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
    from store.queries import find_poll
    from store.staff import recruitment as staff_recruitment

    with _session() as session:
        poll = find_poll(session, election_id)
        released = staff_recruitment.withdraw(session, poll, email, _actor(by), reason)
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

    with _session() as session:
        poll = _poll(session, election_id)
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
    with _session() as session:
        poll = _poll(session, election_id)
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

        for member in track(members, description="Writing letters", console=out, disable=not out.is_terminal):
            slug = member.email.replace("@", "_at_").replace(".", "_")
            (output / f"{kind}-{slug}.pdf").write_bytes(make(session, poll, member))
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

    moment = _moment(as_of)
    days = staffing_rules().retention.sensitive_data_days
    out = console()
    result = run_flow(
        "recruit_staff:purge_staff_data", out, as_of=moment, actor=_actor(by) + " (purge)", dry_run=dry_run
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


# --- recruitment --------------------------------------------------------------------------------


def _poll(session, election_id: str):
    from store.queries import find_poll

    return find_poll(session, election_id)


@app.command()
def recruit(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id to recruit for")],
    ballot_papers: Annotated[
        int | None, typer.Option(help="ballot papers expected at the count (default: from turnout)")
    ] = None,
    postal_votes: Annotated[
        int | None, typer.Option(help="postal votes expected back (default: from postal voters)")
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option("--area", help="only stations in this electoral area (repeat for more)"),
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="act as if it were this time")] = None,
    by: ByOption = None,
) -> None:
    """Start or advance staff recruitment: invitations, chasers, lapses, replacements from the
    reserve list, offers and training reminders, each sent once."""
    from tasks.staffing import check_recruitable

    for value, name in ((ballot_papers, "--ballot-papers"), (postal_votes, "--postal-votes")):
        if value is not None and value < 0:
            raise PollflowError(f"{name} {value}: give a number of 0 or more")
    with _session() as session:  # refuse at once, before Prefect starts
        poll = check_recruitable(session, election_id, area)
    from pollflow.runtime import run_flow

    out = console()
    result = run_flow(
        "recruit_staff:recruit_staff",
        out,
        election_id=poll.key,
        as_of=_moment(as_of) if as_of else None,
        ballot_papers=ballot_papers,
        postal_votes=postal_votes,
        areas=area,
        actor=_actor(by) + " (recruit)",
    )
    r = result["polls"][poll.key]
    replaced = (r["replacements"] or {}).get("assigned", 0)
    out.print(
        f"{poll.key}: {r['posts']} posts ({r['posts_added']} new). Invited {r['invited']}; chased "
        f"{r['chased']['invitations']} invitations and {r['chased']['offers']} offers; lapsed "
        f"{r['lapsed']['invitations']} invitations and {len(r['lapsed']['offers'])} offers; "
        f"{replaced} replacements from the reserve; {r['offers']} offers sent."
    )
    delivery = result.get("delivery") or {}
    out.print(
        f"Messages sent {delivery.get('sent', 0)}, retrying {delivery.get('retrying', 0)}, "
        f"failed {delivery.get('failed', 0)}."
    )
    for warning in r["warnings"]:
        out.print(f"[yellow]warning:[/yellow] {warning}")
    for key in r["surplus_held"]:
        out.print(
            f"[yellow]no longer needed but held:[/yellow] {key} (release it with `pollflow staff withdraw`)"
        )


@app.command()
def respond(
    token: Annotated[str, typer.Argument(help="the token from a person's personal link (or the whole link)")],
    answer: Annotated[str, typer.Argument(help="accept or decline")],
    day: Annotated[
        list[str] | None, typer.Option("--day", help="a day they can work, YYYY-MM-DD (repeat)")
    ] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="a role they will do (repeat)")] = None,
    reason: Annotated[str | None, typer.Option(help="why (a decline or withdrawal)")] = None,
    training: Annotated[
        str | None, typer.Option(help="book this training session (accepting an offer)")
    ] = None,
    by: ByOption = None,
) -> None:
    """Record a person's answer to an invitation or an offer, as the answer page does."""
    from tasks.staffing import respond as record_answer

    if answer not in ("accept", "decline"):
        raise PollflowError(f"answer '{answer}': say accept or decline")
    token = token.rstrip("/").rsplit("/", 1)[-1].removesuffix(".pdf")
    days = [_date(d, "--day") for d in day] if day else None
    result = record_answer(
        token,
        answer == "accept",
        via="cli",
        actor=f"{by} (for the person)" if by else None,
        dates=days,
        roles=role,
        reason=reason,
        training=training,
    )
    out = console()
    what = "invitation" if result.kind == "invitation" else "offer"
    state = "recorded" if result.changed else "unchanged (already recorded)"
    out.print(f"{result.name} ({result.email}), {what}: {result.summary}: {state}.")
    for key in result.released:
        out.print(f"[yellow]post given up:[/yellow] {key}")
    if result.letter_link:
        out.print(f"Appointment letter: {result.letter_link}", soft_wrap=True)


@app.command()
def allocate(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show what allocation would do; save nothing")
    ] = False,
    by: ByOption = None,
) -> None:
    """Allocate those available to every vacant post (pins and offers stay), then offer them."""
    from store import staff
    from store.staff import posting as staff_posting
    from store.staff.config import staffing_rules
    from tasks.staffing import check_recruitable

    out = console()
    with _session() as session:
        poll = check_recruitable(session, election_id)
        staff.require_plan(session, poll)
        if dry_run:
            allocated = staff_posting.run_allocation(session, poll, staffing_rules())
            session.rollback()
            _allocation_summary(
                out, poll.key, allocated.summary, sorted(set(allocated.result.unfilled.values())), True
            )
            posts = {p.id: p for p in allocated.inputs.posts}
            for post_id, staff_id in sorted(allocated.result.assigned.items())[:60]:
                out.print(f"  {posts[post_id].label}: {allocated.inputs.members[staff_id].email}")
            return
    from pollflow.runtime import run_flow

    result = run_flow(
        "recruit_staff:allocate_staff", out, election_id=poll.key, actor=_actor(by) + " (allocate)"
    )
    _allocation_summary(out, poll.key, result, result["unfilled_reasons"], False)
    out.print(f"Offers sent: {result['offers']}.")


def _allocation_summary(out, key: str, s: dict, reasons: list[str], dry: bool) -> None:
    verb = "Would fill" if dry else "Filled"
    out.print(
        f"{key}: {verb} {s['assigned']} of {s['slots']} posts' vacancies; {s['unfilled']} unfilled; "
        f"preferences met for {s['preferences_met']} of {s['with_preferences']} who gave any; "
        f"mean distance from home {s['mean_distance_km']} km; {s['reserve']} on the reserve list."
    )
    for reason in reasons:
        out.print(f"[yellow]unfilled:[/yellow] {reason}")


@app.command()
def pin(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    post: Annotated[str, typer.Argument(help="a post key (station:W01:poll-clerk:2) or a station code")],
    email: Annotated[str, typer.Argument(help="the person to put there")],
    role: Annotated[str | None, typer.Option(help="the role, with a station code")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="take the post from whoever holds it")] = False,
    by: ByOption = None,
) -> None:
    """Put a person in a post; allocation keeps them there. `pollflow recruit` sends the offer."""
    from store.staff import posting as staff_posting

    with _session() as session:
        poll = _poll(session, election_id)
        found = staff_posting.find_post(session, poll, post, role)
        staff_posting.pin(session, poll, found, email, _actor(by), replace=replace)
        label = found.label
    console().print(f"Pinned {email} to {label}. Run `pollflow recruit {election_id}` to send the offer.")


@app.command()
def unpin(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    post: Annotated[str, typer.Argument(help="a post key or a station code")],
    role: Annotated[str | None, typer.Option(help="the role, with a station code")] = None,
    by: ByOption = None,
) -> None:
    """Let allocation manage a post again (whoever holds it keeps it)."""
    from store.staff import posting as staff_posting

    with _session() as session:
        poll = _poll(session, election_id)
        found = staff_posting.find_post(session, poll, post, role)
        staff_posting.unpin(session, poll, found, _actor(by))
        label = found.label
    console().print(f"Unpinned {label}.")


@app.command()
def staffing(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    list_: Annotated[
        bool, typer.Option("--list", help="the staffing list: who is where, by station")
    ] = False,
) -> None:
    """Need, filled and unfilled per station and role; the reserve list; who is untrained."""
    from store.staff import report as staff_report
    from store.staff.config import staffing_rules

    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    with _session() as session:
        poll = _poll(session, election_id)
        data = staff_report.report(session, poll, staffing_rules())
    if format == "json":
        print(json.dumps(data, indent=2))
        return
    out = console()
    if list_:
        _staffing_list(out, data)
    else:
        _fill_table(out, data)


ROLE_SHORT = {
    "presiding-officer": "PO",
    "poll-clerk": "Clerks",
    "polling-station-inspector": "Inspectors",
    "count-supervisor": "Supervisors",
    "count-assistant": "Assistants",
    "postal-vote-opener": "Openers",
}


def _fill_table(out, data: dict) -> None:
    from rich.table import Table

    table = Table(
        title=f"Staffing: {data['title']}\nfilled {data['filled']} of {data['posts']} posts, "
        f"{data['accepted']} accepted; recruitment closes {data['recruitment_closes'][:10]}",
        title_justify="left",
    )
    for column in ("Station", "Electorate", "Role", "Need", "Filled", "Accepted", "Unfilled", "Why unfilled"):
        table.add_column(
            column,
            justify="right" if column in ("Electorate", "Need", "Filled", "Accepted", "Unfilled") else "left",
        )
    for row in data["stations"]:
        first = True
        for role, cell in row["roles"].items():
            unfilled = cell["need"] - cell["allocated"]
            why = sorted(
                {
                    p["unfilled_reason"]
                    for p in row["posts"]
                    if p["role"] == role and p["unfilled_reason"] and not p["staff"]
                }
            )
            table.add_row(
                f"{row['code']} {row['name']}"
                if first and row["code"] != row["name"]
                else (row["name"] if first else ""),
                f"{row['electorate']:,}" if first and row["electorate"] is not None else "",
                ROLE_SHORT.get(role, role),
                str(cell["need"]),
                str(cell["filled"]),
                str(cell["accepted"]),
                f"[red]{unfilled}[/red]" if unfilled else "0",
                "; ".join(why),
            )
            first = False
    out.print(table)
    totals = Table(title="By role", title_justify="left")
    for column in ("Role", "Need", "Filled", "Accepted", "Fill rate"):
        totals.add_column(column, justify="left" if column == "Role" else "right")
    for role, t in data["totals"].items():
        rate = t["filled"] / t["need"] if t["need"] else 1
        totals.add_row(
            ROLE_SHORT.get(role, role), str(t["need"]), str(t["filled"]), str(t["accepted"]), f"{rate:.0%}"
        )
    out.print(totals)
    reserve = data["reserve"]
    out.print(
        f"Reserve list: {reserve['count']} (target {reserve['target']}). Invitations: "
        + ", ".join(f"{k} {v}" for k, v in sorted(data["invitations"].items()))
    )
    if data["untrained"]:
        out.print(
            f"[yellow]Not yet trained:[/yellow] {len(data['untrained'])} allocated: "
            + ", ".join(u["name"] for u in data["untrained"][:15])
            + (" ..." if len(data["untrained"]) > 15 else "")
        )


def _staffing_list(out, data: dict) -> None:
    from rich.table import Table

    table = Table(title=f"Staffing list: {data['title']}", title_justify="left")
    for column in ("Station", "Post", "Day", "Name", "Email", "Status"):
        table.add_column(column)
    for row in data["stations"]:
        first = True
        for p in row["posts"]:
            table.add_row(
                f"{row['code']} {row['name']}"
                if first and row["code"] != row["name"]
                else (row["name"] if first else ""),
                p["key"].split(":", 1)[1],
                p["duty_date"],
                (p["name"] or "[red]vacant[/red]") + (" (pinned)" if p["pinned"] else ""),
                p["staff"] or "",
                p["status"],
            )
            first = False
    out.print(table)


@app.command()
def payroll(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    format: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    output: Annotated[
        Path | None, typer.Option(help="the file to write (xlsx needs one; csv: stdout)")
    ] = None,
    include_bank_details: Annotated[
        bool,
        typer.Option(
            "--include-bank-details", help="add NI numbers and bank details (recorded in the audit trail)"
        ),
    ] = False,
    by: ByOption = None,
) -> None:
    """The payroll export: a line per fee (role, training, extras, mileage) for each appointed person."""
    from store import staff
    from store.staff.config import fee_schedule
    from store.staff.payroll import payroll_csv, payroll_xlsx

    if format not in ("csv", "xlsx"):
        raise PollflowError(f"unknown format '{format}': formats are csv, xlsx")
    if format == "xlsx" and output is None:
        raise PollflowError("--format xlsx needs --output FILE.xlsx")
    if include_bank_details and output is None:
        raise PollflowError(
            "bank details and NI numbers are never printed: add --output FILE to write them to a file"
        )
    fees = fee_schedule()
    with _session() as session:
        poll = _poll(session, election_id)
        staff.require_plan(session, poll)
        if format == "csv":
            text = payroll_csv(session, poll, fees, _actor(by), include_bank_details)
            if output is None:
                sys.stdout.write(text)
                return
            _private(output)
            output.write_text(text)
        else:
            _private(output)
            payroll_xlsx(session, poll, fees, output, _actor(by), include_bank_details)
    console().print(
        f"Wrote {output}."
        + (" It holds bank details: keep it safe, delete it once used." if include_bank_details else "")
    )


def _private(path: Path) -> None:
    """Create the file readable by its owner only (it may hold bank details)."""
    import os

    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)


# --- training -----------------------------------------------------------------------------------


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

    start = _moment(starts)
    end = _moment(f"{starts[:10]}T{ends}" if len(ends) <= 5 else ends)
    with _session() as session:
        poll = _poll(session, election_id)
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
            actor=_actor(by),
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
    with _session() as session:
        poll = _poll(session, election_id)
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

    with _session() as session:
        poll = _poll(session, election_id)
        member = staff.find_staff(session, email)
        _, changed = staff_training.book(session, poll, member, code, _actor(by))
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

    with _session() as session:
        poll = _poll(session, election_id)
        changed = staff_training.mark_attendance(session, poll, code, emails, not absent, _actor(by))
    console().print(f"{code}: {len(changed)} marked {'absent' if absent else 'attended'}.")
