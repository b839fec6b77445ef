"""The ``pollflow`` commands for candidates and documents.

candidates import / list / add / withdraw; documents (list, with status); document details,
produce, render, proof, approve, publish. Commands that only read (list, render) never import
Prefect; every input is checked before a flow starts, so a bad one is one line and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import actor, console, parse_moment, store_session
from timetables.errors import PollflowError

candidates_app = typer.Typer(help="Candidates: import, list, add, withdraw.", no_args_is_help=True)
document_app = typer.Typer(
    help="One document: its details, drawing up, rendering, proof-check, approval, publication.",
    no_args_is_help=True,
)
app.add_typer(candidates_app, name="candidates")
app.add_typer(candidates_app, name="candidate", hidden=True)
app.add_typer(document_app, name="document")

ElectionArg = Annotated[str, typer.Argument(help="the election id (or, for a poll of one election, its key)")]
KeyArg = Annotated[str, typer.Argument(help="the document: notice_of_election, sopn, notice_of_poll, ...")]
ByOption = Annotated[str | None, typer.Option("--by", help="you (optional: POLLFLOW_TOKEN says who you are)")]
VersionOption = Annotated[
    int | None, typer.Option("--version", help="the version you checked (refused if stale)")
]


# ---------------------------------------------------------------------------------------------
# candidates


@candidates_app.command("import")
def candidates_import(
    election_id: ElectionArg,
    file: Annotated[Path, typer.Argument(help="CSV: surname, forenames, address, area, description, ...")],
    replace: Annotated[
        bool, typer.Option("--replace", help="the file is the whole list: remove candidates not in it")
    ] = False,
    by: Annotated[str | None, typer.Option("--by", help="who is importing (email)")] = None,
) -> None:
    """Add or update an election's candidates from CSV; a file with any bad row is refused whole."""
    from store.documents.candidates import election_of, import_candidates, read_candidates_csv
    from store.models import utcnow
    from tasks.documents.catalogue import areas_of
    from tasks.documents.sources import load_sources

    with store_session() as session:
        poll, election = election_of(session, election_id)
        src = load_sources(session, poll, utcnow())
        areas = [a.name for a in areas_of(src, election)] or None
        rows = read_candidates_csv(file, areas)
        result = import_candidates(
            session,
            poll,
            election.election_id,
            rows,
            actor(by, f"import:{file.name}", permission="plan"),
            replace=replace,
        )
    out = console()
    out.print(
        f"{len(rows)} candidates for {election.election_id}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged" + (f", {result.removed} removed" if result.removed else "") + "."
    )
    if result.kept:
        out.print(
            f"{result.kept} stored candidates are not in the file and were kept (--replace removes them)."
        )


