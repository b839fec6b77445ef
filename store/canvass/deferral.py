"""Deferring the revised register to 1 February when a poll falls in the canvass (1 July to 1
December): which polls allow it; the offer to the ERO as a work item, withdrawn when no poll allows
it any more and closed when the ERO decides; a deferral that has lost its poll flagged; and the
checks the ERO's decision passes before anything runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.canvass import CanvassError, canvass_year, find_canvass
from store.canvass.work import DUE_TIME, SOURCE
from store.models import DateOverride, Election, Person, Poll, TimetableEvent, WorkItem, WorkStatus, utcnow
from store.owners import OwnerPicker
from timetables.clock import local, london

DEFERRAL_OFFER = "canvass:deferral_offer"
DEFERRAL_UNSUPPORTED = "canvass:deferral_unsupported"
ERO = "electoral-registration-officer"

# Polls that allow the revised register to be published by 1 February (EC "Delivering the annual
# canvass"; domain notes §11.1): a UK Parliamentary, principal council, mayoral, parish, GLA or PCC
# election, or a neighbourhood planning referendum, held between 1 July and 1 December.
QUALIFYING = {
    "parl": "UK Parliamentary general election",
    "parl-by": "UK Parliamentary by-election",
    "local": "principal council election",
    "la-mayor": "local authority mayoral election",
    "ca-mayor": "combined authority mayoral election",
    "gla": "Greater London Authority election",
    "pcc": "Police and Crime Commissioner election",
    "parish": "parish council election",
    "community": "community council election",
    "ref-local": "local referendum",
}
WITHDRAWN = "withdrawn: no poll in the canvass period allows it now"
# Where the law is less clear than the list: the offer says so.
CAVEATS = {
    "ref-local": "only a neighbourhood planning referendum allows it (not a council tax or governance one)",
    "community": "the EC's list names parish elections; a Welsh community council election is taken as "
    "their equivalent: check before deciding",
}
DEFERRAL_RULE = (
    "a UK Parliamentary, principal council, mayoral, parish, GLA or PCC election, or a neighbourhood "
    'planning referendum, held between 1 July and 1 December (EC "Delivering the annual canvass"; '
    "RPA 1983 s.13)"
)


@dataclass
class QualifyingPoll:
    poll_key: str
    title: str
    poll_date: dt.date
    kinds: list[str]
    caveats: list[str]

    def to_dict(self) -> dict:
        return {
            "poll_key": self.poll_key,
            "title": self.title,
            "poll_date": self.poll_date.isoformat(),
            "kinds": self.kinds,
            "caveats": self.caveats,
        }


def qualifying_polls(session: Session, canvass: Poll) -> list[QualifyingPoll]:
    """Planned polls in the canvass's nation, in its 1 July to 1 December, of a kind that allows
    the deferral."""
    year = canvass_year(canvass)
    rows = session.execute(
        select(Poll, Election)
        .join(Election, Election.poll_id == Poll.id)
        .where(
            Poll.status == "planned",
            ~Poll.key.like("canvass.%"),
            Poll.poll_date >= dt.date(year, 7, 1),
            Poll.poll_date <= dt.date(year, 12, 1),
            Election.nation == canvass.nation,
            Election.kind.in_(list(QUALIFYING)),
        )
        .order_by(Poll.poll_date, Poll.key, Election.id)
    ).all()
    found: dict[int, QualifyingPoll] = {}
    for poll, election in rows:
        q = found.setdefault(poll.id, QualifyingPoll(poll.key, poll.title, poll.poll_date, [], []))
        if election.kind not in q.kinds:
            q.kinds.append(election.kind)
    for q in found.values():
        q.caveats = [CAVEATS[k] for k in q.kinds if k in CAVEATS]
        if any(k not in CAVEATS for k in q.kinds):
            q.caveats = []  # one kind that allows it without doubt is enough
    return list(found.values())


def deferred_to(session: Session, canvass: Poll) -> dt.date | None:
    """The revised register's date, if it has been set past 1 December."""
    value = session.scalars(
        select(DateOverride.value).where(
            DateOverride.poll_id == canvass.id, DateOverride.key == "revised_register"
        )
    ).first()
    if not value:
        return None
    day = dt.date.fromisoformat(value[:10])
    return day if day > dt.date(canvass_year(canvass), 12, 1) else None


