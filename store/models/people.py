"""The council's team: people and the roles they hold (work is assigned by role)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.core import utcnow

# Roles a person can hold. Work is assigned by role.
ROLES = (
    "returning-officer",
    "deputy-returning-officer",
    "electoral-services-manager",
    "electoral-services-officer",
    "electoral-registration-officer",
    "staffing-officer",
    "postal-votes-officer",
    "finance-officer",
)
SIGNOFF_ROLES = ("returning-officer", "deputy-returning-officer")


class Person(SQLModel, table=True):
    __tablename__ = "person"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)  # stored lower-case
    name: str
    phone: str | None = None
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow)


class PersonRole(SQLModel, table=True):
    __tablename__ = "person_role"
    __table_args__ = (UniqueConstraint("person_id", "role"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(index=True)
