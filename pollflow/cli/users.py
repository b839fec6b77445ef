"""People who sign in, and their access tokens, set up from the shell: `pollflow users ...` and
`pollflow tokens ...`. The first administrator is made here (`users create-admin`); after that the
workspace's Admin pages do the same, and these commands need an administrator's token."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import actor, console, store_session
from timetables import settings
from timetables.errors import PollflowError

users_app = typer.Typer(help="People who sign in to the workspace, and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal access tokens: the CLI acting as a person.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

NameOption = Annotated[str | None, typer.Option("--name", help="their full name (for someone new)")]


def _admin() -> str:
    """An administrator's token, or the machine's shell (the council's technical staff)."""
    return actor(permission="administer")


def _password(stdin: bool) -> str | None:
    if not stdin:
        return None
    text = sys.stdin.readline().rstrip("\n")
    if not text:
        raise PollflowError("--password-stdin read no password: pipe one line in")
    return text


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Argument(help="their email address (their sign-in)")],
    name: NameOption = None,
    password_stdin: Annotated[bool, typer.Option(help="read their password from standard input")] = False,
) -> None:
    """The first administrator (or another): given the administrator role, with a password from
    standard input or an invitation link to set one."""
    _add(email, name, ["administrator"], password_stdin, invite=not password_stdin)


@users_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="their email address (their sign-in)")],
    role: Annotated[list[str], typer.Option("--role", help="a role they hold (repeat for more)")],
    name: NameOption = None,
    invite: Annotated[bool, typer.Option(help="email them a link to set a password")] = False,
    password_stdin: Annotated[bool, typer.Option(help="read their password from standard input")] = False,
) -> None:
    """Add a person with roles, or give someone more roles."""
    _add(email, name, role, password_stdin, invite)


def _add(email: str, name: str | None, roles: list[str], password_stdin: bool, invite: bool) -> None:
    from store.identity.council import public_address
    from store.identity.credentials import set_password
    from store.people import add_person
    from tasks.messaging.accounts import queue_sign_in_link

    who = _admin()
    password = _password(password_stdin)
    with store_session() as session:
        person, changed = add_person(session, email, name, roles, who)
        if password is not None:
            set_password(session, person, password)
        link = queue_sign_in_link(session, person, "invitation", who) if invite else None
        address = public_address(session)
    out = console()
    out.print(
        f"{'Added' if changed else 'Unchanged'}: {person.name} <{person.email}>, roles {', '.join(roles)}."
    )
    if link:
        out.print(f"Invitation queued to {person.email} (delivered by `pollflow check` or the next run):")
        out.print(f"  {link}")
    out.print(f"Sign in at {address}/sign-in")


@users_app.command("list")
def list_users() -> None:
    """Everyone who can sign in, their roles, and how."""
    from rich.table import Table
    from sqlmodel import select

    from store.models import Account, Person
    from store.people import roles_of

    table = Table("email", "name", "roles", "password", "SSO", "active")
    with store_session() as session:
        accounts = {a.person_id: a for a in session.exec(select(Account)).all()}
        for person in session.exec(select(Person).order_by(Person.email)).all():
            account = accounts.get(person.id)
            table.add_row(
                person.email,
                person.name,
                ", ".join(sorted(roles_of(session, person))),
                "yes" if account and account.password_hash else "",
                "linked" if account and account.sso_subject else "",
                "yes" if person.active else "no",
            )
    console().print(table)


@users_app.command("roles")
def roles() -> None:
    """The council's roles and what each may do."""
    from rich.table import Table

    from store.identity.roles import all_roles

    table = Table("role", "name", "permissions")
    with store_session() as session:
        for role in all_roles(session):
            table.add_row(role.key, role.name, ", ".join(role.permissions) or "(none: signs in to nothing)")
    console().print(table)


@tokens_app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="whose token (their email)")],
    name: Annotated[str, typer.Option("--name", help="where it is used, e.g. 'laptop' or 'nightly import'")],
) -> None:
    """Make a token for a person; it is shown once. Someone else's needs an administrator."""
    from store.identity.tokens import create_token
    from store.people import find_person

    who = actor()
    with store_session() as session:
        person = find_person(session, email)
        if settings.token() and who != person.email:
            from store.identity.roles import require

            require(session, find_person(session, who), "administer")
        row, secret = create_token(session, person, name, who)
        from store.audit import record

        record(
            session, who, "token created", subject=person.email, details={"token": row.hint, "name": row.name}
        )
    out = console()
    out.print(f"Token for {person.email} ('{row.name}'); it is shown this once, so keep it safe:")
    print(secret)
    out.print("Use it with: export POLLFLOW_TOKEN=<the token>")


@tokens_app.command("list")
def list_tokens(
    email: Annotated[str | None, typer.Argument(help="one person's (default: everyone's)")] = None,
) -> None:
    """Tokens: whose, their name, when made, whether revoked (never the token itself)."""
    from rich.table import Table

    from store.identity.tokens import tokens_of
    from store.models import Person
    from store.people import find_person
    from timetables.clock import local

    table = Table("id", "person", "name", "starts", "created", "revoked")
    with store_session() as session:
        for row in tokens_of(session, find_person(session, email) if email else None):
            person = session.get(Person, row.person_id)
            revoked = f"{local(row.revoked_at):%d %b %Y %H:%M}" if row.revoked_at else ""
            table.add_row(
                str(row.id),
                person.email,
                row.name,
                row.hint + "…",
                f"{local(row.created_at):%d %b %Y %H:%M}",
                revoked,
            )
    console().print(table)


@tokens_app.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(help="the token's id (`pollflow tokens list`)")]) -> None:
    """Revoke a token: the CLI can no longer act with it. Someone else's needs an administrator."""
    from store.audit import record
    from store.identity.roles import require
    from store.identity.tokens import revoke as revoke_token
    from store.models import AccessToken, Person
    from store.people import find_person

    who = actor()
    with store_session() as session:
        row = session.get(AccessToken, token_id)
        if row is None:
            raise PollflowError(f"no access token {token_id}: `pollflow tokens list` shows them")
        owner = session.get(Person, row.person_id)
        if settings.token() and who != owner.email:
            require(session, find_person(session, who), "administer")
        was = row.revoked_at
        revoke_token(session, token_id)
        if was is None:
            record(session, who, "token revoked", subject=owner.email, details={"token": row.hint})
    console().print(f"Token {token_id} ({row.hint}…) of {owner.email} is revoked.")
