"""The council's team: people and the roles they hold (work is assigned by role)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.core import utcnow

# The default roles (store.identity.roles seeds them; an admin adds more or renames them): the
# eight the work catalogue assigns to, the two from the job descriptions, an administrator and poll
# clerks (who may sign in to nothing). Work is assigned by role key. Permissions: roles.PERMISSIONS.
_RO = ["view", "plan", "assign", "complete", "complete_others", "proof", "approve", "publish"]
_RO += ["manage_staff", "see_staff_contacts", "view_audit"]
_MANAGER = ["view", "plan", "assign", "complete", "complete_others", "proof", "manage_staff"]
_MANAGER += ["see_staff_contacts", "view_audit"]

DEFAULT_ROLES: dict[str, tuple[str, list[str]]] = {
    "returning-officer": ("Returning Officer", _RO),
    "deputy-returning-officer": ("Deputy Returning Officer", _RO),
    "head-of-electoral-services": (
        "Head of Electoral Services",
        [*_MANAGER, "export_bank_details", "administer"],
    ),
    "electoral-services-manager": ("Electoral Services Manager", [*_MANAGER, "administer"]),
    "deputy-electoral-services-manager": ("Deputy Electoral Services Manager", _MANAGER),
    "electoral-services-officer": (
        "Electoral Services Officer",
        ["view", "complete", "proof", "see_staff_contacts"],
    ),
    "electoral-registration-officer": (
        "Electoral Registration Officer",
        ["view", "complete", "proof", "view_audit"],
    ),
    "staffing-officer": ("Staffing Officer", ["view", "complete", "manage_staff", "see_staff_contacts"]),
    "postal-votes-officer": ("Postal Votes Officer", ["view", "complete", "proof"]),
    "finance-officer": ("Finance Officer", ["view", "complete", "see_staff_contacts", "export_bank_details"]),
    "administrator": ("Administrator", ["view", "view_audit", "administer"]),
    "poll-clerk": ("Poll clerk", []),
}
ROLES = tuple(DEFAULT_ROLES)
SIGNOFF_ROLES = ("returning-officer", "deputy-returning-officer")


class Person(SQLModel, table=True):
    __tablename__ = "person"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)  # stored lower-case
    name: str
    phone: str | None = None
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow)
    # How they prefer to hear (tasks/messaging/policy.py HEAR_BY), within what the policy requires.
    hear_by: str = Field(default="email", max_length=20, sa_column_kwargs={"server_default": "email"})
    webhook_url: str | None = Field(default=None, max_length=500)  # their own Teams or Slack webhook


class PersonRole(SQLModel, table=True):
    __tablename__ = "person_role"
    __table_args__ = (UniqueConstraint("person_id", "role"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(index=True)
