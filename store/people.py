"""People and their roles: imported from CSV, whole or not at all."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from store.audit import record
from store.models import ROLES, Person, PersonRole
from timetables.errors import PollflowError

# Deliberately simple: one @, a dot in the domain, no spaces. Delivery proves the rest.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
COLUMNS = ("name", "email", "phone", "roles")


class BadFileError(PollflowError):
    """A file refused whole, with every bad row named by line."""

    def __init__(self, path: str, problems: list[str]):
        self.problems = problems
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        super().__init__(f"{path}: nothing imported: {shown}")


@dataclass
class PersonRow:
    line: int
    name: str
    email: str
    phone: str | None
    roles: list[str] = field(default_factory=list)


def parse_roles(text: str) -> list[str]:
    return [r.strip().lower().replace(" ", "-") for r in re.split(r"[;|,]", text) if r.strip()]


def read_people_csv(path: str | Path) -> list[PersonRow]:
    """Every row checked; any problem refuses the whole file, naming each bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PollflowError(f"cannot read {path}: {exc.strerror}") from exc
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("name", "email", "roles") if c not in headers]
    if missing:
        raise PollflowError(
            f"{path}: missing column(s) {', '.join(missing)}: the columns are "
            f"{', '.join(COLUMNS)} (phone may be empty)"
        )
    problems: list[str] = []
    rows: list[PersonRow] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        name, email = row.get("name", ""), row.get("email", "").lower()
        phone = row.get("phone") or None
        roles = parse_roles(row.get("roles", ""))
        if not name:
            problems.append(f"line {n}: no name")
        if not EMAIL.match(email):
            problems.append(f"line {n}: '{email or '(empty)'}' is not a valid email address")
        elif email in seen:
            problems.append(f"line {n}: {email} already given on line {seen[email]}")
        else:
            seen[email] = n
        if phone and not PHONE.match(phone):
            problems.append(f"line {n}: phone '{phone}' is not a phone number")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            problems.append(f"line {n}: unknown role(s) {', '.join(unknown)}: roles are {', '.join(ROLES)}")
        if not roles:
            problems.append(f"line {n}: no roles")
        rows.append(PersonRow(n, name, email, phone, roles))
    if problems:
        raise BadFileError(str(path), problems)
    if not rows:
        raise PollflowError(f"{path}: no people in the file")
    return rows


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def save_people(session: Session, rows: list[PersonRow], actor: str = "import") -> ImportResult:
    """Add or update people by email; running the same file twice changes nothing."""
    result = ImportResult()
    existing = {p.email: p for p in session.exec(select(Person)).all()}
    roles_by_person: dict[int, set[str]] = {}
    for role in session.exec(select(PersonRole)).all():
        roles_by_person.setdefault(role.person_id, set()).add(role.role)
    for row in rows:
        person = existing.get(row.email)
        if person is None:
            person = Person(email=row.email, name=row.name, phone=row.phone)
            session.add(person)
            session.flush()
            current: set[str] = set()
            result.added += 1
            record(session, actor, "person added", subject=row.email, details={"roles": row.roles})
        else:
            current = roles_by_person.get(person.id, set())
            changed = (person.name, person.phone, person.active) != (row.name, row.phone, True)
            if changed or current != set(row.roles):
                person.name, person.phone, person.active = row.name, row.phone, True
                result.updated += 1
                record(
                    session,
                    actor,
                    "person updated",
                    subject=row.email,
                    details={"roles": row.roles},
                )
            else:
                result.unchanged += 1
        for role in set(row.roles) - current:
            session.add(PersonRole(person_id=person.id, role=role))
        for role in current - set(row.roles):
            for stale in session.exec(
                select(PersonRole).where(PersonRole.person_id == person.id, PersonRole.role == role)
            ):
                session.delete(stale)
    return result


def find_person(session: Session, email: str) -> Person:
    person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
    if person is None:
        raise PollflowError(f"no person with email {email}: add them with `pollflow people import`")
    return person


def roles_of(session: Session, person: Person) -> set[str]:
    return {r.role for r in session.exec(select(PersonRole).where(PersonRole.person_id == person.id))}