@candidates_app.command("list")
def candidates_list(
    election_id: ElectionArg,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """The candidates in the statement's order (surname, then other names), area by area."""
    from store.documents.candidates import candidates_of, election_of, shown_names, statement_order

    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    with store_session() as session:
        poll, election = election_of(session, election_id)
        found = candidates_of(session, poll, election.election_id)
        by_area: dict[str, list] = {}
        for c in found:
            by_area.setdefault(c.area, []).append(c)
        ordered = [(area, statement_order(cs)) for area, cs in sorted(by_area.items())]
    if format == "json":
        print(
            json.dumps(
                [
                    {
                        "area": area,
                        "surname": c.surname,
                        "forenames": c.forenames,
                        "shown_as": " ".join(shown_names(c)),
                        "description": c.description,
                        "address": c.address,
                        "status": c.status,
                        "reason": c.status_reason,
                        "agent": c.agent_name,
                    }
                    for area, cs in ordered
                    for c in cs
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    from rich.table import Table

    table = Table(title=f"Candidates: {election.election_id}")
    for column in ("Area", "Name", "Description", "Address", "Status"):
        table.add_column(column)
    for area, cs in ordered:
        for c in cs:
            surname, forenames = shown_names(c)
            status = (
                c.status
                if c.status == "nominated"
                else f"[yellow]{c.status}[/yellow]: {c.status_reason or ''}"
            )
            table.add_row(area, f"{surname.upper()} {forenames}", c.description or "", c.address, status)
    console().print(table)


@candidates_app.command("add")
def candidates_add(
    election_id: ElectionArg,
    surname: Annotated[str, typer.Option(help="as on the nomination paper")],
    forenames: Annotated[str, typer.Option(help="as on the nomination paper")],
    address: Annotated[str, typer.Option(help="the home address, or the statement that stands in for it")],
    area: Annotated[str | None, typer.Option(help="the ward or division (where there are several)")] = None,
    description: Annotated[str | None, typer.Option(help="at most six words")] = None,
    party: Annotated[str | None, typer.Option(help="the registered party")] = None,
    party_membership: Annotated[
        str | None, typer.Option(help="Wales: the statement of party membership")
    ] = None,
    commonly_used_surname: Annotated[str | None, typer.Option()] = None,
    commonly_used_forenames: Annotated[str | None, typer.Option()] = None,
    agent_name: Annotated[str | None, typer.Option(help="the election agent")] = None,
    agent_address: Annotated[str | None, typer.Option(help="the agent's office address")] = None,
    by: Annotated[str | None, typer.Option("--by", help="who is entering it (email)")] = None,
) -> None:
    """Enter one candidate (a nomination paper as it is received)."""
    from store.documents.candidates import CandidateRow, add_candidate, election_of

    row = CandidateRow(
        line=0,
        area=(area or "").strip(),
        surname=surname.strip(),
        forenames=forenames.strip(),
        address=address.strip(),
        description=(description or "").strip() or None,
        party=party,
        party_membership=party_membership,
        commonly_used_surname=commonly_used_surname,
        commonly_used_forenames=commonly_used_forenames,
        agent_name=agent_name,
        agent_address=agent_address,
    )
    with store_session() as session:
        poll, election = election_of(session, election_id)
        candidate = add_candidate(
            session, poll, election.election_id, row, actor(by, "cli", permission="plan")
        )
        text = (
            f"Added {candidate.forenames} {candidate.surname} ({candidate.area}) to {election.election_id}."
        )
    console().print(text)


@candidates_app.command("withdraw")
def candidates_withdraw(
    election_id: ElectionArg,
    name: Annotated[str, typer.Argument(help="'Forenames Surname' or 'SURNAME, Forenames'")],
    area: Annotated[str | None, typer.Option(help="where the name stands in several areas")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="who received the notice of withdrawal (email)")
    ] = None,
) -> None:
    """Record a notice of withdrawal (refused after the withdrawal deadline)."""
    from store.documents.candidates import election_of, withdraw_candidate

    with store_session() as session:
        poll, election = election_of(session, election_id)
        c = withdraw_candidate(
            session, poll, election.election_id, name, actor(by, "cli", permission="plan"), area=area
        )
        text = f"{c.forenames} {c.surname} ({c.area}) has withdrawn: the statement will show it."
    console().print(text)


# ---------------------------------------------------------------------------------------------
# documents


@app.command()
def documents(
    election_id: ElectionArg,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """A poll's documents: version, status, deadline, who proof-checked, approved and published."""
    from store.queries import find_poll
    from tasks.documents.produce import status_rows

    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    with store_session() as session:
        poll = find_poll(session, election_id)
        rows = status_rows(session, poll)
        title = f"Documents: {poll.title}"
    if format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=title)
    for column in (
        "Document",
        "Election",
        "Version",
        "Status",
        "Deadline",
        "Proof-checked",
        "Approved",
        "Published",
    ):
        table.add_column(column)
    for r in rows:
        status = r["status"]
        if r["blocked"]:
            status = f"[red]blocked[/red]: {r['blocked']}"
        elif status == "approved":
            status = "[green]approved[/green]"
        table.add_row(
            r["key"],
            r["scope"],
            str(r["version"] or ""),
            status,
            (r["deadline"] or "")[:16].replace("T", " "),
            r["proofed"] or "",
            r["approved"] or "",
            r["published"] or "",
        )
    console().print(table)
    if not rows:
        console().print(f"Nothing drawn up yet: `pollflow document produce {election_id}`.")


@document_app.command("details")
def document_details(
    election_id: ElectionArg,
    file: Annotated[
        Path | None, typer.Argument(help="YAML: council, returning_officer, elections, ...")
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="print the details stored")] = False,
    by: Annotated[str | None, typer.Option("--by", help="who is setting them (email)")] = None,
) -> None:
    """Set (or show) what notices need beyond the timetable: the council, the Returning Officer,
    electoral areas and seats, polling stations, postal vote opening sessions."""
    import yaml

    from store.documents.council_details import load_details, read_details_file, save_details
    from store.queries import find_poll

    if file is None and not show:
        raise PollflowError("give a details FILE (YAML) to set them, or --show to see them")
    with store_session() as session:
        poll = find_poll(session, election_id)
        if show:
            details = load_details(session, poll)
            if details is None:
                raise PollflowError(f"no details for {poll.key} yet: give a YAML file")
            print(
                yaml.safe_dump(
                    details.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True
                )
            )
            return
        details = read_details_file(file)
        changed = save_details(session, poll, details, actor(by, f"import:{file.name}", permission="plan"))
    console().print(f"Details for {poll.key} {'saved' if changed else 'unchanged'}.")


@document_app.command("produce")
def document_produce(
    election_id: ElectionArg,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="only this document (repeat for more)")
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="as if it were this time")] = None,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="draw up, but publish nothing")] = False,
) -> None:
    """Draw up what is due, raise proof-checks and approvals as work, publish what is approved."""
    from pollflow.runtime import run_flow
    from store.queries import find_poll
    from tasks.documents.catalogue import spec_for

    for key in only or []:
        spec_for(key)
    with store_session() as session:
        find_poll(session, election_id)
    out = console()
    summary = run_flow(
        "produce_documents:produce_documents",
        out,
        election_id=election_id,
        as_of=parse_moment(as_of) if as_of else None,
        only=only,
        publish=not no_publish,
    )
    out.print(
        f"Generated {len(summary['generated'])}, unchanged {summary['unchanged']}, blocked "
        f"{len(summary['blocked'])}, published {len(summary['published'])}."
    )
    for label in summary["generated"]:
        out.print(f"  new version: {label}")
    for label in summary["changed_after_approval"]:
        out.print(f"  [yellow]changed after approval, needs sign-off again:[/yellow] {label}")
    for label, why in summary["blocked"].items():
        out.print(f"  [red]blocked[/red] {label}: {why}")
    for label in summary["published"]:
        out.print(f"  published: {label}")
    for error in summary["errors"]:
        out.print(f"  [yellow]webhook:[/yellow] {error}")


