"""``pollflow audit``: a poll's trail (``pollflow audit ELECTION_ID``, in pollflow/cli/work.py) and
``pollflow audit verify``, which walks the whole trail's hash chain (store/audit.py) and names each
entry rewritten, deleted, moved or backdated outside pollflow."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from typer.core import TyperGroup

from pollflow.cli import app
from pollflow.cli.options import store_session
from timetables.errors import PollflowError


class _TrailOrCommand(TyperGroup):
    """``pollflow audit ELECTION_ID`` lists a poll's trail, as it always has; a first word that
    names a command of the group (``verify``) runs that instead. An election id never does."""

    def parse_args(self, ctx, args):
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


audit_app = typer.Typer(
    cls=_TrailOrCommand,
    help="The audit trail: `pollflow audit ELECTION_ID` lists a poll's; `pollflow audit verify` "
    "checks that no entry has been changed, removed, moved or backdated.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


def _published(head: str | None) -> tuple[int, str] | None:
    if head is None:
        return None
    ident, _, digest = head.partition(":")
    if not ident.isdigit() or len(digest) != 64:
        raise PollflowError(f"--head '{head}': give it as ID:HASH, as `pollflow audit verify` printed it")
    return int(ident), digest.lower()


@audit_app.command()
def verify(
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="ID:HASH of the chain's head printed on an earlier day and kept elsewhere: the trail "
            "must still hold it (catches entries deleted from the end, or a re-hashed chain)",
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Walk the whole audit trail's hash chain; one line per entry not as it was written.
    Exits 0 when the trail is intact, 1 when it has been tampered with. Prints the chain's head
    (the last id and hash): keep it somewhere else, daily, to check against with --head."""
    from store.audit import verify as walk

    if format not in ("text", "json"):
        raise PollflowError(f"unknown format '{format}': formats are text, json")
    published = _published(head)
    with store_session() as session:
        verdict = walk(session, published)
    if format == "json":
        print(
            json.dumps(
                {
                    "intact": verdict.intact,
                    "entries": verdict.entries,
                    "head": {"id": verdict.head_id, "hash": verdict.head_hash},
                    "problems": [
                        {"id": p.id, "kind": p.kind, "explanation": p.explanation} for p in verdict.problems
                    ],
                },
                indent=2,
            )
        )
    else:
        for problem in verdict.problems:
            print(problem)
        if verdict.intact:
            print(f"audit trail intact: {verdict.entries} entries")
        else:
            count = len(verdict.problems)
            problems = f"{count} problem{'s' * (count != 1)}"
            print(f"audit trail TAMPERED WITH: {problems} in {verdict.entries} entries")
        head_line = f"{verdict.head_id}:{verdict.head_hash}" if verdict.head_id else "none (no entries)"
        print(f"head: {head_line}")
    if not verdict.intact:
        raise typer.Exit(1)  # exit status 1 is the answer a scheduled check acts on