@dataclass
class DeferralChange:
    kind: str  # offered | withdrawn | accepted | unsupported | resolved | reoffered
    canvass_key: str
    canvass_title: str
    canvass_id: int
    polls: list[dict]
    work_item_id: int | None
    audit_id: int | None
    deferred_to: str | None = None
    due: str | None = None


def review_deferral(
    session: Session, changed_key: str | None, actor: str, flow_run_id: str | None = None
) -> list[DeferralChange]:
    """After a poll is planned, moved or cancelled (or a registration year replanned): offer the
    deferral of each registration year's revised register that a poll now allows, withdraw an offer
    no poll supports any more, and flag a deferral that has lost its poll."""
    canvasses = session.scalars(
        select(Poll).where(Poll.key.like("canvass.%"), Poll.status == "planned").order_by(Poll.key)
    ).all()
    if changed_key and changed_key.startswith("canvass."):
        canvasses = [c for c in canvasses if c.key == changed_key]
    changes: list[DeferralChange] = []
    for canvass in canvasses:
        changes.extend(_review_one(session, canvass, actor, flow_run_id))
    return changes


def _item(session: Session, canvass: Poll, key: str) -> WorkItem | None:
    return session.scalars(
        select(WorkItem).where(WorkItem.poll_id == canvass.id, WorkItem.key == key)
    ).first()


def _new_item(
    session: Session, canvass: Poll, key: str, title: str, description: str, due_at: dt.datetime, anchor: str
) -> WorkItem:
    """A work item for the ERO, who decides the revised register's date."""
    owner = OwnerPicker(session).pick(ERO)
    item = WorkItem(
        poll_id=canvass.id,
        key=key,
        title=title,
        description=description,
        owner_role=ERO,
        owner_id=owner.id if owner else None,
        due_at=due_at,
        anchor=anchor,
        source=SOURCE,
    )
    session.add(item)
    return item


ACCEPTED = "deferred:"


def _review_one(session: Session, canvass: Poll, actor: str, flow_run_id: str | None) -> list[DeferralChange]:
    """Bring one registration year's deferral work in line with the polls planned and the date
    decided: offer, update, withdraw or accept the offer; raise or resolve the warning that a
    deferral no poll allows any longer stands. Each change is audited and returned."""
    review = _Review(session, canvass, actor, flow_run_id)
    polls, deferred, offer = review.polls, review.deferred, review.offer
    if polls and deferred is None:
        if (
            offer is None
            or offer.status == WorkStatus.CANCELLED
            or (offer.status == WorkStatus.DONE and (offer.note or "").startswith(ACCEPTED))
        ):
            review.make_offer()
        elif offer.status == WorkStatus.OPEN:
            review.update_offer()
    elif not polls and deferred is None and offer is not None and offer.status == WorkStatus.OPEN:
        review.withdraw_offer()
    unsupported_open = review.unsupported is not None and review.unsupported.status == WorkStatus.OPEN
    if deferred is not None and polls:
        if offer is not None and offer.status == WorkStatus.OPEN:
            review.accept_offer()
        if unsupported_open:
            review.resolve_unsupported(
                "supported again", "a poll in the canvass period allows the deferral again"
            )
    if deferred is None and unsupported_open:
        review.resolve_unsupported("undone", "the revised register is no longer deferred")
    if deferred is not None and not polls:
        if offer is not None and offer.status == WorkStatus.OPEN:
            offer.status, offer.note = WorkStatus.CANCELLED, WITHDRAWN
        if not unsupported_open:
            review.flag_unsupported()
    return review.out


