"""Identity in the store, on SQLite and PostgreSQL: passwords and lockout, sessions and their
timeouts, access tokens, single-use links, roles and permissions, and the audit trail recording
who was authenticated, how and through what."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from store.audit import record
from store.identity import credentials, sessions, tokens
from store.identity.acting import Actor, acting_as
from store.identity.council import council_details, council_name, save_council
from store.identity.roles import PERMISSIONS, PermissionDenied, permissions_of, require, save_role
from store.models import DEFAULT_ROLES, AccessToken, Account, AuditEntry, Role, WebSession, utcnow
from store.people import add_person, find_person
from store.staff.config import staffing_rules
from tests.support.identity import PASSWORD, seed_account
from timetables.errors import PollflowError


@pytest.fixture
def team(store):
    with store.session() as s:
        seed_account(s, "alice@wychwood.gov.uk", "Alice Manager", ["electoral-services-manager"])
        seed_account(s, "carol@wychwood.gov.uk", "Carol Returning", ["returning-officer"])
        seed_account(s, "pat@wychwood.gov.uk", "Pat Clerk", ["poll-clerk"])
    return store


def person(s, email):
    return find_person(s, email)


def test_every_default_role_is_seeded_with_only_known_permissions(store):
    with store.session() as s:
        roles = {r.key: r for r in s.exec(select(Role)).all()}
    assert set(roles) == set(DEFAULT_ROLES)
    assert roles["head-of-electoral-services"].name == "Head of Electoral Services"
    assert roles["deputy-electoral-services-manager"].name == "Deputy Electoral Services Manager"
    for role in roles.values():
        assert set(role.permissions) <= set(PERMISSIONS), role.key
    # Approval and publication are the Returning Officer's and the deputies' alone.
    approvers = {k for k, r in roles.items() if {"approve", "publish"} & set(r.permissions)}
    assert approvers == {"returning-officer", "deputy-returning-officer"}
    assert roles["poll-clerk"].permissions == []


def test_permissions_come_from_roles_and_an_inactive_person_has_none(team):
    with team.session() as s:
        carol, pat = person(s, "carol@wychwood.gov.uk"), person(s, "pat@wychwood.gov.uk")
        assert {"approve", "publish", "view"} <= permissions_of(s, carol)
        assert permissions_of(s, pat) == set()
        with pytest.raises(PermissionDenied, match="pat@wychwood.gov.uk may not approve documents"):
            require(s, pat, "approve")
        carol.active = False
        assert permissions_of(s, carol) == set()


def test_an_admin_adds_and_renames_roles_and_bad_ones_are_refused(team):
    with team.session() as s:
        role = save_role(s, "count-supervisor", "Count supervisor", ["view", "complete"])
        assert role.permissions == ["complete", "view"]
        renamed = save_role(s, "count-supervisor", "Count manager", ["view"])
        assert renamed.id == role.id and renamed.name == "Count manager"
        add_person(s, "alice@wychwood.gov.uk", None, ["count-supervisor"], "tests")
    with team.session() as s, pytest.raises(PollflowError, match="unknown permission.*permissions are view"):
        save_role(s, "x-role", "X", ["fly"])
    with team.session() as s, pytest.raises(PollflowError, match="role key 'bad key' is not allowed"):
        save_role(s, "Bad Key", "X", [])
    with team.session() as s, pytest.raises(PollflowError, match="unknown role.*nope: roles are"):
        add_person(s, "new@wychwood.gov.uk", "New", ["nope"], "tests")


def test_a_password_signs_in_and_five_failures_lock_the_account(team):
    with team.session() as s:
        assert credentials.sign_in_with_password(s, "ALICE@wychwood.gov.uk", PASSWORD).person.email == (
            "alice@wychwood.gov.uk"
        )
        unknown = credentials.sign_in_with_password(s, "nobody@wychwood.gov.uk", PASSWORD)
        wrong = credentials.sign_in_with_password(s, "alice@wychwood.gov.uk", "not it at all")
        # The same words whether or not the address is known: the page cannot say who works here.
        assert unknown.person is None and wrong.person is None and unknown.error == wrong.error
    now = utcnow()
    for _ in range(4):
        with team.session() as s:
            assert credentials.sign_in_with_password(s, "alice@wychwood.gov.uk", "wrong", now).person is None
    with team.session() as s:
        locked = credentials.sign_in_with_password(s, "alice@wychwood.gov.uk", PASSWORD, now)
        assert locked.person is None and "locked after 5 failed sign-ins" in locked.error
        later = credentials.sign_in_with_password(
            s, "alice@wychwood.gov.uk", PASSWORD, now + dt.timedelta(minutes=16)
        )
        assert later.person is not None
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "account locked")).first() is not None


@pytest.mark.parametrize(
    "password, problem",
    [
        ("short", "at least 12 characters"),
        ("alice-is-my-password", "must not contain your email"),
        ("x" * 1001, "at most 1,000 characters"),
    ],
)
def test_weak_passwords_are_refused_saying_why(team, password, problem):
    with team.session() as s, pytest.raises(credentials.SignInError, match=problem):
        credentials.set_password(s, person(s, "alice@wychwood.gov.uk"), password)


def test_passwords_are_stored_as_argon2_hashes(team):
    with team.session() as s:
        account = s.exec(
            select(Account).where(Account.person_id == person(s, "alice@wychwood.gov.uk").id)
        ).one()
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash


def test_a_session_ends_on_sign_out_after_twelve_hours_and_everywhere(team):
    with team.session() as s:
        alice = person(s, "alice@wychwood.gov.uk")
        row, secret = sessions.start(s, alice, "password")
        _, other = sessions.start(s, alice, "sso")
        assert row.id_hash != secret and len(secret) > 40  # only the hash is kept
    with team.session() as s:
        assert sessions.find(s, secret)[1].email == "alice@wychwood.gov.uk"
        assert sessions.find(s, secret, utcnow() + dt.timedelta(hours=12, minutes=1)) is None
        assert sessions.find(s, "made-up") is None
        sessions.end(s, secret)
    with team.session() as s:
        assert sessions.find(s, secret) is None and sessions.find(s, other) is not None
        credentials.sign_out_everywhere(s, person(s, "alice@wychwood.gov.uk"))
    with team.session() as s:
        assert sessions.find(s, other) is None
        assert s.exec(select(WebSession)).all()  # ended, not deleted: they stay for the record


def test_tokens_are_shown_once_kept_hashed_and_revocable(team):
    with team.session() as s:
        row, secret = tokens.create_token(s, person(s, "carol@wychwood.gov.uk"), "laptop", "tests")
    assert secret.startswith("pf_") and row.hint == secret[:7]
    with team.session() as s:
        assert secret not in {t.token_hash for t in s.exec(select(AccessToken)).all()}
        assert tokens.person_for_token(s, secret)[0].email == "carol@wychwood.gov.uk"
        with pytest.raises(tokens.TokenRefused, match="start pf_"):
            tokens.person_for_token(s, "hunter2")
        with pytest.raises(tokens.TokenRefused, match="not a token this store knows"):
            tokens.person_for_token(s, "pf_" + "x" * 43)
        tokens.revoke(s, row.id)
        tokens.revoke(s, row.id)  # twice changes nothing
    with team.session() as s, pytest.raises(tokens.TokenRefused, match="was revoked"):
        tokens.person_for_token(s, secret)
    with team.session() as s, pytest.raises(PollflowError, match="a token needs a name"):
        tokens.create_token(s, person(s, "carol@wychwood.gov.uk"), "  ", "tests")


def test_an_invitation_link_works_once_and_a_reset_expires_in_an_hour(team):
    with team.session() as s:
        new, _ = add_person(s, "dan@wychwood.gov.uk", "Dan Registration", ["staffing-officer"], "tests")
        invitation = credentials.make_link(s, new, "invitation", "alice@wychwood.gov.uk")
        reset = credentials.make_link(s, person(s, "alice@wychwood.gov.uk"), "reset", "page")
    with team.session() as s:
        assert credentials.use_link(s, invitation, PASSWORD).email == "dan@wychwood.gov.uk"
    with team.session() as s:
        assert credentials.sign_in_with_password(s, "dan@wychwood.gov.uk", PASSWORD).person is not None
        with pytest.raises(credentials.SignInError, match="used already"):
            credentials.open_link(s, invitation)
        with pytest.raises(credentials.SignInError, match="expired"):
            credentials.open_link(s, reset, utcnow() + dt.timedelta(minutes=61))
        with pytest.raises(credentials.SignInError, match="not valid"):
            credentials.open_link(s, "forged")


def test_sso_matches_a_verified_email_once_then_the_subject_and_never_creates_anyone(team):
    with team.session() as s:
        assert credentials.person_for_sso(s, "https://idp", "sub-1", "carol@wychwood.gov.uk").email == (
            "carol@wychwood.gov.uk"
        )
    with team.session() as s:
        # Linked: the subject finds her even if the provider's email changes.
        assert credentials.person_for_sso(s, "https://idp", "sub-1", "c.returning@new.gov.uk").email == (
            "carol@wychwood.gov.uk"
        )
        assert credentials.person_for_sso(s, "https://idp", "sub-2", "stranger@example.com") is None
        assert credentials.person_for_sso(s, "https://idp", "sub-3", None) is None


def test_the_audit_trail_records_the_authenticated_person_not_the_name_given(team):
    with team.session() as s:
        carol = person(s, "carol@wychwood.gov.uk")
        with acting_as(Actor(carol.email, "token", "cli", carol.id, carol.email)):
            entry = record(s, "carol@wychwood.gov.uk", "document approved")
        unattended = record(s, "flow:check-deadlines", "notified")
    assert (entry.person_id, entry.auth_method, entry.via) == (carol.id, "token", "cli")
    assert (unattended.person_id, unattended.auth_method, unattended.via) == (None, "automation", "flow")


def test_the_councils_details_saved_in_the_workspace_are_what_staff_are_told(team):
    with team.session() as s:
        assert council_details(s) == staffing_rules().council.model_dump()  # nothing saved yet
        save_council(
            s,
            {
                "name": "Wychwood District Council",
                "returning_officer": "Grace Okafor",
                "address": "Council Offices\n 1 High Street \nWychwood",
            },
            "alice@wychwood.gov.uk",
        )
    with team.session() as s:
        details = council_details(s)
        assert (
            details["returning_officer"] == "Grace Okafor" and council_name(s) == "Wychwood District Council"
        )
        assert details["address"] == "Council Offices\n1 High Street\nWychwood"  # an address keeps its lines
        assert details["email"] == staffing_rules().council.email  # not saved: the configuration's
        with pytest.raises(PollflowError, match="must start https://"):
            save_council(s, {"name": "W", "public_url": "javascript:alert(1)"}, "alice@wychwood.gov.uk")
