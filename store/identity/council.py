"""The council's details, in one place: name, Returning Officer, contact details, and the public
address of the workspace. Until an administrator saves them, the name comes from the staffing
configuration (config/staffing.yaml or the council's own), as it always has."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.models import Council, utcnow
from store.staff.config import example_council, staffing_rules
from timetables import settings
from timetables.errors import PollflowError

FIELDS = ("name", "returning_officer", "address", "email", "phone", "public_url")


def council(session: Session) -> Council | None:
    return session.scalars(select(Council).order_by(Council.id)).first()


def council_name(session: Session) -> str:
    saved = council(session)
    if saved is not None:
        return saved.name
    return staffing_rules().council.name


def public_address(session: Session) -> str:
    """Where people reach the workspace, for every link pollflow sends: the address an
    administrator saved with the council's details, else POLLFLOW_PUBLIC_URL's."""
    return _address(council(session))


def _address(saved: Council | None) -> str:
    return ((saved.public_url if saved is not None else None) or settings.public_url()).rstrip("/")


def not_ready_to_send(session: Session) -> list[str]:
    """Why messages to people outside the council's own team (temporary staff) must not go yet:
    the council's details are still pollflow's example, or links would point at this machine.
    Empty when they may go."""
    problems = []
    saved = council(session)
    if saved is None and staffing_rules().council == example_council():
        problems.append(f"the council's details are pollflow's example ({example_council().name})")
    address = _address(saved)
    if _loopback(address) and not settings.local_links_allowed():
        problems.append(f"links would point at {address}, which only this machine can reach")
    return problems


def require_ready_to_send(session: Session, audience: str) -> None:
    """The pre-flight check before messages go to ``audience``: one line saying what to set."""
    problems = not_ready_to_send(session)
    if problems:
        raise PollflowError(
            f"not sending to {audience}: {' and '.join(problems)}; an administrator sets the "
            "council's details and the workspace's public address under Admin, The council's "
            "details (or POLLFLOW_PUBLIC_URL)"
        )


def _loopback(address: str) -> bool:
    host = (urlsplit(address).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def council_details(session: Session) -> dict:
    """What staff emails, letters and pages say about the council: the details an administrator
    saved in the workspace, and for anything not saved there, the staffing configuration's."""
    details = staffing_rules().council.model_dump()
    saved = council(session)
    if saved is not None:
        for key in ("name", "returning_officer", "address", "email", "phone"):
            if getattr(saved, key):
                details[key] = getattr(saved, key)
    return details


def save_council(session: Session, values: dict, actor: str) -> Council:
    clean = {k: " ".join(str(values.get(k) or "").split()) or None for k in FIELDS}
    lines = [line.strip() for line in str(values.get("address") or "").splitlines() if line.strip()]
    clean["address"] = "\n".join(lines) or None  # an address keeps its lines
    if not clean["name"]:
        raise PollflowError("the council's name is needed")
    url = clean["public_url"]
    if url and not url.startswith(("https://", "http://")):
        raise PollflowError(
            "the workspace's public address must start https:// (or http:// on a test machine)"
        )
    row = council(session)
    if row is None:
        row = Council(**clean)
        session.add(row)
    else:
        for key, value in clean.items():
            setattr(row, key, value)
    row.updated_at, row.updated_by = utcnow(), actor
    record(session, actor, "council details saved", details={k: v for k, v in clean.items() if v})
    session.flush()
    return row
