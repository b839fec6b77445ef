"""The council's roles and what each may do.

Roles are rows (an admin adds or renames them); the default set (store.models.people) is seeded by
the identity migration: the eight roles the work catalogue assigns to, the two from the job descriptions
(Head of Electoral Services, Deputy Electoral Services Manager), an administrator and a poll
clerk (temporary staff who may sign in to nothing but their own answers). Permissions attach to
roles; a person may do what any of their roles allows.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session

from store.models import DEFAULT_ROLES, Person, PersonRole, Role
from timetables.errors import PollflowError

PERMISSIONS = {
    "view": "see the plan, the timetable and the work",
    "plan": "plan and replan polls",
    "assign": "reassign work to someone else",
    "complete": "complete their own work",
    "complete_others": "complete work assigned to someone else",
    "proof": "proof-check documents",
    "approve": "approve documents (the Returning Officer and deputies)",
    "publish": "publish approved documents (the Returning Officer and deputies)",
    "manage_staff": "recruit, allocate and pay poll staff",
    "see_staff_contacts": "see poll staff's contact details",
    "export_bank_details": "export poll staff's bank details for payroll",
    "view_audit": "search and export the audit trail",
    "administer": "manage people, roles, the council's details and tokens",
}


class PermissionDenied(PollflowError):
    """A person asked to do what none of their roles allows."""


def seed_roles(session: Session) -> int:
    """Add the default roles that are missing (never changes one an admin has edited)."""
    have = set(session.scalars(select(Role.key)).all())
    added = 0
    for key, (name, permissions) in DEFAULT_ROLES.items():
        if key not in have:
            session.add(Role(key=key, name=name, permissions=list(permissions)))
            added += 1
    session.flush()
    return added


def all_roles(session: Session) -> list[Role]:
    return list(session.scalars(select(Role).order_by(Role.name)).all())


def role_keys(session: Session) -> set[str]:
    return set(session.scalars(select(Role.key)).all())


def permissions_of(session: Session, person: Person) -> set[str]:
    if not person.active:
        return set()
    rows = session.scalars(
        select(Role.permissions)
        .join(PersonRole, PersonRole.role == Role.key)
        .where(PersonRole.person_id == person.id)
    ).all()
    return {p for perms in rows for p in perms}


def require(session: Session, person: Person, permission: str) -> None:
    if permission not in permissions_of(session, person):
        raise PermissionDenied(
            f"{person.email} may not {PERMISSIONS[permission]}: none of their roles allows it "
            "(an administrator can change roles under Admin > People)"
        )


def may_complete(permissions: set[str], person_id: int, item) -> bool:
    """Whether someone with these permissions may record this work done: their own with
    ``complete``, anyone's with ``complete_others`` (the CLI and the workspace ask the same)."""
    return "complete_others" in permissions or (item.owner_id == person_id and "complete" in permissions)


def save_role(session: Session, key: str, name: str, permissions: list[str]) -> Role:
    """Add a role or change one's name and permissions; refuses unknown permissions or a bad key."""
    key, name = key.strip().lower(), " ".join(name.split())
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,79}", key):
        raise PollflowError(
            f"role key '{key}' is not allowed: use 2 to 80 lower-case letters, digits and dashes"
        )
    if not name or len(name) > 200:
        raise PollflowError("a role needs a name of 1 to 200 characters")
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown:
        raise PollflowError(
            f"unknown permission(s) {', '.join(unknown)}: permissions are {', '.join(PERMISSIONS)}"
        )
    role = session.scalars(select(Role).where(Role.key == key)).first()
    if role is None:
        role = Role(key=key, name=name, permissions=sorted(set(permissions)))
        session.add(role)
    else:
        role.name, role.permissions = name, sorted(set(permissions))
    session.flush()
    return role