def _current(session, election_id: str, key: str):
    """(spec, sources, scope, doc or None) for a document as the data stand now."""
    from tasks.documents.signoff import current_document

    return current_document(session, election_id, key)


@document_app.command("render")
def document_render(
    election_id: ElectionArg,
    key: KeyArg,
    format: Annotated[str, typer.Option("--format", help="html, pdf or docx")] = "pdf",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="the file to write")] = None,
    version: VersionOption = None,
) -> None:
    """Render a document to a file: the latest version (or --version N), or, where the data have
    changed since, the document as they stand now. Anything not approved is marked DRAFT."""
    from store.documents.versions import versions_of
    from tasks.documents.produce import draw
    from tasks.documents.rendering import render_as

    if format not in ("html", "pdf", "docx"):
        raise PollflowError(f"unknown format '{format}': formats are html, pdf, docx")
    with store_session() as session:
        spec, src, scope, doc = _current(session, election_id, key)
        stored = None
        if doc is not None:
            versions = versions_of(session, doc)
            if version is not None:
                stored = next((v for v in versions if v.number == version), None)
                if stored is None:
                    raise PollflowError(
                        f"{key} for {scope} has no version {version}: versions are "
                        f"{', '.join(str(v.number) for v in versions) or 'none'}"
                    )
            elif versions:
                stored = versions[-1]
        elif version is not None:
            raise PollflowError(f"{key} for {scope} has no versions yet")
        drawn = None
        if version is None:
            drawn = draw(src, spec, scope)  # strict: a missing value is an error naming it
            if stored is not None and stored.content_hash != drawn.content_hash:
                stored = None  # the data moved on: show them as they stand
        if stored is not None:
            clean = stored.status in ("approved", "published")
            banner = None if clean else f"DRAFT v{stored.number}: not approved"
            data = render_as(
                format, stored.template, stored.context, stored.html, spec.word, f"{key} for {scope}", banner
            )
            note = f"version {stored.number}, {stored.status}"
        else:
            banner = "DRAFT: not yet a version"
            data = render_as(
                format, drawn.template, drawn.context, drawn.html, spec.word, f"{key} for {scope}", banner
            )
            note = "as the data stand now; not yet a version (`pollflow document produce`)"
    path = output or Path(f"{key}-{scope}.{format}")
    path.write_bytes(data)
    console().print(f"Wrote {path} ({note}).")


