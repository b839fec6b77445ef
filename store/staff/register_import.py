"""Importing the staff register: the people who may be invited to work at a poll, their roles,
experience, preferences and (for payroll) bank details and National Insurance numbers.

Every row is checked and every bad row reported with its line and why (store/tables.py); nothing
is written unless the whole file is good or the user asks to skip bad rows. Bank details and NI
numbers are stored encrypted (store/staff_crypto.py) and never quoted in a message: the message
names the column only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from store.audit import record
from store.models import utcnow
from store.models.staff import STAFF_ROLES, StaffMember
from store.staff.crypto import encrypt_sensitive, read_sensitive
from store.tables import (
    ImportRefused,
    Problem,
    assign,
    check_grid,
    check_postcode,
    differs,
    normalise_header,
    read_table,
    shown,
)
from timetables.errors import PollflowError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
NI_NUMBER = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")

STAFF_COLUMNS = (
    "name",
    "email",
    "phone",
    "roles",
    "address",
    "postcode",
    "easting",
    "northing",
    "experience",
    "performance",
    "notes",
    "preferred_area",
    "preferred_stations",
    "preferred_colleagues",
    "payroll_ref",
    "active",
    "ni_number",
    "sort_code",
    "account_number",
    "account_name",
)
STAFF_REQUIRED = ("name", "email", "roles")
SENSITIVE = ("ni_number", "sort_code", "account_number", "account_name")
ROLE_ALIASES = {
    "po": "presiding-officer",
    "presiding": "presiding-officer",
    "pc": "poll-clerk",
    "clerk": "poll-clerk",
    "pollclerk": "poll-clerk",
    "inspector": "polling-station-inspector",
    "psi": "polling-station-inspector",
    "postal-opener": "postal-vote-opener",
    "postal-votes-opener": "postal-vote-opener",
    "opener": "postal-vote-opener",
    "count": "count-assistant",
    "counter": "count-assistant",
    "count-staff": "count-assistant",
    "supervisor": "count-supervisor",
}
HEADERS = frozenset(normalise_header(c) for c in STAFF_COLUMNS)  # to find the header line
PERFORMANCE = ("", "good", "concern")
TRUE = ("yes", "y", "true", "1", "active")
FALSE = ("no", "n", "false", "0", "inactive", "left")


def parse_staff_roles(text: str) -> tuple[list[str], list[str]]:
    """('Presiding Officer; PC') -> (['presiding-officer', 'poll-clerk'], unknown)."""
    roles, unknown = [], []
    for part in re.split(r"[;|,/]", text or ""):
        name = re.sub(r"[\s_]+", "-", part.strip().lower())
        if not name:
            continue
        name = ROLE_ALIASES.get(name, ROLE_ALIASES.get(name.replace("-", ""), name))
        (roles if name in STAFF_ROLES else unknown).append(name if name in STAFF_ROLES else part.strip())
    return list(dict.fromkeys(roles)), unknown


def parse_experience(text: str, found: list[str]) -> dict[str, int]:
    """'presiding-officer:4; poll-clerk:2' (polls worked in each role), or a number of polls."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.isdigit():
        return {"any": int(text)}
    out: dict[str, int] = {}
    for part in re.split(r"[;|,]", text):
        if not part.strip():
            continue
        role_text, sep, count = part.rpartition(":")
        roles, unknown = parse_staff_roles(role_text)
        if not sep or not count.strip().isdigit() or unknown or len(roles) != 1:
            found.append(
                f"experience '{shown(part)}' is not ROLE:POLLS (e.g. presiding-officer:4; poll-clerk:2)"
            )
            continue
        out[roles[0]] = out.get(roles[0], 0) + int(count.strip())
    return out


@dataclass
class StaffRecord:
    line: int
    values: dict
    sensitive: dict[str, str]  # only what the row gave


@dataclass
class StaffFile:
    path: Path
    rows: int
    records: list[StaffRecord]
    skipped: list[Problem] = field(default_factory=list)
    has_active: bool = False


def read_staff(path: str | Path, skip_bad_rows: bool = False) -> StaffFile:
    table = read_table(path, HEADERS)
    aliases = {normalise_header(c): c for c in STAFF_COLUMNS}
    missing = [c for c in STAFF_REQUIRED if normalise_header(c) not in table.headers]
    allowed = f"the columns are {', '.join(STAFF_COLUMNS)} (name, email and roles required)"
    if missing:
        raise PollflowError(f"{table.path}: missing column(s) {', '.join(missing)}: {allowed}")
    unknown = [h for h in table.headers if h and h not in aliases]
    if unknown:
        raise PollflowError(f"{table.path}: unknown column(s) {', '.join(unknown)}: {allowed}")
    if not table.rows:
        raise PollflowError(f"{table.path}: no people in the file, only the header line")
    problems: list[Problem] = []
    records: list[StaffRecord] = []
    seen: dict[str, int] = {}
    for line, raw in table.rows:
        row = {aliases[h]: v for h, v in raw.items() if h in aliases}
        found: list[str] = []
        if "__extra__" in raw:
            found.append(raw["__extra__"])
        values = _staff_values(row, found)
        email = values.get("email", "")
        if email and email in seen:
            found.append(f"{email} is also on line {seen[email]}: give each person once")
        sensitive = _sensitive_values(row, found)
        if found:
            problems.extend(Problem(line, r, table.row_word) for r in found)
            continue
        seen[email] = line
        records.append(StaffRecord(line, values, sensitive))
    if problems and not skip_bad_rows:
        raise ImportRefused(str(table.path), problems)
    if not records:
        raise PollflowError(f"{table.path}: no good rows: nothing to import ({len(problems)} bad)")
    return StaffFile(Path(path), len(table.rows), records, problems, "active" in table.headers)


