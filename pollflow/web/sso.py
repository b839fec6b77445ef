"""Single sign-on with OpenID Connect (Microsoft Entra ID, or any OIDC provider), through
authlib: the authorization-code flow with PKCE, a state and a nonce held in a signed cookie for
ten minutes, and the ID token's signature, issuer, audience, expiry and nonce checked (joserfc)
against the provider's published keys.

Signing in never creates a person: the identity is matched to someone already in the team, by
its subject once linked, else by its verified email (then linked).
"""

from __future__ import annotations

import logging
import secrets
from functools import cache

import requests
from itsdangerous import BadSignature, URLSafeTimedSerializer

from timetables import settings
from timetables.errors import PollflowError

COOKIE = "pollflow_sso"
log = logging.getLogger("pollflow.web")
LIFETIME = 600


class SSOError(PollflowError):
    """Single sign-on did not prove who this is; the message is safe to show."""


@cache
def metadata(issuer: str) -> dict:
    try:
        answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        answer.raise_for_status()
        return answer.json()
    except (requests.RequestException, ValueError) as exc:
        metadata.cache_clear()
        raise SSOError(
            "the sign-in provider did not answer: try again, or sign in with your password"
        ) from exc


def _signer() -> URLSafeTimedSerializer:
    from store.secrets import secret_key

    return URLSafeTimedSerializer(secret_key(), salt="pollflow-sso")


def _client(config: dict):
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(
        config["client_id"],
        config["client_secret"] or None,
        scope="openid email profile",
        redirect_uri=f"{settings.public_url()}/sign-in/sso/callback",
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post" if config["client_secret"] else "none",
    )


def start(next_path: str) -> tuple[str, str]:
    """(the provider's address to send the browser to, the cookie value that remembers why)."""
    config = settings.sso()
    if config is None:
        raise SSOError("single sign-on is not set up here: sign in with your password")
    state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
    url, _ = _client(config).create_authorization_url(
        metadata(config["issuer"])["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
    )
    memo = _signer().dumps({"state": state, "nonce": nonce, "verifier": verifier, "next": next_path})
    return url, memo


def finish(memo: str | None, state: str | None, code: str | None, error: str | None) -> tuple[dict, str]:
    """The ID token's checked claims and where to go next; SSOError if anything is not right."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    config = settings.sso()
    if config is None:
        raise SSOError("single sign-on is not set up here: sign in with your password")
    if error:
        raise SSOError(f"the sign-in provider refused: {error[:100]}")
    try:
        remembered = _signer().loads(memo or "", max_age=LIFETIME)
    except BadSignature as exc:
        raise SSOError("the sign-in took too long or was started elsewhere: start again") from exc
    if not state or not code or not secrets.compare_digest(state, remembered["state"]):
        raise SSOError("the sign-in provider's answer does not match this sign-in: start again")
    meta = metadata(config["issuer"])
    try:
        token = _client(config).fetch_token(
            meta["token_endpoint"], code=code, code_verifier=remembered["verifier"]
        )
        keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
        decoded = jwt.decode(token["id_token"], keys)
        jwt.JWTClaimsRegistry(
            leeway=60,  # a minute's difference between the clocks
            iss={"essential": True, "value": config["issuer"]},
            aud={"essential": True, "value": config["client_id"]},
            nonce={"essential": True, "value": remembered["nonce"]},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(decoded.claims)
    except SSOError:
        raise
    except (requests.RequestException, KeyError, ValueError, TypeError, JoseError) as exc:
        log.warning("single sign-on: the provider's answer could not be checked: %r", exc)
        raise SSOError("the sign-in provider's answer could not be checked: start again") from exc
    except Exception as exc:  # authlib's errors (a refused or replayed code) have no common base
        log.warning("single sign-on: the provider refused the code: %r", exc)
        raise SSOError("the sign-in provider's answer could not be checked: start again") from exc
    return decoded.claims, remembered["next"]
