"""People and their roles: imported from CSV, whole or not at all."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlmodel import Session, select

from store.audit import record
from store.identity.roles import role_keys
from store.models import ROLES, Person, PersonRole
from store.tables import read_utf8_csv, shown
from timetables.errors import PollflowError

# Deliberately simple: one @, a dot in the domain, no spaces. Delivery proves the rest.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
COLUMNS = ("name", "email", "phone", "roles")
REQUIRED = ("name", "email", "roles")
SHOWN_PROBLEMS = 5


class BadFileError(PollflowError):
    """A file refused whole, with every bad row named by line."""

    def __init__(self, path: str, problems: list[str], lines: list[int] | None = None):
        self.problems = problems
        self.lines = sorted(set(lines or []))
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        if len(problems) > SHOWN_PROBLEMS:
            # Every bad line is still named, even where its problem is not spelt out.
            shown += f"; and {len(problems) - SHOWN_PROBLEMS} more"
            if self.lines:
                shown += f" (bad lines: {', '.join(str(n) for n in self.lines)})"
        super().__init__(f"{path}: nothing imported: {shown}")


@dataclass
class PersonRow:
    line: int
    name: str
    email: str
    phone: str | None
    roles: list[str] = field(default_factory=list)


def parse_roles(text: str) -> list[str]:
    """Roles separated by ';', '|' or ','; 'Returning Officer' reads as 'returning-officer'."""
    roles = (re.sub(r"[\s_]+", "-", r.strip().lower()) for r in re.split(r"[;|,]", text))
    return list(dict.fromkeys(r for r in roles if r))


_shown = partial(shown, limit=60)  # a value from the file, quoted in an error


def _valid_phone(phone: str) -> bool:
    return bool(PHONE.match(phone)) and 7 <= sum(c.isdigit() for c in phone) <= 15


def read_people_csv(path: str | Path) -> list[PersonRow]:
    """Every row checked; any problem refuses the whole file, naming each bad line."""
    return read_utf8_csv(path, f" {','.join(COLUMNS)}", "person", _read_rows)


def _read_rows(path: Path, text: str) -> list[PersonRow]:
    reader = csv.reader(io.StringIO(text))
    header = next((fields for fields in reader if any(f.strip() for f in fields)), [])
    headers = [h.strip().lower() for h in header]
    allowed = f"the columns are {', '.join(COLUMNS)} (phone may be empty)"
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        hint = ""
        if len(headers) == 1 and any(sep in headers[0] for sep in ";\t|"):
            hint = " (the header is one column: separate the columns with commas)"
        raise PollflowError(f"{path}: missing column(s) {', '.join(missing)}{hint}: {allowed}")
    unknown = [h or "(blank)" for h in headers if h not in COLUMNS]
    if unknown:
        raise PollflowError(f"{path}: unknown column(s) {', '.join(map(_shown, unknown))}: {allowed}")
    repeated = sorted({h for h in headers if headers.count(h) > 1})
    if repeated:
        raise PollflowError(f"{path}: column(s) {', '.join(repeated)} given twice: {allowed}")

    problems: list[str] = []
    bad_lines: list[int] = []
    rows: list[PersonRow] = []
    seen: dict[str, int] = {}
    roles_last = headers[-1] == "roles"
    start = reader.line_num + 1
    for fields in reader:
        n, start = start, reader.line_num + 1  # the line the row starts on
        if not any(f.strip() for f in fields):
            continue  # a blank line, or a spreadsheet's empty row
        found: list[str] = []
        if len(fields) > len(headers):
            if roles_last:  # roles separated by unquoted commas spill into more fields
                fields = fields[: len(headers) - 1] + [",".join(fields[len(headers) - 1 :])]
            else:
                found.append(f"{len(fields)} fields but {len(headers)} columns")
        row = dict(zip(headers, (f.strip() for f in fields), strict=False))
        name, email = row.get("name", ""), row.get("email", "").lower()
        phone = row.get("phone") or None
        roles = parse_roles(row.get("roles", ""))
        if not name:
            found.append("no name")
        elif any(c in name for c in "\r\n\t") or not name.isprintable():
            found.append(f"the name '{_shown(name)}' has a line break or control character: one line only")
        if not EMAIL.match(email):
            found.append(f"'{_shown(email) or '(empty)'}' is not a valid email address")
        elif email in seen:
            found.append(f"{email} is also on line {seen[email]}: give each person once")
        else:
            seen[email] = n
        if phone and not _valid_phone(phone):
            found.append(f"phone '{_shown(phone)}' is not a phone number")
        unknown_roles = [r for r in roles if r not in ROLES]
        if unknown_roles:
            found.append(
                f"unknown role(s) {', '.join(map(_shown, unknown_roles))}: roles are {', '.join(ROLES)}"
            )
        if not roles:
            found.append(f"no roles: roles are {', '.join(ROLES)}")
        if found:
            problems.extend(f"line {n}: {problem}" for problem in found)
            bad_lines.append(n)
        rows.append(PersonRow(n, name, email, phone, roles))
    if problems:
        raise BadFileError(str(path), problems, bad_lines)
    if not rows:
        raise PollflowError(f"{path}: no people in the file, only the header line")
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
        email = row.email.strip().lower()
        person = existing.get(email)
        if person is None:
            person = Person(email=email, name=row.name, phone=row.phone)
            session.add(person)
            session.flush()
            existing[email] = person
            roles_by_person[person.id] = set(row.roles)
            current: set[str] = set()
            result.added += 1
            record(session, actor, "person added", subject=email, details={"roles": row.roles})
        else:
            current = roles_by_person.get(person.id, set())
            roles_by_person[person.id] = set(row.roles)
            changed = (person.name, person.phone, person.active) != (row.name, row.phone, True)
            if changed or current != set(row.roles):
                person.name, person.phone, person.active = row.name, row.phone, True
                result.updated += 1
                record(
                    session,
                    actor,
                    "person updated",
                    subject=email,
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


def add_person(
    session: Session, email: str, name: str | None, roles: list[str], actor: str
) -> tuple[Person, bool]:
    """Add a person with roles, or give an existing one these roles (kept with theirs); (person,
    whether anything changed). Roles are the council's (store.identity.roles), checked here."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise PollflowError(f"'{email}' is not an email address")
    known = role_keys(session)
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise PollflowError(f"unknown role(s) {', '.join(unknown)}: roles are {', '.join(sorted(known))}")
    person = session.exec(select(Person).where(Person.email == email)).first()
    changed = False
    if person is None:
        name = " ".join((name or "").split())  # one line: a name goes in headers and calendars
        if not name:
            raise PollflowError(f"{email} is new: give their name (--name)")
        person = Person(email=email, name=name)
        session.add(person)
        session.flush()
        record(session, actor, "person added", subject=email, details={"roles": sorted(roles)})
        changed = True
    held = roles_of(session, person)
    added = sorted(set(roles) - held)
    for role in added:
        session.add(PersonRole(person_id=person.id, role=role))
    if added and not changed:
        record(session, actor, "person updated", subject=email, details={"roles added": added})
        changed = True
    return person, changed


def set_roles(session: Session, person: Person, roles: list[str], actor: str) -> bool:
    """Give a person exactly these roles (the admin page); whether anything changed."""
    known = role_keys(session)
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise PollflowError(f"unknown role(s) {', '.join(unknown)}: roles are {', '.join(sorted(known))}")
    held = roles_of(session, person)
    if held == set(roles):
        return False
    for row in session.exec(select(PersonRole).where(PersonRole.person_id == person.id)).all():
        if row.role not in roles:
            session.delete(row)
    for role in set(roles) - held:
        session.add(PersonRole(person_id=person.id, role=role))
    record(session, actor, "roles changed", subject=person.email, details={"roles": sorted(roles)})
    return True
