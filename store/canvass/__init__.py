"""The registration year every canvass module works on: a poll keyed canvass.YYYY (or
canvass.COUNCIL.YYYY), told apart from the polls, found by its key and read for its year; and
CanvassError, the error they all raise.

The canvass itself is in the modules beside this one, each named for what it holds:
``canvass_progress`` (the EMS's progress file read and checked), ``canvass_rules`` (the periods of
the registration year's timetable and what they make each property need), ``canvass_import`` (a
checked file stored), ``canvass_report`` (the weekly report), ``canvass_work`` (the follow-up work)
and ``canvass_deferral`` (deferring the revised register). They are plain functions over the store
(no Prefect): ``tasks/canvass.py`` wraps them as tasks and ``flows/run_canvass.py`` runs them.
"""

from __future__ import annotations

from sqlmodel import Session, select

from store.models import Poll
from store.planning import stored_overrides
from timetables.errors import PollflowError


class CanvassError(PollflowError):
    """A canvass that cannot be imported, reported or deferred as asked."""


def canvass_year(poll: Poll) -> int:
    """2027 for canvass.2027 or canvass.wychwood.2027."""
    return int(poll.key.rsplit(".", 1)[1])


def is_canvass(poll: Poll) -> bool:
    return poll.key.startswith("canvass.")


def find_canvass(session: Session, key: str) -> Poll:
    from store.queries import find_poll

    poll = find_poll(session, key)
    if not is_canvass(poll):
        raise CanvassError(f"{poll.key} is a poll, not a registration year: give canvass.YYYY")
    return poll


def stored_plan(session: Session, key: str) -> tuple[dict[str, str], str | None, str] | None:
    """The dates set by hand, the overlay and the nation of a registration year already planned
    (None if not): planning it again keeps them, so a deferral is not undone by running the canvass
    again."""
    poll = session.exec(select(Poll).where(Poll.key == key)).first()
    if poll is None:
        return None
    return stored_overrides(session, poll), poll.overlay, poll.nation
