"""The law as it differs between kinds of poll: which notice-of-election template and which rules
each kind follows, its headings and officers' titles (in English and Welsh), its deposit, and its
default electoral area.

Mostly tables: a new kind of poll, or a change in the law, is a change here and nowhere else.
"""

from __future__ import annotations

from store.documents.council_details import Area
from store.models import Election
from timetables.ids import parse_election_id, place_name

CANDIDATE_KINDS = frozenset(
    {
        "local",
        "parish",
        "community",
        "parl",
        "parl-by",
        "pcc",
        "la-mayor",
        "ca-mayor",
        "gla",
        "senedd",
        "sp",
        "nia",
    }
)

NOTICE_OF_ELECTION_TEMPLATES = {
    "local": "principal",
    "parish": "parish",
    "community": "parish",
    "parl": "parliament",
    "parl-by": "parliament",
    "pcc": "pcc",
    "la-mayor": "mayoral",
    "ca-mayor": "mayoral",
    "gla": "gla",
    "senedd": "senedd",
    "sp": "scottish",
    "nia": "northern_ireland",
}

# The law each kind's notice of election follows. There is no prescribed form: the wording follows
# the Electoral Commission's templates for (A)ROs.
NOTICE_OF_ELECTION_LAW = {
    (
        "local",
        "england",
    ): "Local Elections (Principal Areas) (England and Wales) Rules 2006 (SI 2006/3304) Sch 2, "
    "notice of election (timetable r.1)",
    ("local", "wales"): "Local Elections (Principal Areas) (Wales) Rules 2021 (WSI 2021/1459) Sch 1 Part 2, "
    "notice of election",
    (
        "local",
        "scotland",
    ): "Scottish Local Government Elections Order 2011 (SSI 2011/399) Sch 1, notice of election",
    ("local", "northern-ireland"): "Electoral Law Act (Northern Ireland) 1962 Sch 5 (local elections rules), "
    "notice of election",
    ("parish", "england"): "Local Elections (Parishes and Communities) (England and Wales) Rules 2006 "
    "(SI 2006/3305) Sch 2 r.3",
    (
        "community",
        "wales",
    ): "Local Elections (Communities) (Wales) Rules 2021 (WSI 2021/1460) Sch 1, notice of election",
    "parl": "Representation of the People Act 1983 Sch 1 (Parliamentary Elections Rules) r.5",
    "parl-by": "Representation of the People Act 1983 Sch 1 (Parliamentary Elections Rules) r.5",
    "pcc": "Police and Crime Commissioner Elections Order 2012 (SI 2012/1917) Sch 3, notice of election",
    "la-mayor": "Local Authorities (Mayoral Elections) (England and Wales) Regulations 2007 (SI 2007/1024) "
    "Sch 1, "
    "notice of election",
    "ca-mayor": "Combined Authorities (Mayoral Elections) Order 2017 (SI 2017/67) Sch 1, notice of election",
    "gla": "Greater London Authority Elections Rules 2007 (SI 2007/3541), notice of election",
    "senedd": "Senedd Cymru (Representation of the People) Order 2025 (WSI 2025/864) Sch 5, "
    "notice of election",
    "sp": "Scottish Parliament (Elections etc.) Order 2015 (SSI 2015/425) Sch 2, notice of election "
    "(r.1 window)",
    "nia": "Northern Ireland Assembly (Elections) Order 2001 (Parliamentary Elections Rules as applied), r.5",
}

RULES = {
    "parl": "RPA 1983 Sch 1 (Parliamentary Elections Rules)",
    "parl-by": "RPA 1983 Sch 1 (Parliamentary Elections Rules)",
    "local:england": "SI 2006/3304 Sch 2",
    "local:wales": "WSI 2021/1459 Sch 1",
    "local:scotland": "SSI 2011/399 Sch 1",
    "local:northern-ireland": "Electoral Law Act (NI) 1962 Sch 5",
    "parish": "SI 2006/3305 Sch 2",
    "community": "WSI 2021/1460 Sch 1",
    "pcc": "SI 2012/1917 Sch 3",
    "la-mayor": "SI 2007/1024 Sch 1",
    "ca-mayor": "SI 2017/67 Sch 1",
    "gla": "SI 2007/3541",
    "senedd": "WSI 2025/864 Sch 5",
    "sp": "SSI 2015/425 Sch 2",
    "nia": "Northern Ireland Assembly (Elections) Order 2001",
}


def rules_of(election: Election) -> str:
    return RULES.get(f"{election.kind}:{election.nation}") or RULES[election.kind]


def law_of_notice(election: Election) -> str:
    return (
        NOTICE_OF_ELECTION_LAW.get((election.kind, election.nation)) or NOTICE_OF_ELECTION_LAW[election.kind]
    )


