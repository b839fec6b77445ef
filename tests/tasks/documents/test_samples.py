"""Sample polls of every kind, with details and candidates, for the document tests (and the
benchmark and the docs' example). The tests here check the samples themselves."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from store.documents.candidates import CandidateRow, check_candidate, import_candidates
from store.documents.council_details import parse_details, save_details
from store.models import Election
from store.people import PersonRow, save_people
from tasks.documents.law import default_areas
from tests.support.helpers import plan
from timetables.definitions import definitions

# One poll of every kind of poll in every nation it is held in: (kind, nation) -> id.
SAMPLE_IDS = {
    ("local", "england"): "local.wychwood.2027-05-06",
    ("local", "wales"): "local.cardiff.2027-05-06",
    ("local", "scotland"): "local.glasgow-city.2027-05-06",
    ("local", "northern-ireland"): "local.belfast.2027-05-06",
    ("parish", "england"): "local.wychwood-parishes.2027-05-06",
    ("community", "wales"): "local.ceredigion.2027-05-06",
    ("parl", "england"): "parl.stroud.2024-07-04",
    ("parl", "wales"): "parl.cardiff-east.2024-07-04",
    ("parl", "scotland"): "parl.glasgow-north.2024-07-04",
    ("parl", "northern-ireland"): "parl.belfast-south.2024-07-04",
    ("parl-by", "england"): "parl.runcorn-and-helsby.by.2025-05-01",
    ("parl-by", "wales"): "parl.caerfyrddin.by.2027-03-18",
    ("parl-by", "scotland"): "parl.hamilton.by.2027-03-18",
    ("parl-by", "northern-ireland"): "parl.foyle.by.2027-03-18",
    ("pcc", "england"): "pcc.thames-valley.2028-05-04",
    ("pcc", "wales"): "pcc.dyfed-powys.2028-05-04",
    ("la-mayor", "england"): "mayor.watford.2026-05-07",
    ("la-mayor", "wales"): "mayor.ceredigion.2027-05-06",
    ("ca-mayor", "england"): "mayor.west-midlands-ca.2028-05-04",
    ("gla", "england"): "mayor.london.2028-05-04",
    ("senedd", "wales"): "senedd.c.caerdydd-penarth.2026-05-07",
    ("sp", "scotland"): "sp.c.glasgow-kelvin.2026-05-07",
    ("nia", "northern-ireland"): "nia.belfast-north.2027-05-06",
    ("recall", "england"): "recall.somewhere.2027-03-18",
    ("recall", "wales"): "recall.somewhere-cymru.2027-03-18",
    ("recall", "scotland"): "recall.somewhere-alba.2027-03-18",
    ("recall", "northern-ireland"): "recall.somewhere-ni.2027-03-18",
    ("ref", "england"): "ref.2027-06-24",
    ("ref", "wales"): "ref.2027-06-24",
    ("ref", "scotland"): "ref.2027-06-24",
    ("ref", "northern-ireland"): "ref.2027-06-24",
    ("ref-local", "england"): "ref.wychwood.2027-05-06",
}
NO_CANDIDATES = {"recall", "ref", "ref-local"}

RO_EMAIL = "carol@wychwood.gov.uk"
PROOFER = "bob@wychwood.gov.uk"
PEOPLE = [
    PersonRow(2, "Alice Manager", "alice@wychwood.gov.uk", None, ["electoral-services-manager"]),
    PersonRow(3, "Bob Officer", PROOFER, None, ["electoral-services-officer", "postal-votes-officer"]),
    PersonRow(4, "Carol Returning", RO_EMAIL, None, ["returning-officer"]),
    PersonRow(5, "Dan Deputy", "dan@wychwood.gov.uk", None, ["deputy-returning-officer"]),
    PersonRow(6, "Erin Registration", "erin@wychwood.gov.uk", None, ["electoral-registration-officer"]),
]

# Candidates per area, in file order; the statement must show them as SURNAME_ORDER.
CANDIDATES = [
    ("Smith", "Bob", "Conservative Party Candidate", "nominated"),
    ("O'Brien", "Siân", "Green Party", "nominated"),
    ("Smith", "Alice", "Labour Party", "nominated"),
    ("Zeller", "Max", "Independent", "withdrawn"),
    ("Ahmed", "Yusuf", None, "nominated"),
]
SURNAME_ORDER = ["AHMED Yusuf", "O'BRIEN Siân", "SMITH Alice", "SMITH Bob", "ZELLER Max"]
STANDING_ORDER = SURNAME_ORDER[:-1]


def every_kind() -> list[tuple[str, str]]:
    kinds = definitions().kinds
    return [(kind, nation) for kind in sorted(kinds) for nation in kinds[kind].nations]


def areas_for(kind: str) -> list[dict]:
    if kind in ("local", "parish", "community"):
        return [{"name": "Abbey", "name_cy": "Abaty", "seats": 2}, {"name": "Castle", "seats": 1}]
    if kind == "senedd":
        return [{"name": "Caerdydd Penarth", "seats": 6, "list": True}]
    if kind == "sp":
        return [{"name": "Glasgow Kelvin", "seats": 1}]
    if kind == "nia":
        return [{"name": "Belfast North", "seats": 5}]
    if kind == "gla":
        return [{"name": "Mayor of London", "seats": 1}]
    return []  # one seat, named from the id


def details_for(election_id: str, kind: str, nation: str) -> dict:
    data = {
        "council": "Wychwood District Council",
        "returning_officer": {
            "name": "Carol Returning",
            "address": "Council Offices, 1 High Street, Wychwood, WY1 1AA",
            "phone": "01234 567890",
            "email": "elections@wychwood.gov.uk",
            "website": "www.wychwood.gov.uk/elections",
        },
        "nomination_hours": "10am to 4pm",
        "elections": {election_id: {"areas": areas_for(kind)}},
        "polling_stations": [
            {"number": 1, "place": "St Mary's Church Hall, Church Lane", "voters": "AA1-1 to AA1-1650"},
            {"number": 2, "place": "Castle Primary School, Mill Road", "voters": "AB1-1 to AB1-2100"},
        ],
        "postal_vote_openings": [
            {"starts": f"{poll_date(election_id) - dt.timedelta(days=6)}T10:00", "place": "Council Chamber"},
            {"starts": f"{poll_date(election_id)}T22:00", "place": "Wychwood Leisure Centre"},
        ],
    }
    if nation == "wales":
        data["council_cy"] = "Cyngor Dosbarth Wychwood"
    if kind in ("senedd", "sp", "nia"):  # deposits pollflow does not assume
        data["elections"][election_id]["deposit"] = {"nia": "£150"}.get(kind, "£500")
    if not data["elections"][election_id]["areas"]:
        del data["elections"][election_id]["areas"]
    return data


def poll_date(election_id: str) -> dt.date:
    return dt.date.fromisoformat(election_id.rsplit(".", 1)[1])


def candidate_rows(kind: str, nation: str, areas: list[str]) -> list[CandidateRow]:
    rows = []
    line = 2
    for area in areas:
        for surname, forenames, description, status in CANDIDATES:
            row = CandidateRow(
                line=line,
                area=area,
                surname=surname,
                forenames=forenames,
                address=f"{line} Station Road, Wychwood",
                description=description,
                status=status,
                reason="Withdrawn" if status == "withdrawn" else None,
                agent_name=f"Agent for {forenames} {surname}" if surname != "Ahmed" else None,
                agent_address=f"{line} Agent Street, Wychwood" if surname != "Ahmed" else None,
            )
            if (kind == "local" and nation == "wales") or kind == "community":
                row.party_membership = description or "Not a member of a registered party"
            if kind == "senedd" and surname in ("Smith", "O'Brien"):
                row.list_party = "Wychwood Party"
                row.list_position = {"Bob": 1, "Alice": 2, "Siân": 3}[forenames]
            rows.append(row)
            line += 1
    return rows


def setup_sample(session, kind: str, nation: str, candidates: bool = True, details: bool = True):
    """Plan the sample poll of this kind, give its details and candidates; (poll, election id)."""
    election_id = SAMPLE_IDS[(kind, nation)]
    save_people(session, PEOPLE, actor="test")
    args = {"ids": [election_id], "kinds": [kind], "nation": nation}
    if kind == "parl-by":
        writ = poll_date(election_id) - dt.timedelta(days=30)
        args["overrides"] = {"writ_received": writ.isoformat()}
    poll, _, _, _ = plan(session, **args)
    if kind in NO_CANDIDATES:
        return poll, election_id
    if details:
        save_details(session, poll, parse_details(details_for(election_id, kind, nation)), "test")
    if candidates:
        names = [a["name"] for a in areas_for(kind)]
        if not names:
            election = session.exec(select(Election).where(Election.election_id == election_id)).one()
            names = [a.name for a in default_areas(election)]
        import_candidates(
            session, poll, election_id, candidate_rows(kind, nation, names), "test", as_of=entry_as_of(poll)
        )
    return poll, election_id


def entry_as_of(poll) -> dt.datetime:
    """A moment while nominations are open (withdrawals are still allowed)."""
    from timetables.clock import LONDON

    return dt.datetime.combine(poll.poll_date - dt.timedelta(days=40), dt.time(9), tzinfo=LONDON)


def poll_as_of(poll) -> dt.datetime:
    """A moment after the statement of persons nominated and before the poll: every document due."""
    from timetables.clock import LONDON

    return dt.datetime.combine(poll.poll_date - dt.timedelta(days=3), dt.time(9), tzinfo=LONDON)


def test_every_kind_with_candidates_has_a_sample():
    from tasks.documents.law import CANDIDATE_KINDS

    assert {(k, n) for k, n in every_kind() if k in CANDIDATE_KINDS} <= set(SAMPLE_IDS)
    assert {k for k, _ in every_kind()} >= CANDIDATE_KINDS


def test_sample_candidates_are_valid():
    for kind, nation in every_kind():
        if kind in NO_CANDIDATES:
            continue
        for row in candidate_rows(kind, nation, ["Abbey"]):
            assert check_candidate(row, ["Abbey"]) == []
