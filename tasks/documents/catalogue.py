"""The catalogue of documents: for each, the kinds of poll it applies to, its template, the law it
follows, the event its publishing deadline comes from, when it can first be drawn up, and how its
data are gathered from the poll's ``Sources`` into a context.

Contexts are plain data, already worded (dates by ``tasks.documents.text``, the law by
``tasks.documents.law``), JSON-ready and free of None, so that a stored version can be rendered
again from its context alone, and strict rendering (``tasks.documents.rendering``) names whatever is missing.

``register()`` adds documents whose data come from elsewhere (staff letters): a spec with its own
``scopes`` and ``context`` functions, in a module ``tasks/<area>_documents.py`` that is imported
when this one is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from store.documents.candidates import shown_names, sort_text, statement_order
from store.documents.council_details import Area, areas_for
from store.models import Election
from store.models.documents import Candidate
from tasks.documents.law import (
    CANDIDATE_KINDS,
    DEPOSIT_KINDS,
    DEPOSITS,
    HEADINGS,
    NOTICE_OF_ELECTION_TEMPLATES,
    bilingual,
    default_areas,
    law_of_notice,
    ro_title,
    rules_of,
    taken_together,
)
from tasks.documents.rendering import MissingFieldError
from tasks.documents.sources import Sources
from tasks.documents.text import date_cy, date_text, event_texts, moment_texts, on_cy
from tasks.documents.timetable_rows import timetable_rows
from timetables.clock import LONDON, local
from timetables.errors import PollflowError


@dataclass(frozen=True)
class DocumentSpec:
    """One kind of document. The callables take the poll's ``Sources`` and the document's scope
    (an election id for notices)."""

    key: str
    title: str
    title_cy: str | None
    template: Callable[[Sources, str], str]
    citation: Callable[[Sources, str], str]
    context: Callable[[Sources, str], dict]
    scopes: Callable[[Sources], list[str]]
    applies: Callable[[Sources, str], bool]
    ready_at: Callable[[Sources, str], dt.datetime | None]  # None: it can be drawn up now
    deadline: Callable[[Sources, str], tuple[dt.datetime | None, str | None]]  # (due, event key)
    publish_from: Callable[[Sources, str], dt.datetime | None] = lambda src, scope: None
    catalogue_task: str | None = None  # the plan's own "publish ..." work item, if it has one
    word: str | None = None  # word/<name>.docx
    proof_lead: dt.timedelta = dt.timedelta(days=2)
    approve_lead: dt.timedelta = dt.timedelta(days=1)


CATALOGUE: dict[str, DocumentSpec] = {}


def register(spec: DocumentSpec) -> DocumentSpec:
    """Add a document to the catalogue (its key must be new)."""
    if spec.key in CATALOGUE:
        raise PollflowError(f"document {spec.key} is already in the catalogue")
    CATALOGUE[spec.key] = spec
    return spec


def per_election(src: Sources) -> list[str]:
    return [e.election_id for e in src.elections if e.kind in CANDIDATE_KINDS]


def _event_deadline(key: str, *fallbacks: str):
    def deadline(src: Sources, scope: str):
        for name in (key, *fallbacks):
            event = src.event(name, scope)
            if event is not None:
                return event.due_at, name
        return None, None

    return deadline


def _ready_after(*keys: str):
    def ready(src: Sources, scope: str):
        moments = [e.due_at for k in keys if (e := src.event(k, scope)) is not None]
        return max(moments) if moments else None

    return ready


def _dated_day(key: str, *fallbacks: str):
    """Publication from the start of the day the notice is dated (its timetable date)."""

    def publish_from(src: Sources, scope: str):
        due, _ = _event_deadline(key, *fallbacks)(src, scope)
        if due is None:
            return None
        day = local(due).date()
        return dt.datetime.combine(day, dt.time(0, 0), tzinfo=LONDON)

    return publish_from


def _has_event(*keys: str):
    def applies(src: Sources, scope: str) -> bool:
        return any(src.event(k, scope) is not None for k in keys)

    return applies


# ---- context building


def _clean(value: Any) -> Any:
    """JSON-ready, None-free: a missing value is absent, so strict rendering names it."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dt.datetime):
        return local(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def areas_of(src: Sources, election: Election) -> list[Area]:
    return areas_for(src.details, election.election_id, default_areas(election))


def _heading(src: Sources, election: Election) -> tuple[str | None, str | None]:
    """The election's heading, as its notices print it: the details' own title, else its kind's."""
    own = src.details.elections.get(election.election_id) if src.details else None
    heading, heading_cy = HEADINGS.get(election.kind, (None, None))
    areas = areas_of(src, election)
    fill = {"area": areas[0].name, "area_cy": areas[0].name_cy or areas[0].name} if len(areas) == 1 else {}
    try:
        english = heading.format(**fill) if heading else None
        welsh = heading_cy.format(**fill) if heading_cy else None
    except KeyError:  # a heading that names an area, for an election of several
        english = welsh = None
    if own and own.title:
        english, welsh = own.title, own.title_cy or welsh
    return english, welsh


def taken_with(src: Sources, scope: str) -> dict | None:
    """The other polls of a combined poll, named as the statutory forms do on a notice of poll
    ('The poll for this election is taken together with the poll for ...'); None for a poll alone."""
    others = [e for e in src.elections if e.election_id != scope]
    if not others:
        return None
    named = [taken_together(e, *_heading(src, e), areas_of(src, e)) for e in others]
    return {
        "polls": " and ".join(en for en, _ in named),
        "polls_cy": " a'r ".join(cy for _, cy in named),
    }


def election_context(src: Sources, scope: str, spec_key: str) -> dict:
    """What every notice of an election shows: the council, the officer, the election, the dates."""
    election = src.election(scope)
    spec = CATALOGUE[spec_key]
    details = src.details
    cy = bilingual(election)
    areas = areas_of(src, election)
    own = details.elections.get(scope) if details else None
    title, title_cy = ro_title(election)
    ro = details.returning_officer if details else None
    first_area = areas[0] if len(areas) == 1 else None
    heading, heading_cy = HEADINGS[election.kind]
    fill = {
        "area": first_area.name if first_area else "",
        "area_cy": (first_area.name_cy or first_area.name) if first_area else "",
    }
    events = {key: event_texts(e) for key, e in src.events_for(scope).items()}
    poll_event = src.event("poll", scope)
    due, event_key = spec.deadline(src, scope)
    dated = local(due).date() if due else None
    nomination_address = (details.nomination_address or ro.address) if details and ro else None
    return _clean(
        {
            "doc": {
                "key": spec.key,
                "title": spec.title,
                "title_cy": spec.title_cy if cy else None,
                "citation": spec.citation(src, scope),
            },
            "bilingual": cy,
            "council": details.council if details else None,
            "council_cy": details.council_cy if details and cy else None,
            "ro": {
                "name": ro.name,
                "title": ro.title or title,
                "title_cy": (ro.title_cy or title_cy) if cy else None,
                "address": ro.address,
                "address_line": ", ".join(ro.address),
                "phone": ro.phone,
                "email": ro.email,
                "website": ro.website,
            }
            if ro
            else None,
            "nomination": {
                "address_line": ", ".join(nomination_address) if nomination_address else None,
                "hours": details.nomination_hours if details else None,
                "hours_cy": details.nomination_hours_cy if details and cy else None,
            },
            "election": {
                "id": scope,
                "kind": election.kind,
                "nation": election.nation,
                "rules": rules_of(election),
                "heading": (own.title if own and own.title else heading.format(**fill)) if heading else None,
                "heading_cy": (
                    (own.title_cy if own and own.title_cy else (heading_cy or "").format(**fill)) or None
                )
                if cy
                else None,
                "poll_date": date_text(poll_event.date) if poll_event else None,
                "poll_date_cy": date_cy(poll_event.date) if poll_event else None,
                "poll_on_cy": on_cy(poll_event.date) if poll_event else None,
                "deposit": (own.deposit if own and own.deposit else DEPOSITS.get(election.kind)),
                "deposit_required": election.kind in DEPOSIT_KINDS,
                "photo_id": "vac" in events,
            },
            "areas": [
                {"name": a.name, "name_cy": a.name_cy or a.name, "seats": a.seats, "list": a.list}
                for a in areas
            ],
            "events": events,
            "deadline": {"event": event_key, **moment_texts(due)} if due else None,
            "dated": date_text(dated) if dated else None,
            "dated_cy": date_cy(dated) if dated else None,
            "extra": details.extra if details else None,
        }
    )


def _candidate(c: Candidate) -> dict:
    surname, forenames = shown_names(c)
    return {
        "surname": surname,
        "forenames": forenames,
        "name": f"{forenames} {surname}",
        "address": c.address,
        "description": c.description,
        "party": c.party,
        "party_membership": c.party_membership,
        "list_party": c.list_party,
        "list_position": c.list_position,
        "proposer": c.proposer,
        "seconder": c.seconder,
        "agent_name": c.agent_name,
        "agent_address": c.agent_address,
        "status": c.status,
        "reason": c.status_reason or ("Withdrawn" if c.status == "withdrawn" else None),
        "reason_cy": "Wedi tynnu'n ôl" if c.status == "withdrawn" else None,
    }


@dataclass
class AreaResult:
    area: Area
    nominated: list[Candidate]  # every person nominated, in the statement's order
    standing: list[Candidate]

    @property
    def contested(self) -> bool:
        return len(self.standing) > self.area.seats

    def entries(self) -> list[dict]:
        """List ballots: each party's list as one entry, and individual candidates, in the order
        of party names and candidates' surnames (e.g. SI 2007/3541 Sch 6 r.12(5))."""
        parties: dict[str, list[Candidate]] = {}
        singles = []
        for c in self.standing:
            if c.list_party:
                parties.setdefault(c.list_party, []).append(c)
            else:
                singles.append(c)
        entries = [
            {
                "party": name,
                "sort": sort_text(name),
                "candidates": [
                    _candidate(c)
                    for c in sorted(members, key=lambda c: (c.list_position or 10_000, c.id or 0))
                ],
            }
            for name, members in parties.items()
        ]
        entries += [
            {"candidate": _candidate(c), "sort": sort_text(" ".join(shown_names(c)))} for c in singles
        ]
        return sorted(entries, key=lambda e: e["sort"])


def area_results(src: Sources, election: Election) -> list[AreaResult]:
    areas = areas_of(src, election)
    names = {a.name for a in areas}
    mine = src.candidates.get(election.election_id, [])
    strays = sorted({c.area for c in mine if c.area not in names})
    if strays and areas:
        raise PollflowError(
            f"candidates at {election.election_id} stand in {', '.join(strays)}, "
            "which the details do not list "
            f"(areas are {', '.join(sorted(names))})"
        )
    results = []
    for area in areas:
        nominated = statement_order([c for c in mine if c.area == area.name])
        standing = [c for c in nominated if c.status == "nominated"]
        results.append(AreaResult(area, nominated, standing))
    return results


def _area(a: Area) -> dict:
    return {"name": a.name, "name_cy": a.name_cy or a.name, "seats": a.seats, "list": a.list}


def _has_candidates(src: Sources, scope: str) -> bool:
    return bool(src.candidates.get(scope))


def sopn_context(src: Sources, scope: str) -> dict:
    election = src.election(scope)
    context = election_context(src, scope, "sopn")
    if not _has_candidates(src, scope):
        raise MissingFieldError("candidates")
    statements = []
    for result in area_results(src, election):
        rows = [_candidate(c) for c in result.nominated]
        statements.append(
            {
                "area": _area(result.area),
                "candidates": rows,
                "show_subscribers": any(c.proposer for c in result.nominated),
                "show_membership": election.kind in ("community",)
                or (election.kind == "local" and election.nation == "wales"),
                "contested": result.contested,
                "entries": result.entries() if result.area.list else [],
                "no_longer": [_candidate(c) for c in result.nominated if c.status != "nominated"],
            }
        )
    context["statements"] = _clean(statements)
    return context


def poll_context(src: Sources, scope: str) -> dict:
    election = src.election(scope)
    context = election_context(src, scope, "notice_of_poll")
    polls = []
    for result in area_results(src, election):
        if not result.contested:
            continue
        polls.append(
            {
                "area": _area(result.area),
                "candidates": [_candidate(c) for c in result.standing],
                "entries": result.entries() if result.area.list else [],
                # The rules (e.g. SI 2006/3305 r.21(1)(d)) have the notice name each candidate's
                # proposer and seconder: shown wherever the candidates file gives them.
                "show_subscribers": any(c.proposer for c in result.standing),
            }
        )
    context["polls"] = _clean(polls)
    if together := taken_with(src, scope):
        context["taken_with"] = together
    # The notice of poll states where each voter votes (the EC's forms print the stations on it):
    # without them it is not published, as the notice of situation of polling stations is not.
    context["polling_stations"] = _clean(_stations(src, {p["area"]["name"] for p in polls}, required=True))
    return context


def _stations(src: Sources, areas: set[str], required: bool = False) -> list[dict]:
    """The polling stations for these areas (a station with no area serves them all); ``required``:
    none is an error saying what to give."""
    details = src.details
    if details is None or not details.polling_stations:
        if required:
            raise MissingFieldError("polling_stations")
        return []
    found = [
        {
            "number": s.number,
            "place": s.place,
            "place_cy": s.place_cy or s.place,
            "voters": s.voters,
            "area": s.area,
        }
        for s in details.polling_stations
        if s.area is None or s.area in areas
    ]
    if required and not found and areas:
        raise PollflowError(
            f"no value for polling_stations: none of the {len(details.polling_stations)} polling stations "
            f"in the document details is for {', '.join(sorted(areas))} (give each station's area, or "
            "none for a station that every area votes at)"
        )
    return found


def stations_context(src: Sources, scope: str) -> dict:
    election = src.election(scope)
    context = election_context(src, scope, "polling_stations_notice")
    contested = {r.area.name for r in area_results(src, election) if r.contested}
    context["polling_stations"] = _clean(_stations(src, contested, required=True))
    context["contested_areas"] = sorted(contested)
    if together := taken_with(src, scope):
        context["taken_with"] = together
    return context


def agents_context(src: Sources, scope: str) -> dict:
    election = src.election(scope)
    context = election_context(src, scope, "election_agents_notice")
    if not _has_candidates(src, scope):
        raise MissingFieldError("candidates")
    rows = []
    for result in area_results(src, election):
        for c in result.standing:
            row = _candidate(c)
            row["area"] = result.area.name
            if not c.agent_name:
                # RPA 1983 s.70: a candidate who appoints no agent is their own agent.
                row["agent_name"] = f"{row['name']} (own agent)"
                row["agent_address"] = row.get("agent_address") or c.address
            elif not c.agent_address:
                raise MissingFieldError(f"candidates[{row['name']}].agent_address")
            rows.append(row)
    context["agents"] = _clean(rows)
    return context


def uncontested_context(src: Sources, scope: str) -> dict:
    election = src.election(scope)
    context = election_context(src, scope, "uncontested")
    results = []
    for result in area_results(src, election):
        if result.contested or not result.nominated:
            continue
        results.append(
            {
                "area": _area(result.area),
                "elected": [_candidate(c) for c in result.standing],
                "vacancies": result.area.seats - len(result.standing),
            }
        )
    context["results"] = _clean(results)
    return context


def openings_context(src: Sources, scope: str) -> dict:
    context = election_context(src, scope, "postal_vote_openings")
    sessions = src.details.postal_vote_openings if src.details else []
    context["postal_vote_openings"] = _clean(
        [{**moment_texts(s.starts), "place": s.place} for s in sorted(sessions, key=lambda s: s.starts)]
    )
    return context


def timetable_context(src: Sources, scope: str) -> dict:
    context = election_context(src, scope, "candidates_timetable")
    context["timetable"] = _clean(timetable_rows(src.events_for(scope)))
    return context


def _noe_template(src: Sources, scope: str) -> str:
    return f"notice_of_election/{NOTICE_OF_ELECTION_TEMPLATES[src.election(scope).kind]}.html.j2"


def _fixed(name: str):
    return lambda src, scope: name


def _law(text: str, rule_of: Mapping[str, str] | None = None):
    """The law a notice follows, printed at its foot: the kind's own rules, and the rule's number
    where pollflow knows it for that kind (keyed like law.RULES), never another kind's rule."""

    def citation(src: Sources, scope: str) -> str:
        election = src.election(scope)
        known = rule_of or {}
        rule = known.get(f"{election.kind}:{election.nation}") or known.get(election.kind)
        return text.format(rules=rules_of(election), rule=f" r.{rule}" if rule else "")

    return citation


def _contested(want: bool):
    def applies(src: Sources, scope: str) -> bool:
        election = src.election(scope)
        if not _has_candidates(src, scope) or not areas_of(src, election):
            return want  # not known yet: the notice of poll is expected, the uncontested notice not
        try:
            results = area_results(src, election)
        except PollflowError:
            return want
        return any(r.contested == want and (want or r.nominated) for r in results)

    return applies


def _all(*tests):
    return lambda src, scope: all(t(src, scope) for t in tests)


def _openings_deadline(src: Sources, scope: str):
    """At least 48 hours before the first opening session; until sessions are set, the plan's
    task for the notice (2 days before the first session it plans)."""
    sessions = src.details.postal_vote_openings if src.details else []
    if sessions:
        return min(s.starts for s in sessions) - dt.timedelta(hours=48), None
    for key in (f"notice_postal_vote_openings:{scope}", "notice_postal_vote_openings"):
        item = src.work.get(key)
        if item is not None:
            return item.due_at, None
    return None, None


for _spec in (
    DocumentSpec(
        key="candidates_timetable",
        title="Election timetable for candidates and agents",
        title_cy="Amserlen yr etholiad ar gyfer ymgeiswyr ac asiantiaid",
        template=_fixed("candidates_timetable.html.j2"),
        citation=_law("The statutory timetable in {rules}; each date gives its own legislation"),
        context=timetable_context,
        scopes=per_election,
        applies=lambda src, scope: True,
        ready_at=lambda src, scope: None,
        deadline=_event_deadline("notice_of_election"),
        word="candidates_timetable",
    ),
    DocumentSpec(
        key="notice_of_election",
        title="Notice of election",
        title_cy="Hysbysiad etholiad",
        template=_noe_template,
        citation=lambda src, scope: law_of_notice(src.election(scope)),
        context=lambda src, scope: election_context(src, scope, "notice_of_election"),
        scopes=per_election,
        applies=_has_event("notice_of_election"),
        ready_at=lambda src, scope: None,
        deadline=_event_deadline("notice_of_election"),
        publish_from=_dated_day("notice_of_election"),
        catalogue_task="publish_notice_of_election",
        word="notice_of_election",
    ),
    DocumentSpec(
        key="sopn",
        title="Statement of persons nominated",
        title_cy="Datganiad o'r personau a enwebwyd",
        template=_fixed("statement_of_persons_nominated.html.j2"),
        citation=_law(
            "{rules}{rule}, statement of persons nominated",
            {"parl": "14", "parl-by": "14", "pcc": "13", "local:wales": "13"},
        ),
        context=sopn_context,
        scopes=per_election,
        applies=_has_event("sopn"),
        ready_at=_ready_after("close_of_nominations", "withdrawals"),
        deadline=_event_deadline("sopn"),
        publish_from=_dated_day("sopn"),
        catalogue_task="publish_sopn",
        word="sopn",
        # Drawn up only after nominations close, on the day it is due: proof by 10:00 or so.
        proof_lead=dt.timedelta(hours=6),
        approve_lead=dt.timedelta(hours=2),
    ),
    DocumentSpec(
        key="election_agents_notice",
        title="Notice of election agents' names and offices",
        title_cy="Hysbysiad o enwau a swyddfeydd asiantiaid etholiad",
        template=_fixed("notice_of_election_agents.html.j2"),
        citation=_law(
            "RPA 1983 s.67 (public notice of election agents' names and addresses) and s.69 (their offices)"
        ),
        context=agents_context,
        scopes=per_election,
        applies=_has_event("election_agents"),
        ready_at=_ready_after("election_agents"),
        deadline=_event_deadline("election_agents_notice", "election_agents"),
        catalogue_task="publish_election_agents_notice",
        word="election_agents_notice",
        proof_lead=dt.timedelta(hours=6),
        approve_lead=dt.timedelta(hours=2),
    ),
    DocumentSpec(
        key="uncontested",
        title="Notice of uncontested election",
        title_cy="Hysbysiad o etholiad diwrthwynebiad",
        template=_fixed("uncontested_election.html.j2"),
        citation=_law(
            "{rules}{rule}, method of election: where the candidates standing do not exceed the seats, they "
            "are declared elected",
            {"parl": "17", "parl-by": "17"},
        ),
        context=uncontested_context,
        scopes=per_election,
        applies=_all(_has_event("withdrawals"), _contested(False)),
        ready_at=_ready_after("close_of_nominations", "withdrawals"),
        deadline=_event_deadline("sopn", "withdrawals"),
        word="uncontested",
        proof_lead=dt.timedelta(hours=6),
        approve_lead=dt.timedelta(hours=2),
    ),
    DocumentSpec(
        key="notice_of_poll",
        title="Notice of poll",
        title_cy="Hysbysiad o'r bleidlais",
        template=_fixed("notice_of_poll.html.j2"),
        citation=_law("{rules}{rule}, notice of poll", {"parl": "23", "parl-by": "23", "pcc": "24"}),
        context=poll_context,
        scopes=per_election,
        applies=_all(_has_event("notice_of_poll"), _contested(True)),
        ready_at=_ready_after("close_of_nominations", "withdrawals"),
        deadline=_event_deadline("notice_of_poll"),
        publish_from=_dated_day("notice_of_poll"),
        catalogue_task="publish_notice_of_poll",
        word="notice_of_poll",
    ),
    DocumentSpec(
        key="polling_stations_notice",
        title="Notice of situation of polling stations",
        title_cy="Hysbysiad o leoliad gorsafoedd pleidleisio",
        template=_fixed("situation_of_polling_stations.html.j2"),
        citation=_law(
            "{rules}{rule}, notice of the situation of each polling station and the description of voters "
            "entitled to vote there; a copy goes to each election agent",
            {"parl": "23(2)", "parl-by": "23(2)", "pcc": "24(3)"},
        ),
        context=stations_context,
        scopes=per_election,
        applies=_all(_has_event("polling_stations_notice"), _contested(True)),
        ready_at=_ready_after("close_of_nominations", "withdrawals"),
        deadline=_event_deadline("polling_stations_notice", "notice_of_poll"),
        publish_from=_dated_day("polling_stations_notice", "notice_of_poll"),
        catalogue_task="publish_polling_stations_notice",
        word="polling_stations_notice",
    ),
    DocumentSpec(
        key="postal_vote_openings",
        title="Notice of postal vote opening sessions",
        title_cy="Hysbysiad o sesiynau agor pleidleisiau post",
        template=_fixed("postal_vote_openings.html.j2"),
        citation=_law(
            "At least 48 hours' notice to each candidate of each opening of postal voters' ballot boxes: "
            "Representation of the People (England and Wales) Regulations 2001 (SI 2001/341) reg 80, and "
            "the corresponding regulations for Scotland and Northern Ireland"
        ),
        context=openings_context,
        scopes=per_election,
        applies=_all(_has_event("poll"), _contested(True)),
        ready_at=_ready_after("close_of_nominations", "withdrawals"),
        deadline=_openings_deadline,
        catalogue_task="notice_postal_vote_openings",
        word="postal_vote_openings",
    ),
):
    register(_spec)


def spec_for(key: str) -> DocumentSpec:
    if key not in CATALOGUE:
        raise PollflowError(f"unknown document '{key}': documents are {', '.join(CATALOGUE)}")
    return CATALOGUE[key]