class _Review:
    """One registration year under review: what is planned and decided, its two work items, and
    the changes made so far."""

    def __init__(self, session: Session, canvass: Poll, actor: str, flow_run_id: str | None):
        self.session, self.canvass, self.actor = session, canvass, actor
        self.polls = qualifying_polls(session, canvass)
        self.deferred = deferred_to(session, canvass)
        self.offer = _item(session, canvass, DEFERRAL_OFFER)
        self.unsupported = _item(session, canvass, DEFERRAL_UNSUPPORTED)
        self.listed = [p.to_dict() for p in self.polls]
        self.audit = dict(poll_id=canvass.id, flow_run_id=flow_run_id)
        self.out: list[DeferralChange] = []

    def _record(self, action: str, subject: str, details: dict):
        return record(self.session, self.actor, action, subject=subject, details=details, **self.audit)

    def _change(self, kind: str, item: WorkItem | None, entry) -> None:
        self.session.flush()
        self.out.append(
            DeferralChange(
                kind,
                self.canvass.key,
                self.canvass.title,
                self.canvass.id,
                self.listed,
                item.id if item else None,
                entry.id if entry is not None else None,
                self.deferred.isoformat() if self.deferred else None,
                local(item.due_at).isoformat() if item else None,
            )
        )

    def make_offer(self) -> None:
        """Offer the deferral (a qualifying poll is planned), or offer it again."""
        canvass, session = self.canvass, self.session
        due = session.scalars(
            select(TimetableEvent.due_at).where(
                TimetableEvent.poll_id == canvass.id,
                TimetableEvent.key == "revised_register.last_application",
            )
        ).first()
        title = "Decide whether to defer the revised register to 1 February"
        description = _offer_text(canvass, self.polls)
        offer = self.offer
        if offer is None:
            due = due or london(dt.date(canvass_year(canvass), 11, 1), DUE_TIME)
            offer = self.offer = _new_item(
                session, canvass, DEFERRAL_OFFER, title, description, due, "revised_register.last_application"
            )
            kind = "offered"
        else:
            offer.status, offer.note = WorkStatus.OPEN, None
            offer.completed_at, offer.completed_by_id = None, None
            offer.title, offer.description = title, description
            kind = "reoffered"
        session.flush()
        entry = self._record(
            "revised register deferral offered",
            DEFERRAL_OFFER,
            {"polls": self.listed, "work_item_id": offer.id},
        )
        self._change(kind, offer, entry)

    def update_offer(self) -> None:
        """The open offer names the polls planned now."""
        description = _offer_text(self.canvass, self.polls)
        if self.offer.description != description:
            self.offer.description = description
            self._record("revised register deferral offer updated", DEFERRAL_OFFER, {"polls": self.listed})

    def withdraw_offer(self) -> None:
        self.offer.status, self.offer.note = WorkStatus.CANCELLED, WITHDRAWN
        entry = self._record(
            "revised register deferral offer withdrawn",
            DEFERRAL_OFFER,
            {"reason": "no qualifying poll between 1 July and 1 December"},
        )
        self._change("withdrawn", self.offer, entry)

    def accept_offer(self) -> None:
        """The ERO has deferred: the offer is done, by whoever set the date."""
        session, offer, deferred = self.session, self.offer, self.deferred
        who = session.scalars(
            select(DateOverride.set_by).where(
                DateOverride.poll_id == self.canvass.id, DateOverride.key == "revised_register"
            )
        ).first()
        person = session.scalars(select(Person).where(Person.email == (who or "").lower())).first()
        offer.status, offer.completed_at = WorkStatus.DONE, utcnow()
        offer.completed_by_id = person.id if person else None
        offer.note = f"{ACCEPTED} revised register to be published by {deferred:%d %B %Y}, decided by {who}"
        entry = self._record(
            "revised register deferral accepted",
            DEFERRAL_OFFER,
            {"to": deferred.isoformat(), "by": who, "polls": self.listed},
        )
        self._change("accepted", offer, entry)

    def resolve_unsupported(self, how: str, why: str) -> None:
        """The warning that no poll allows the deferral no longer stands. Only "supported again"
        is told (the deferral holds); an undone deferral was the ERO's own act."""
        item = self.unsupported
        item.status, item.completed_at = WorkStatus.DONE, utcnow()
        item.note = f"resolved: {why}"
        details = {"polls": self.listed} if how == "supported again" else {}
        entry = self._record(f"revised register deferral {how}", DEFERRAL_UNSUPPORTED, details)
        if how == "supported again":
            self._change("resolved", item, entry)

    def flag_unsupported(self) -> None:
        """The register stays deferred but no planned poll allows it: raise the work to undo it."""
        canvass, deferred, year = self.canvass, self.deferred, canvass_year(self.canvass)
        title = (
            f"The revised register is deferred to {deferred:%d %B %Y} but no poll allows it now: "
            "undo the deferral or plan the poll"
        )
        description = (
            f"No planned poll in {year}'s canvass period (1 July to 1 December) allows "
            f"the deferral: it needs {DEFERRAL_RULE}. Undo it with `pollflow canvass undefer "
            f"{canvass.key} --by EMAIL` (the revised register is then due by 1 December)."
        )
        due = london(
            min(dt.date(year, 11, 15), max(local(utcnow()).date(), dt.date(year, 7, 1))),
            DUE_TIME,
        )
        item = self.unsupported
        if item is None:
            item = self.unsupported = _new_item(
                self.session, canvass, DEFERRAL_UNSUPPORTED, title, description, due, "revised_register"
            )
        else:
            item.status, item.completed_at, item.note = WorkStatus.OPEN, None, None
            item.title, item.description, item.due_at = title, description, due
        self.session.flush()
        entry = self._record(
            "revised register deferral no longer allowed",
            DEFERRAL_UNSUPPORTED,
            {"deferred_to": deferred.isoformat()},
        )
        self._change("unsupported", item, entry)


