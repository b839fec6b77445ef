"""Signed, optionally expiring tokens for links sent to people (calendar feeds, invitations).

A token is base64url(JSON payload) "." base64url(HMAC-SHA256(secret, purpose + payload)): it
cannot be forged or reused for another purpose without the secret key, and it carries its own
expiry. Nothing is stored, so a link stays valid until it expires or the key changes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

from store.secrets import secret_key
from timetables.errors import PollflowError


class TokenError(PollflowError):
    """A link that is malformed, tampered with, meant for something else, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(purpose: str, body: str) -> str:
    return _b64(hmac.new(secret_key(), f"{purpose}.{body}".encode(), hashlib.sha256).digest())


def sign(purpose: str, payload: dict, expires: dt.datetime | None = None) -> str:
    data = dict(payload)
    if expires is not None:
        data["exp"] = int(expires.timestamp())
    body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(purpose, body)}"


def verify(purpose: str, token: str, now: dt.datetime | None = None) -> dict:
    try:
        body, mac = token.split(".")
    except ValueError as exc:
        raise TokenError("this link is not valid: it is incomplete") from exc
    if not hmac.compare_digest(mac, _mac(purpose, body)):
        raise TokenError("this link is not valid: it has been changed or is for something else")
    data = json.loads(_unb64(body))
    expires = data.pop("exp", None)
    moment = now or dt.datetime.now(dt.UTC)
    if expires is not None and moment.timestamp() > expires:
        raise TokenError("this link has expired: ask the elections office for a new one")
    return data