def _step_command(
    step: str, election_id: str, key: str, by: str | None, version: int | None, note: str | None
) -> None:
    from tasks.documents.signoff import sign_step

    who = actor(
        by,
        named="a proof-check" if step == "proof" else "an approval",
        permission="proof" if step == "proof" else "approve",
    )
    with store_session() as session:
        _, _, scope, doc = _current(session, election_id, key)
        if doc is None:
            raise PollflowError(f"no {key} for {scope} yet: `pollflow document produce {scope}` draws it up")
        done, new = sign_step(session, doc, step, who, version=version, note=note)
        verb = "proof-checked" if step == "proof" else "approved"
        if new:
            text = f"{verb.capitalize()} version {done.number} of {key} for {scope}, by {who}."
        else:
            text = f"Version {done.number} of {key} was already {verb}."
    console().print(text)
    if step == "approve" and new:
        console().print(
            f"It is published on or after the day it is dated: `pollflow document publish {scope} {key}`."
        )


@document_app.command("proof")
def document_proof(
    election_id: ElectionArg,
    key: KeyArg,
    by: ByOption = None,
    version: VersionOption = None,
    note: Annotated[str | None, typer.Option(help="what was checked, for the audit trail")] = None,
) -> None:
    """Record that a named person proof-checked the latest version."""
    _step_command("proof", election_id, key, by, version, note)


@document_app.command("approve")
def document_approve(
    election_id: ElectionArg,
    key: KeyArg,
    by: ByOption = None,
    version: VersionOption = None,
    note: Annotated[str | None, typer.Option(help="a note for the audit trail")] = None,
) -> None:
    """Approve the proof-checked latest version (the Returning Officer or a deputy, not the proof-checker)."""
    _step_command("approve", election_id, key, by, version, note)


@document_app.command("publish")
def document_publish(
    election_id: ElectionArg,
    key: KeyArg,
    by: Annotated[str | None, typer.Option("--by", help="who is publishing (email)")] = None,
) -> None:
    """Publish the approved latest version now: to the output folder and, where set, the webhook."""
    from store.documents.versions import check_publishable, latest_version
    from store.models import utcnow
    from tasks.documents.produce import draw

    who = actor(by, named="publishing a document", permission="publish")
    with store_session() as session:  # refuse at once, before Prefect starts
        spec, src, scope, doc = _current(session, election_id, key)
        if doc is None:
            raise PollflowError(f"no {key} for {scope} yet: `pollflow document produce {scope}` draws it up")
        check_publishable(session, doc, spec.publish_from(src, scope), utcnow())
        drawn = draw(src, spec, scope)
        latest = latest_version(session, doc)
        if latest is not None and latest.content_hash != drawn.content_hash and latest.status != "published":
            raise PollflowError(
                f"the data behind {key} changed after version {latest.number} was approved: "
                f"`pollflow document produce {scope}` makes the next version, which needs sign-off"
            )
    from pollflow.runtime import run_flow

    out = console()
    result = run_flow("produce_documents:publish_document", out, election_id=scope, key=key, actor=who)
    if result["already_published"]:
        out.print(f"Version {result['version']} of {key} for {scope} was already published.")
    else:
        out.print(f"Published version {result['version']} of {key} for {scope}:")
    for path in result["files"]:
        out.print(f"  {path}")
    for label in result["webhook"]:
        out.print(f"  sent to the webhook: {label}")
    for error in result["webhook_failed"]:
        out.print(f"  [yellow]webhook failed (tried again on the next run):[/yellow] {error}")