# Deposits pollflow knows (each kind's election rules); others come from the details.
DEPOSITS = {
    "parl": "£500",  # RPA 1983 Sch 1 r.9
    "parl-by": "£500",
    "pcc": "£5,000",  # SI 2012/1917 Sch 3
    "la-mayor": "£500",  # SI 2007/1024 (explanatory note)
    "ca-mayor": "£5,000",  # SI 2017/67 Sch 1
    "gla": "£10,000 for the Mayor of London, £5,000 for London-wide members, £1,000 for constituency members",
}

# Kinds whose candidates pay a deposit: a notice of election for them must state it, so a missing
# amount (Senedd, Scottish Parliament, NI Assembly: not known to pollflow) is an error naming it.
DEPOSIT_KINDS = frozenset({"parl", "parl-by", "pcc", "la-mayor", "ca-mayor", "gla", "senedd", "sp", "nia"})

RO_TITLES = {
    "pcc": ("Police Area Returning Officer", "Swyddog Canlyniadau Ardal yr Heddlu"),
    "ca-mayor": ("Combined Authority Returning Officer", None),
    "gla": ("Greater London Returning Officer", None),
    "sp": ("Constituency Returning Officer", None),
    "senedd": ("Constituency Returning Officer", "Swyddog Canlyniadau'r Etholaeth"),
}
RETURNING_OFFICER = ("Returning Officer", "Swyddog Canlyniadau")


def ro_title(election: Election) -> tuple[str, str | None]:
    if election.kind in ("parl", "parl-by") and election.nation in ("england", "wales"):
        # RPA 1983 s.28: in England and Wales the Acting Returning Officer runs a UK Parliament poll.
        return ("Acting Returning Officer", "Swyddog Canlyniadau Gweithredol")
    return RO_TITLES.get(election.kind, RETURNING_OFFICER)


HEADINGS = {
    "local": ("Election of Councillors", "Etholiad Cynghorwyr"),
    "parish": ("Election of Parish Councillors", None),
    "community": ("Election of Community Councillors", "Etholiad Cynghorwyr Cymuned"),
    "parl": (
        "Election of a Member of Parliament for the {area} Constituency",
        "Etholiad Aelod Seneddol dros Etholaeth {area_cy}",
    ),
    "parl-by": (
        "Election of a Member of Parliament for the {area} Constituency",
        "Etholiad Aelod Seneddol dros Etholaeth {area_cy}",
    ),
    "pcc": (
        "Election of a Police and Crime Commissioner for the {area} Police Area",
        "Etholiad Comisiynydd Heddlu a Throseddu ar gyfer Ardal Heddlu {area_cy}",
    ),
    "la-mayor": ("Election of the Mayor of {area}", "Etholiad Maer {area_cy}"),
    "ca-mayor": ("Election of the Mayor of the {area}", None),
    "gla": ("Greater London Authority Election", None),
    "senedd": ("Senedd Cymru Election", "Etholiad Senedd Cymru"),
    "sp": ("Scottish Parliament Election", None),
    "nia": ("Northern Ireland Assembly Election", None),
}
SINGLE_AREA_KINDS = {"parl", "parl-by", "pcc", "la-mayor", "ca-mayor"}


def default_areas(election: Election) -> list[Area]:
    """One area, named from the id, where the poll is for one seat in one area."""
    eid = parse_election_id(election.election_id)
    name = eid.division or eid.organisation
    if election.kind in SINGLE_AREA_KINDS and name:
        return [Area(name=place_name(name), seats=1)]
    if election.kind == "gla" and name == "london":
        return [Area(name="London", seats=1)]
    return []


def bilingual(election: Election) -> bool:
    return election.nation == "wales"


def _joined(names: list[str], last: str) -> str:
    if len(names) == 1:
        return names[0]
    if last == "a" and names[-1][:1].lower() in "aeiouwyh":
        last = "ac"  # Welsh 'and' before a vowel
    return f"{', '.join(names[:-1])} {last} {names[-1]}"


def _as_named(heading: str) -> str:
    """'Election of Parish Councillors' as a notice names it mid-sentence: 'the election of parish
    councillors'; 'Greater London Authority Election': 'the Greater London Authority election'.
    Offices and places keep their capitals (a Member of Parliament, the Stroud Constituency)."""
    text = heading.replace("Election of ", "election of ").replace(" Election", " election")
    for word in ("Parish ", "Community ", "Councillors"):
        text = text.replace(word, word.lower())
    return f"the {text}"


def taken_together(
    election: Election, heading: str | None, heading_cy: str | None, areas: list[Area]
) -> tuple[str, str]:
    """How a notice of another poll taken with this one names it, in English and Welsh: 'the
    election of parish councillors for Abbey and Castle'. A council or parish election names its
    areas (its heading does not); a referendum its title."""
    if heading is None:
        return f"the {election.title[:1].lower()}{election.title[1:]}", f"y {election.title}"
    english, welsh = _as_named(heading), f"yr {heading_cy or heading}"
    if election.kind in ("local", "parish", "community") and areas:
        english += f" for {_joined([a.name for a in areas], 'and')}"
        welsh += f" ar gyfer {_joined([a.name_cy or a.name for a in areas], 'a')}"
    return english, welsh