def _staff_values(row: dict[str, str], found: list[str]) -> dict:
    name = row.get("name", "")
    email = row.get("email", "").lower()
    if not name:
        found.append("no name")
    if not EMAIL.match(email):
        found.append(f"'{shown(email) or '(empty)'}' is not a valid email address")
    phone = row.get("phone") or None
    if phone and not (PHONE.match(phone) and 7 <= sum(c.isdigit() for c in phone) <= 15):
        found.append(f"phone '{shown(phone)}' is not a phone number")
    roles, unknown = parse_staff_roles(row.get("roles", ""))
    if unknown:
        found.append(f"unknown role(s) {', '.join(map(shown, unknown))}: roles are {', '.join(STAFF_ROLES)}")
    elif not roles:
        found.append(f"no roles: roles are {', '.join(STAFF_ROLES)}")
    postcode = check_postcode(row.get("postcode", ""), "postcode", found)
    easting, northing = check_grid(row, "easting", "northing", found)
    performance = row.get("performance", "").lower()
    if performance not in PERFORMANCE:
        found.append(f"performance '{shown(performance)}' is not one of good, concern (or empty)")
    active_text = row.get("active", "").lower()
    if active_text and active_text not in TRUE + FALSE:
        found.append(f"active '{shown(active_text)}' is not yes or no")
    colleagues = [
        c.strip().lower() for c in re.split(r"[;|,]", row.get("preferred_colleagues", "")) if c.strip()
    ]
    bad_colleagues = [c for c in colleagues if not EMAIL.match(c)]
    if bad_colleagues:
        found.append(f"preferred_colleagues: '{shown(bad_colleagues[0])}' is not an email address")
    if email in colleagues:
        found.append("preferred_colleagues names the person themselves")
    return dict(
        email=email,
        name=name,
        phone=phone,
        address=row.get("address", ""),
        postcode=postcode,
        easting=easting,
        northing=northing,
        roles=roles,
        experience=parse_experience(row.get("experience", ""), found),
        performance=performance,
        notes=row.get("notes", ""),
        preferred_area=row.get("preferred_area") or None,
        preferred_stations=[
            s.strip() for s in re.split(r"[;|,]", row.get("preferred_stations", "")) if s.strip()
        ],
        preferred_colleagues=colleagues,
        payroll_ref=row.get("payroll_ref") or None,
        active=active_text not in FALSE,
    )


def _sensitive_values(row: dict[str, str], found: list[str]) -> dict[str, str]:
    """Bank details and NI number, checked without ever quoting them."""
    out: dict[str, str] = {}
    ni = re.sub(r"\s+", "", row.get("ni_number", "")).upper()
    if ni:
        if NI_NUMBER.match(ni):
            out["ni_number"] = ni
        else:
            found.append("ni_number is not a National Insurance number like AB123456C (value not shown)")
    sort_code = re.sub(r"[\s-]+", "", row.get("sort_code", ""))
    account = re.sub(r"\s+", "", row.get("account_number", ""))
    account_name = row.get("account_name", "").strip()
    if sort_code or account or account_name:
        if not re.fullmatch(r"[0-9]{6}", sort_code):
            found.append("sort_code is not 6 digits (value not shown)")
        if not re.fullmatch(r"[0-9]{8}", account):
            found.append("account_number is not 8 digits (value not shown)")
        if not account_name:
            found.append("account_name is missing: give the name on the account with the bank details")
        if re.fullmatch(r"[0-9]{6}", sort_code) and re.fullmatch(r"[0-9]{8}", account) and account_name:
            out.update(sort_code=sort_code, account_number=account, account_name=account_name)
    return out


@dataclass
class StaffSaveResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    sensitive_stored: int = 0


def save_staff(session: Session, parsed: StaffFile, actor: str) -> StaffSaveResult:
    """Add or update staff by email; running the same file twice changes nothing. Blank bank or
    NI columns leave what is stored; given ones replace it (encrypted)."""
    result = StaffSaveResult()
    now = utcnow()
    existing = {m.email: m for m in session.exec(select(StaffMember)).all()}
    for rec in parsed.records:
        values = dict(rec.values)
        if not parsed.has_active:
            values.pop("active")  # a file without the column leaves people as they are
        member = existing.get(values["email"])
        if member is None:
            member = StaffMember(**values)
            session.add(member)
            existing[member.email] = member
            result.added.append(member.email)
        elif differs(member, values):
            assign(member, values, now)
            result.updated.append(member.email)
        else:
            result.unchanged += 1
        if rec.sensitive:
            current = read_sensitive(member) if member.sensitive else {}
            wanted = {**current, **rec.sensitive}
            if wanted != current:
                member.sensitive = encrypt_sensitive(wanted)
                member.sensitive_given_at, member.sensitive_purged_at = now, None
                member.updated_at = now
                result.sensitive_stored += 1
                if member.email not in result.added and member.email not in result.updated:
                    result.updated.append(member.email)
                    result.unchanged -= 1
    if result.added or result.updated:
        record(
            session,
            actor,
            "staff imported",
            subject=parsed.path.name,
            # Who changed, never what their bank details are.
            details={
                "added": result.added,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "bank_or_ni_details_stored": result.sensitive_stored,
                "skipped_rows": [p.line for p in parsed.skipped],
            },
        )
    return result