def _offer_text(canvass: Poll, polls: list[QualifyingPoll]) -> str:
    lines = [
        f"The revised register for {canvass_year(canvass)} may be published by 1 February "
        f"{canvass_year(canvass) + 1} instead of 1 December, because of:",
    ]
    for p in polls:
        kinds = ", ".join(QUALIFYING[k] for k in p.kinds)
        lines.append(
            f"- {p.title} ({p.poll_key}; {kinds})" + (f": {'; '.join(p.caveats)}" if p.caveats else "")
        )
    lines += [
        f"The law allows it where there is {DEFERRAL_RULE}.",
        f"To defer: pollflow canvass defer {canvass.key} --by EMAIL (every dependent deadline and task "
        "moves).",
        "To publish on 1 December as planned: record this as done with a note.",
    ]
    return "\n".join(lines)


def _canvass_and_ero(session: Session, canvass_key: str, by: str, decides: str) -> tuple[Poll, Person]:
    """The registration year, and the person deciding for it: its ERO, who alone decides this."""
    from store.people import find_person, roles_of

    canvass = find_canvass(session, canvass_key)
    person = find_person(session, by)
    if ERO not in roles_of(session, person):
        raise CanvassError(
            f"{person.email} is not an electoral registration officer: the ERO decides {decides}"
        )
    return canvass, person


def check_deferral(
    session: Session, canvass_key: str, by: str, publish_on: dt.date | None = None
) -> tuple[Poll, Person, dt.date, list[QualifyingPoll]]:
    """What the ERO's decision needs before anything runs: a registration year, an ERO, a poll
    that allows it, and a date the law allows."""
    canvass, person = _canvass_and_ero(session, canvass_key, by, "whether to defer the revised register")
    year = canvass_year(canvass)
    day = publish_on or dt.date(year + 1, 2, 1)
    if not (dt.date(year, 12, 2) <= day <= dt.date(year + 1, 2, 1)):
        raise CanvassError(
            f"--publish-on {day.isoformat()}: a deferred revised register is published after 1 December "
            f"{year} and by 1 February {year + 1}"
        )
    polls = qualifying_polls(session, canvass)
    if not polls:
        raise CanvassError(
            f"no planned poll allows deferring {canvass.key}'s revised register: the law allows it only "
            f"where there is {DEFERRAL_RULE}; plan the poll first"
        )
    return canvass, person, day, polls


def check_undeferral(session: Session, canvass_key: str, by: str) -> tuple[Poll, Person, dt.date]:
    canvass, person = _canvass_and_ero(session, canvass_key, by, "the revised register's date")
    deferred = deferred_to(session, canvass)
    if deferred is None:
        raise CanvassError(f"{canvass.key}'s revised register is not deferred: it is due by 1 December")
    return canvass, person, deferred


def record_decision(
    session: Session,
    canvass_key: str,
    by: str,
    action: str,
    details: dict,
    flow_run_id: str | None = None,
) -> None:
    canvass = find_canvass(session, canvass_key)
    record(
        session,
        by,
        action,
        poll_id=canvass.id,
        subject="revised_register",
        details=details,
        flow_run_id=flow_run_id,
    )
