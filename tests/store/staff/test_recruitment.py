"""The recruitment lifecycle on the store, step by step with the plain functions the flow wraps
(on SQLite and PostgreSQL): the need from the Electoral Commission's ratios, the staffing work
tied to the timetable, invitations, answers, chasers, lapses, offers, acceptance, withdrawal and
replacement from the reserve list, training, experience after the poll, and the purge of bank
details. Each step run twice changes nothing the second time."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from store import queries, staff
from store.models import AuditEntry, Notification, WorkItem
from store.models.staff import PollingStation, StaffOffer, StaffRecruitment, TrainingBooking
from store.staff import recruitment as staff_recruitment
from store.staff import report as staff_report
from store.staff import training as staff_training
from store.staff import work as staff_work
from store.staff.config import ConfigError, staffing_rules
from store.staff.crypto import encrypt_sensitive, purge_due, read_sensitive
from tasks import staffing
from tasks.messaging.tokens import TokenError
from tests.support.helpers import london
from tests.support.staff import (
    BEFORE_INVITES,
    POLL,
    POLL_DAY,
    everyone_available,
    member,
    offer_of,
    person,
    posts,
    setup_poll,
    start,
    wychwood_register,
)
from timetables.clock import LONDON


def need_by_station(need) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for spec in need.posts:
        if spec.kind == "station":
            code = spec.key.split(":")[1]
            out.setdefault(code, {}).setdefault(spec.role, 0)
            out[code][spec.role] += 1
    return out


def test_the_need_follows_the_electoral_commissions_ratios(store):
    with store.session() as s:
        poll = setup_poll(s)
        plan, need = start(s, poll)
        # In person (postal voters left out): W01 944, W02 1,520, W03 512.
        assert need_by_station(need) == {
            "W01": {"presiding-officer": 1, "poll-clerk": 2},
            "W02": {"presiding-officer": 1, "poll-clerk": 3},
            "W03": {"presiding-officer": 1, "poll-clerk": 2},
        }
        roles = [spec.role for spec in need.posts]
        assert roles.count("polling-station-inspector") == 2  # North (W01, W02) and South (W03)
        # 3,720 electors x 35% turnout x 2 ballot papers (a combined poll) = 2,604: 5 assistants.
        assert need.ballot_papers == 2604 and roles.count("count-assistant") == 5
        assert roles.count("count-supervisor") == 1
        # Two postal vote opening sessions (the catalogue's first and final), at least 4 each.
        assert roles.count("postal-vote-opener") == 8
        assert {spec.duty_date for spec in need.posts if spec.kind == "postal"} == {
            dt.date(2027, 4, 28),
            POLL_DAY,
        }
        assert len(need.posts) == 26 and not need.warnings


def test_a_station_over_the_maximum_is_warned_of_and_unknown_electorates_refused(store):
    with store.session() as s:
        poll = setup_poll(s)
        w02 = s.scalars(select(PollingStation).where(PollingStation.code == "W02")).one()
        w02.electorate, w02.postal_voters = 2600, 100
        _, need = start(s, poll, ballot_papers=9000)
        assert any(
            "station W02 (Wychwood Village Hall) has 2,500 electors in person" in w for w in need.warnings
        )
        assert need_by_station(need)["W02"] == {"presiding-officer": 1, "poll-clerk": 3}  # the top band
        assert [spec.role for spec in need.posts].count("count-assistant") == 15  # 9,000 given
        w02.electorate = None
        s.flush()
        with pytest.raises(
            staff.StaffingError, match="1 station.s. have no electorate.*W02.*stations electorate"
        ):
            start(s, poll)


def test_a_council_changes_the_rules_in_its_own_file(store, tmp_path, monkeypatch):
    council = tmp_path / "staffing.yaml"
    council.write_text(
        "stations:\n  combined_poll_extra_clerks: 1\ninspectors:\n  stations_per_inspector: 5\n"
    )
    monkeypatch.setenv("POLLFLOW_STAFFING_CONFIG", str(council))
    with store.session() as s:
        poll = setup_poll(s)
        _, need = start(s, poll)
        assert need_by_station(need)["W01"] == {"presiding-officer": 1, "poll-clerk": 3}
        assert [spec.role for spec in need.posts].count("polling-station-inspector") == 2
    council.write_text("stations:\n  bands:\n    - electors: 1000\n      posts: {poll-clerk: 2}\n")
    with pytest.raises(
        ConfigError, match="stations.bands.0: Value error, each band needs exactly one presiding"
    ):
        staffing_rules()
    council.write_text("recruitment:\n  max_chasers: -1\n")
    with pytest.raises(ConfigError, match="recruitment.max_chasers"):
        staffing_rules()


def test_staffing_work_is_tied_to_the_timetable_and_shows_in_tasks(store):
    with store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        close, training = plan.recruitment_close, plan.training_deadline
        # Recruitment closes when recruit_polling_staff is due (20 working days before polling
        # day), training when train_polling_staff is (5 working days before).
        assert close.astimezone(LONDON).date() == dt.date(2027, 4, 7)
        assert training.astimezone(LONDON).date() == dt.date(2027, 4, 28)
        assert close < training < dt.datetime(2027, 5, 6, tzinfo=LONDON)
        rows = [r for r in queries.tasks(s, as_of=BEFORE_INVITES) if r.item.source == "recruitment"]
        keys = {r.item.key: r for r in rows}
        assert set(keys) == {
            "staffing_invitations",
            "staffing_answers",
            "staffing_allocation",
            "staffing_fill",
            "staffing_offers",
            "staffing_training",
        }
        assert all(r.item.due_at <= close for k, r in keys.items() if k != "staffing_training")
        assert keys["staffing_training"].item.due_at == training
        assert {r.owner.email for r in rows} == {"dan@wychwood.gov.uk"}  # the staffing officer
        again = staff_work.sync_work(s, poll, plan, staffing_rules(), "test")
        assert not again.added and not again.completed


def test_invitations_go_once_and_newcomers_are_invited_on_the_next_run(store):
    with store.session() as s:
        poll = setup_poll(s)
        start(s, poll)
    assert staffing.send_invitations(poll.id, BEFORE_INVITES, "test") == 30
    assert staffing.send_invitations(poll.id, BEFORE_INVITES, "test") == 0
    with store.session() as s:
        from tests.support.staff import register

        register(s, [person(99, ["poll-clerk"])])
    assert staffing.send_invitations(poll.id, BEFORE_INVITES, "test") == 1
    with store.session() as s:
        invitation = s.scalars(select(Notification).where(Notification.kind == "staff-invitation")).first()
        assert invitation.subject == "Can you work at the elections on Thursday 6 May 2027?"
        assert (
            "/staff/respond/" in invitation.body
            and "Thursday 6 May 2027: at a polling station (Presiding Officer, Poll Clerk)" in invitation.body
        )
        plan = staff.require_plan(s, poll)
        assert plan.invitations_sent_at is not None
        done = s.scalars(select(WorkItem).where(WorkItem.key == "staffing_invitations")).one()
        assert done.status == "open"  # until the work items are synced
    staffing.update_work(poll.id, "test")
    with store.session() as s:
        assert (
            s.scalars(select(WorkItem).where(WorkItem.key == "staffing_invitations")).one().status == "done"
        )
    closed = london("2027-04-08T09:00")
    assert staffing.send_invitations(poll.id, closed, "test") == 0  # recruitment has closed


def test_chasers_after_the_set_days_then_invitations_lapse_at_close(store):
    with store.session() as s:
        poll = setup_poll(s)
        start(s, poll)
    invited_at = dt.datetime.now(dt.UTC)
    assert staffing.send_invitations(poll.id, invited_at, "test") == 30
    assert staffing.send_chasers(poll.id, invited_at + dt.timedelta(days=2), "test")["invitations"] == 0
    first = staffing.send_chasers(poll.id, invited_at + dt.timedelta(days=3, hours=1), "test")
    assert first["invitations"] == 30 and first["queued"] == 30
    assert staffing.send_chasers(poll.id, invited_at + dt.timedelta(days=4), "test")["invitations"] == 0
    second = staffing.send_chasers(poll.id, invited_at + dt.timedelta(days=6, hours=2), "test")
    assert second["invitations"] == 30
    assert (
        staffing.send_chasers(poll.id, invited_at + dt.timedelta(days=12), "test")["invitations"] == 0
    )  # max 2
    with store.session() as s:
        chasers = s.scalars(select(Notification.subject).where(Notification.kind == "staff-chaser")).all()
        assert len(chasers) == 60 and sum("Reminder (2): can you work" in c for c in chasers) == 30
    lapsed = staffing.lapse(poll.id, london("2027-04-08T09:00"), "test")
    assert lapsed["invitations"] == 30
    assert staffing.lapse(poll.id, london("2027-04-08T09:00"), "test")["invitations"] == 0


def test_answers_choose_days_and_roles_and_refuse_what_cannot_be(store):
    with store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test")
        opener = member(s, "staff0020@example.org")  # count assistant and postal opener
        rec = staff_recruitment.recruitment_for(s, poll, opener)
        answer = staff_recruitment.answer_invitation(
            s, rec, True, dates=[dt.date(2027, 4, 28)], roles=["postal-vote-opener"], via="web", actor="x",
            as_of=BEFORE_INVITES,
        )  # fmt: skip
        assert answer.changed and rec.status == "available" and rec.available_dates == ["2027-04-28"]
        again = staff_recruitment.answer_invitation(
            s, rec, True, dates=[dt.date(2027, 4, 28)], roles=["postal-vote-opener"], via="web", actor="x",
            as_of=BEFORE_INVITES,
        )  # fmt: skip
        assert not again.changed
        with pytest.raises(
            staff.StaffingError, match="2027-05-01: not a day .* the days are 2027-04-28, 2027-05-06"
        ):
            staff_recruitment.answer_invitation(
                s, rec, True, dates=[dt.date(2027, 5, 1)], via="web", actor="x", as_of=BEFORE_INVITES
            )
        with pytest.raises(staff.StaffingError, match="presiding-officer: not a role"):
            staff_recruitment.answer_invitation(
                s, rec, True, roles=["presiding-officer"], via="web", actor="x", as_of=BEFORE_INVITES
            )
        staff_recruitment.answer_invitation(s, rec, False, via="web", actor="x", as_of=BEFORE_INVITES)
        assert rec.status == "declined" and rec.available_dates == []
        with pytest.raises(staff.StaffingError, match="recruitment for .* closed on 07 April 2027"):
            staff_recruitment.answer_invitation(
                s, rec, True, via="web", actor="x", as_of=london("2027-04-10T09:00")
            )


def test_offers_acceptance_withdrawal_and_replacement_from_the_reserve(store):
    rules = staffing_rules()
    extra = [person(200, ["poll-clerk"], e=431300, n_=226800, postcode="OX7 1AB")]  # a reserve near W01
    with store.session() as s:
        poll = setup_poll(s, people=wychwood_register() + extra)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
    assert staffing.fill(poll.id, "test") is None  # nothing until a manager has allocated once
    first = staffing.fill(poll.id, "test", first=True)
    assert first["unfilled"] == 0 and first["assigned"] == 26 and first["reserve"] == 9
    assert staffing.send_offers(poll.id, "test") == 26
    assert staffing.send_offers(poll.id, "test") == 0  # each post offered once
    with store.session() as s:
        all_posts = posts(s, poll)
        assert {p.status for p in all_posts} == {"offered"}
        clerk = next(p for p in all_posts if p.key == "station:W01:poll-clerk:1")
        holder_email = s.get(type(member(s, "staff0001@example.org")), clerk.staff_id).email
        offer_id = offer_of(s, clerk).id
        po = next(p for p in all_posts if p.key == "station:W01:presiding-officer:1")
        po_offer = offer_of(s, po)
        token = staffing.offer_token(po_offer, poll)
    # The presiding officer accepts through their link: appointed, letter and training asked for.
    accepted = staffing.respond(token, True, via="web")
    assert accepted.changed and accepted.letter_link.endswith(".pdf")
    assert not staffing.respond(token, True, via="web").changed
    # The clerk accepts, then withdraws: the post is vacant and the staffing officer told.
    with store.session() as s:
        offer = s.get(StaffOffer, offer_id)
        staff_recruitment.answer_offer(s, offer, True, via="web", actor="x")
    with store.session() as s:
        offer = s.get(StaffOffer, offer_id)
        withdrawn = staff_recruitment.answer_offer(
            s, offer, False, via="web", actor="x", reason="hospital appointment"
        )
        assert withdrawn.withdrawn and offer.status == "withdrawn"
        assert s.get(type(clerk), clerk.id).staff_id is None
    # The next run fills it from the reserve list (never the one who withdrew) and offers it.
    replaced = staffing.fill(poll.id, "test")
    assert replaced["assigned"] == 1 and replaced["unfilled"] == 0
    assert staffing.send_offers(poll.id, "test") == 1
    with store.session() as s:
        clerk = s.get(type(clerk), clerk.id)
        new_holder = s.get(type(member(s, "staff0001@example.org")), clerk.staff_id)
        assert new_holder.email not in (holder_email,) and clerk.status == "offered"
        counts = staff_work.counts_for_work(s, poll, rules)
        assert counts["vacant"] == 0 and counts["accepted"] == 1
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.poll_id == poll.id)).all()
        assert {"staff appointed", "staff withdrew", "staff allocated", "offers made"} <= set(actions)


def test_unanswered_offers_are_chased_then_lapse(store):
    with store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
    staffing.fill(poll.id, "test", first=True)
    staffing.send_offers(poll.id, "test")
    with store.session() as s:
        offered_at = s.scalars(select(StaffOffer.offered_at)).first()
    chased = staffing.send_chasers(poll.id, offered_at + dt.timedelta(days=2, minutes=1), "test")
    assert chased["offers"] == 26
    assert staffing.send_chasers(poll.id, offered_at + dt.timedelta(days=3), "test")["offers"] == 0
    lapsed = staffing.lapse(poll.id, offered_at + dt.timedelta(days=5, minutes=1), "test")
    assert len(lapsed["offers"]) == 26
    with store.session() as s:
        assert {p.status for p in posts(s, poll)} == {"vacant"}
        assert set(s.scalars(select(StaffOffer.status))) == {"lapsed"}
    # Those who let an offer lapse are not offered another (nor the same one again).
    again = staffing.fill(poll.id, "test")
    assert again["assigned"] > 0 and again["unfilled"] > 0  # from the reserve, as far as it goes
    with store.session() as s:
        status = {r.staff_id: r.status for r in s.scalars(select(StaffRecruitment))}
        assert set(status.values()) == {"lapsed", "available"}
        assert all(status[p.staff_id] == "available" for p in posts(s, poll) if p.staff_id)


def test_training_capacity_booking_attendance_and_the_untrained_as_work(store):
    rules = staffing_rules()
    with store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
    staffing.fill(poll.id, "test", first=True)
    staffing.send_offers(poll.id, "test")
    with store.session() as s:
        with pytest.raises(staff.StaffingError, match="is not before polling day"):
            staff_training.add_session(
                s, poll, "T9", title="t", venue="v", starts_at=london("2027-05-06T08:00"),
                ends_at=london("2027-05-06T10:00"), capacity=5, roles=[], actor="m",
            )  # fmt: skip
        _, warnings = staff_training.add_session(
            s, poll, "T2", title="Polling station staff", venue="Council Chamber", capacity=1, roles=[],
            starts_at=london("2027-04-30T18:00"), ends_at=london("2027-04-30T20:00"), actor="m",
        )  # fmt: skip
        assert warnings and "after the training deadline" in warnings[0]
        staff_training.add_session(
            s, poll, "T1", title="Polling station staff", venue="Council Chamber", capacity=40, roles=[],
            starts_at=london("2027-04-20T18:00"), ends_at=london("2027-04-20T20:00"), actor="m",
        )  # fmt: skip
        untrained = staff_training.untrained(s, poll, rules)
        assert len(untrained) == 12  # 3 presiding officers, 7 clerks, 2 inspectors (the count needs none)
        first, second = untrained[0][0], untrained[1][0]
        assert staff_training.book(s, poll, first, "T2", "x")[1]
        with pytest.raises(staff.StaffingError, match="session T2 is full .1 places.: choose another"):
            staff_training.book(s, poll, second, "T2", "x")
        assert staff_training.book(s, poll, first, "T1", "x")[1]  # moves: T2 frees up
        assert not staff_training.book(s, poll, first, "T1", "x")[1]
        assert staff_training.book(s, poll, second, "T2", "x")[1]
        assert (
            s.scalar(
                select(func.count()).select_from(TrainingBooking).where(TrainingBooking.status == "booked")
            )
            == 2
        )
    assert staffing.send_training_reminders(poll.id, london("2027-04-10T09:00")) == 10  # not the 2 booked
    assert staffing.send_training_reminders(poll.id, london("2027-04-11T09:00")) == 0
    with store.session() as s:
        everyone = [m.email for m, _ in staff_training.untrained(s, poll, rules)]
        assert staff_training.mark_attendance(s, poll, "T1", everyone, True, "m") == everyone
        assert staff_training.mark_attendance(s, poll, "T1", everyone, True, "m") == []
        assert staff_training.untrained(s, poll, rules) == []
    work = staffing.update_work(poll.id, "test")
    assert "staffing_training" in work["completed"]


def test_experience_is_counted_once_after_polling_day(store):
    with store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
    staffing.fill(poll.id, "test", first=True)
    staffing.send_offers(poll.id, "test")
    with store.session() as s:
        po = next(p for p in posts(s, poll) if p.key == "station:W01:presiding-officer:1")
        staff_recruitment.answer_offer(s, offer_of(s, po), True, via="web", actor="x")
        before = dict(s.get(type(member(s, "staff0001@example.org")), po.staff_id).experience)
        holder_id = po.staff_id
    assert staffing.after_poll(poll.id, london("2027-05-06T23:00"), "test") == 0  # not over yet
    assert staffing.after_poll(poll.id, london("2027-05-07T09:00"), "test") == 1
    assert staffing.after_poll(poll.id, london("2027-05-08T09:00"), "test") == 0
    with store.session() as s:
        after = s.get(type(member(s, "staff0001@example.org")), holder_id).experience
        assert after["presiding-officer"] == before["presiding-officer"] + 1


def test_bank_details_are_purged_after_the_retention_period(store):
    with store.session() as s:
        poll = setup_poll(s)
        pat = member(s, "staff0001@example.org")
        sam = member(s, "staff0005@example.org")
        for m in (pat, sam):
            m.sensitive = encrypt_sensitive(
                {"sort_code": "123456", "account_number": "12345678", "account_name": "X"}
            )
            m.sensitive_given_at = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
        assert read_sensitive(pat)["account_number"] == "12345678"
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
    staffing.fill(poll.id, "test", first=True)
    staffing.send_offers(poll.id, "test")
    with store.session() as s:
        pat_post = next(p for p in posts(s, poll) if p.staff_id == member(s, "staff0001@example.org").id)
        staff_recruitment.answer_offer(s, offer_of(s, pat_post), True, via="web", actor="x")
    with store.session() as s:
        # 90 days after they were given: Sam (never appointed) goes; Pat worked the poll, so hers
        # are kept until 90 days after polling day.
        early = purge_due(s, dt.datetime(2027, 4, 11, tzinfo=dt.UTC), 90, "test")
        assert early.purged == ["staff0005@example.org"] and early.kept == 1
    with store.session() as s:
        assert member(s, "staff0005@example.org").sensitive is None
        dry = purge_due(s, dt.datetime(2027, 8, 5, tzinfo=dt.UTC), 90, "test", dry_run=True)
        assert dry.purged == ["staff0001@example.org"] and member(s, "staff0001@example.org").sensitive
        late = purge_due(s, dt.datetime(2027, 8, 5, tzinfo=dt.UTC), 90, "test")
        assert late.purged == ["staff0001@example.org"]
    with store.session() as s:
        assert purge_due(s, dt.datetime(2027, 9, 1, tzinfo=dt.UTC), 90, "test").purged == []
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "staff bank and NI details purged")
        ).all()
        assert len(entries) == 2 and "12345678" not in str([e.details for e in entries])


def test_links_are_personal_signed_and_expire(store):
    with store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        rec, _member = staff_recruitment.invite(s, poll, plan, "test")[0]
        token = staffing.invitation_token(rec, plan)
        assert staffing.resolve(s, token).member.email == "staff0001@example.org"
        with pytest.raises(TokenError, match="expired"):
            staffing.resolve(s, token, now=plan.recruitment_close + dt.timedelta(seconds=1))
        with pytest.raises(TokenError, match="not valid"):
            staffing.resolve(s, token[:-3] + "abc")
    result = staffing.respond(token, True, via="cli", now=BEFORE_INVITES)
    assert result.kind == "invitation" and result.changed and "Thursday 6 May 2027" in result.summary
    assert not staffing.respond(token, True, via="cli", now=BEFORE_INVITES).changed
    with store.session() as s:
        confirmations = s.scalars(select(Notification).where(Notification.kind == "staff-answer")).all()
        assert len(confirmations) == 1 and confirmations[0].recipient == "staff0001@example.org"
        rec = s.scalars(select(StaffRecruitment).where(StaffRecruitment.id == rec.id)).one()
        assert rec.responded_via == "cli"


def test_the_staffing_report_says_what_is_filled_and_why_not(store):
    people = [
        p
        for p in __import__("tests.support.staff", fromlist=["x"]).wychwood_register()
        if "presiding-officer" not in p["roles"]
    ]
    with store.session() as s:
        poll = setup_poll(s, people=people)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
    staffing.fill(poll.id, "test", first=True)
    with store.session() as s:
        report = staff_report.report(s, poll, staffing_rules())
        assert report["totals"]["presiding-officer"] == {
            "need": 3,
            "filled": 0,
            "accepted": 0,
            "allocated": 0,
        }
        w01 = next(r for r in report["stations"] if r["code"] == "W01")
        po = next(p for p in w01["posts"] if p["role"] == "presiding-officer")
        assert (
            po["unfilled_reason"] == "no one who can work as presiding officer is available on Thu 6 May 2027"
        )
        assert report["posts"] == 26 and report["reserve"]["target"] == 3
        fill = s.scalars(
            select(WorkItem).where(WorkItem.key == "staffing_fill", WorkItem.poll_id == poll.id)
        ).one()
    staffing.update_work(poll.id, "test")
    with store.session() as s:
        fill = s.get(WorkItem, fill.id)
        assert fill.title == "Fill 3 unfilled post(s)" and fill.status == "open"


def test_withdraw_by_an_officer_and_a_poll_with_no_staffing(store):
    with store.session() as s:
        poll = setup_poll(s)
        with pytest.raises(
            staff.StaffingError, match="staffing for .* has not started: run `pollflow recruit"
        ):
            staff.require_plan(s, poll)
        plan, _ = start(s, poll)
        with pytest.raises(staff.StaffingError, match="was not invited to"):
            staff_recruitment.withdraw(s, poll, "staff0001@example.org", "officer")
        staff_recruitment.invite(s, poll, plan, "test")
        everyone_available(s, poll)
    staffing.fill(poll.id, "test", first=True)
    with store.session() as s:
        released = staff_recruitment.withdraw(s, poll, "staff0001@example.org", "officer", "moved away")
        assert len(released) == 1
        assert (
            staff_recruitment.recruitment_for(s, poll, member(s, "staff0001@example.org")).status
            == "declined"
        )
        with pytest.raises(staff.StaffingError, match="no one with email nobody@example.org"):
            staff_recruitment.withdraw(s, poll, "nobody@example.org", "officer")
    assert POLL  # the election id the CLI tests use


def test_a_snap_poll_staffed_late_still_gives_people_days_to_answer(store):
    with store.session() as s:
        poll = setup_poll(s)
        # Staffing starts on 20 April, after the catalogue's recruitment date (7 April): people
        # get three days to answer, and recruitment still closes before training (28 April).
        plan, _ = start(s, poll, as_of=london("2027-04-20T09:00"))
        assert plan.recruitment_close == london("2027-04-23T09:00")
        again, _ = start(s, poll)  # later runs keep the date
        assert again.recruitment_close == london("2027-04-23T09:00")
    assert staffing.send_invitations(poll.id, london("2027-04-20T09:05"), "test") == 30


def test_a_poll_in_part_of_the_district_staffs_only_its_stations(store):
    with store.session() as s:
        poll = setup_poll(s)
        plan, need = start(s, poll, areas=["Wychwood South"])  # a by-election in one ward
        assert plan.areas == ["Wychwood South"]
        assert set(need_by_station(need)) == {"W03"}
        assert [spec.key for spec in need.posts if spec.kind == "inspector"] == ["inspector:South:1"]
        with pytest.raises(staff.StaffingError, match="no active polling stations in Nowhere Ward"):
            start(s, poll, areas=["Nowhere Ward"])
