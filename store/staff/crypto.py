"""Bank details and National Insurance numbers: encrypted at rest, never shown, purged on time.

They are kept (if a council gives them at all) as one Fernet token (AES-128-CBC with an
HMAC-SHA256, from the ``cryptography`` package) in ``staff_member.sensitive``. The key is derived
from pollflow's secret key (POLLFLOW_SECRET_KEY, or the one generated in POLLFLOW_HOME) with
HKDF, for this purpose only, so a database copy alone reveals nothing. Losing or changing the
secret key makes what is stored unreadable: give the details again.

Retention (config/staffing.yaml ``retention.sensitive_data_days``): they are deleted that many
days after the polling day of the last poll the person was appointed to, or after they were given
if the person was never appointed. ``purge_due`` does it; ``pollflow staff purge`` and the
purge-staff-data flow run it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select
from sqlmodel import Session

from store.audit import record
from store.models import Poll, utcnow
from store.models.staff import StaffMember, StaffOffer, StaffPost
from store.secrets import secret_key
from timetables.errors import PollflowError


class SensitiveDataError(PollflowError):
    """Stored bank or NI details that cannot be read with the current secret key."""


@cache
def _fernet(secret: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"pollflow-staff", info=b"sensitive").derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def _cipher() -> Fernet:
    return _fernet(secret_key())


def encrypt_sensitive(values: dict[str, str]) -> str:
    return _cipher().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def read_sensitive(member: StaffMember) -> dict[str, str]:
    """The decrypted details: for the payroll export only. Never log or print them."""
    if not member.sensitive:
        return {}
    try:
        return json.loads(_cipher().decrypt(member.sensitive.encode()))
    except InvalidToken as exc:
        raise SensitiveDataError(
            f"the bank/NI details of {member.email} cannot be decrypted with the current secret key "
            "(POLLFLOW_SECRET_KEY changed?): import them again"
        ) from exc


def masked(values: dict[str, str]) -> dict[str, str]:
    """What a person may be shown: the last digits only."""
    out = {}
    if "account_number" in values:
        out["account_number"] = "****" + values["account_number"][-4:]
    if "sort_code" in values:
        out["sort_code"] = "**-**-" + values["sort_code"][-2:]
    if "ni_number" in values:
        out["ni_number"] = "******" + values["ni_number"][-3:]
    return out


@dataclass
class Purge:
    as_of: dt.datetime
    purged: list[str] = field(default_factory=list)  # emails
    kept: int = 0  # still within their retention period


def purge_due(
    session: Session, as_of: dt.datetime, retention_days: int, actor: str, dry_run: bool = False
) -> Purge:
    """Delete bank and NI details whose retention period has ended. Idempotent."""
    result = Purge(as_of)
    last_poll = dict(
        session.execute(
            select(StaffPost.staff_id, func.max(Poll.poll_date))
            .join(Poll, Poll.id == StaffPost.poll_id)
            .join(
                StaffOffer, (StaffOffer.post_id == StaffPost.id) & (StaffOffer.staff_id == StaffPost.staff_id)
            )
            .where(StaffOffer.status == "accepted")
            .group_by(StaffPost.staff_id)
        ).all()
    )
    holders = session.scalars(select(StaffMember).where(StaffMember.sensitive.is_not(None))).all()
    for member in holders:
        worked = last_poll.get(member.id)
        start = (
            dt.datetime.combine(worked, dt.time(), tzinfo=dt.UTC)
            if worked
            else (member.sensitive_given_at or member.created_at)
        )
        if as_of >= start + dt.timedelta(days=retention_days):
            result.purged.append(member.email)
            if not dry_run:
                member.sensitive, member.sensitive_purged_at, member.updated_at = None, utcnow(), utcnow()
        else:
            result.kept += 1
    if result.purged and not dry_run:
        record(
            session,
            actor,
            "staff bank and NI details purged",
            details={"people": result.purged, "retention_days": retention_days, "as_of": as_of.isoformat()},
        )
    return result
