"""Admin (administer): people and their roles, the council's roles and permissions, the
council's details in one place, and every access token.

GET  /admin/people                   everyone, and a form to add someone (and invite them)
POST /admin/people                   add (or give more roles to) a person; invite by email
GET  /admin/people/{id}              one person: roles, active, invitation or reset link
POST /admin/people/{id}              save their roles and whether they are active
POST /admin/people/{id}/invite       email them an invitation (or a reset link if they have a password)
GET  /admin/roles, POST /admin/roles add or rename a role and set its permissions
GET  /admin/council, POST            the council's name, RO, contact details, workspace address
GET  /admin/tokens                   every token; POST /admin/tokens/{id}/revoke
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select
from starlette.exceptions import HTTPException

from pollflow.web.render import page, sentence
from pollflow.web.session import Id, form_of, need
from store.audit import record
from store.db import session_scope
from store.identity.acting import acting_as
from store.models import Account, Person
from timetables.errors import PollflowError

NOTICES = {
    "added": "Saved.",
    "saved": "Saved.",
    "invited": "The email is queued: it goes with the next delivery.",
    "revoked": "Token revoked.",
}


def _people_page(request, session, status=200, **context) -> Response:
    from store.identity.roles import all_roles
    from store.people import roles_of

    people = session.scalars(select(Person).order_by(Person.name)).all()
    accounts = {a.person_id: a for a in session.scalars(select(Account)).all()}
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page(
        request,
        "admin_people.html.j2",
        status=status,
        title="People",
        people=people,
        accounts=accounts,
        roles_of=lambda p: sorted(roles_of(session, p)),
        roles=all_roles(session),
        **context,
    )


def _roles_chosen(form: dict) -> list[str]:
    return [r for r in form.get("roles", "").split("\n") if r]


router = APIRouter()


@router.get("/admin/people")
def people(request: Request, notice: str | None = None, viewer=need("administer")) -> Response:
    with session_scope() as session:
        return _people_page(request, session, notice=NOTICES.get(notice or ""))


@router.post("/admin/people")
async def add(request: Request, viewer=need("administer")) -> Response:
    from store.people import add_person
    from tasks.messaging.accounts import queue_sign_in_link

    form = await form_of(request, viewer)
    roles = _roles_chosen(form)
    with session_scope() as session, acting_as(viewer.actor()):
        errors = {}
        if not form.get("email", "").strip():
            errors["email"] = "Enter their email address"
        if not roles:
            errors["roles"] = "Choose at least one role"
        if not errors:
            try:
                person, _ = add_person(session, form.get("email", ""), form.get("name"), roles, viewer.email)
                if form.get("invite"):
                    queue_sign_in_link(session, person, "invitation", viewer.email)
            except PollflowError as exc:
                errors["email"] = sentence(str(exc))
        if errors:
            session.rollback()
            return _people_page(request, session, status=400, errors=errors, values=form)
    return RedirectResponse(f"/admin/people?notice={'invited' if form.get('invite') else 'added'}", 303)


@router.get("/admin/people/{person_id}")
def person_page(
    request: Request, person_id: Id, notice: str | None = None, viewer=need("administer")
) -> Response:
    from store.identity.roles import all_roles
    from store.people import roles_of

    with session_scope() as session:
        person = session.get(Person, person_id)
        if person is None:
            raise HTTPException(404)
        account = session.scalars(select(Account).where(Account.person_id == person.id)).first()
        return page(
            request,
            "admin_person.html.j2",
            title=person.name,
            person=person,
            account=account,
            held=roles_of(session, person),
            roles=all_roles(session),
            notice=NOTICES.get(notice or ""),
            errors={},
        )


@router.post("/admin/people/{person_id}")
async def save_person(request: Request, person_id: Id, viewer=need("administer")) -> Response:
    from store.people import set_roles

    form = await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        person = session.get(Person, person_id)
        if person is None:
            raise HTTPException(404)
        roles = _roles_chosen(form)
        if person.id == viewer.person_id and not form.get("active"):
            raise PollflowError("you cannot make yourself inactive: ask another administrator")
        set_roles(session, person, roles, viewer.email)
        active = bool(form.get("active"))
        if active != person.active:
            person.active = active
            record(
                session,
                viewer.email,
                "person activated" if active else "person deactivated",
                subject=person.email,
            )
    return RedirectResponse(f"/admin/people/{person_id}?notice=saved", 303)


@router.post("/admin/people/{person_id}/invite")
async def invite(request: Request, person_id: Id, viewer=need("administer")) -> Response:
    from tasks.messaging.accounts import queue_sign_in_link

    await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        person = session.get(Person, person_id)
        if person is None:
            raise HTTPException(404)
        account = session.scalars(select(Account).where(Account.person_id == person.id)).first()
        purpose = "reset" if account is not None and account.password_hash else "invitation"
        queue_sign_in_link(session, person, purpose, viewer.email)
        record(session, viewer.email, f"{purpose} link sent", subject=person.email)
    return RedirectResponse(f"/admin/people/{person_id}?notice=invited", 303)


@router.get("/admin/roles")
def roles(request: Request, notice: str | None = None, viewer=need("administer")) -> Response:
    from store.identity.roles import PERMISSIONS, all_roles

    with session_scope() as session:
        return page(
            request,
            "admin_roles.html.j2",
            title="Roles",
            roles=all_roles(session),
            permissions=PERMISSIONS,
            notice=NOTICES.get(notice or ""),
            errors={},
            values={},
        )


@router.post("/admin/roles")
async def save_role(request: Request, viewer=need("administer")) -> Response:
    from store.identity.roles import PERMISSIONS, all_roles
    from store.identity.roles import save_role as save

    form = await form_of(request, viewer)
    chosen = [p for p in form.get("permissions", "").split("\n") if p]
    with session_scope() as session, acting_as(viewer.actor()):
        try:
            role = save(session, form.get("key", ""), form.get("name", ""), chosen)
        except PollflowError as exc:
            session.rollback()
            return page(
                request,
                "admin_roles.html.j2",
                status=400,
                title="Roles",
                roles=all_roles(session),
                permissions=PERMISSIONS,
                errors={"key": sentence(str(exc))},
                values=form,
                notice=None,
            )
        record(
            session,
            viewer.email,
            "role saved",
            subject=role.key,
            details={"name": role.name, "permissions": role.permissions},
        )
    return RedirectResponse("/admin/roles?notice=saved", 303)


@router.get("/admin/council")
def council_page(request: Request, notice: str | None = None, viewer=need("administer")) -> Response:
    from store.identity.council import council, council_name

    with session_scope() as session:
        row = council(session)
        values = row.model_dump() if row else {"name": council_name(session)}
        return page(
            request,
            "admin_council.html.j2",
            title="The council's details",
            values=values,
            errors={},
            notice=NOTICES.get(notice or ""),
        )


@router.post("/admin/council")
async def save_council(request: Request, viewer=need("administer")) -> Response:
    from store.identity.council import save_council as save

    form = await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        try:
            save(session, form, viewer.email)
        except PollflowError as exc:
            session.rollback()
            return page(
                request,
                "admin_council.html.j2",
                status=400,
                title="The council's details",
                values=form,
                errors={"name": sentence(str(exc))},
                notice=None,
            )
    return RedirectResponse("/admin/council?notice=saved", 303)


@router.get("/admin/tokens")
def tokens(request: Request, notice: str | None = None, viewer=need("administer")) -> Response:
    from store.identity.tokens import tokens_of

    with session_scope() as session:
        people = {p.id: p for p in session.scalars(select(Person)).all()}
        return page(
            request,
            "admin_tokens.html.j2",
            title="Access tokens",
            tokens=tokens_of(session),
            people=people,
            notice=NOTICES.get(notice or ""),
        )


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke(request: Request, token_id: Id, viewer=need("administer")) -> Response:
    from store.identity.tokens import revoke as revoke_token

    await form_of(request, viewer)
    with session_scope() as session, acting_as(viewer.actor()):
        row = revoke_token(session, token_id)
        record(session, viewer.email, "token revoked", details={"token": row.hint, "id": row.id})
    return RedirectResponse("/admin/tokens?notice=revoked", 303)


def register(app: FastAPI) -> None:
    app.include_router(router)
