"""Builds the Word templates (docxtpl: Jinja tags inside .docx) for the documents a team may want to
edit in Word: ``python templates/documents/word/build.py`` writes ``word/<name>.docx``.

The generated files are committed. A council that changes the wording edits its own copy and puts
it in ``$POLLFLOW_DOCUMENT_TEMPLATES/word/<name>.docx``, which pollflow uses first. The tags read the
same data as the HTML templates (see ``tasks/documents/catalogue.py``), strictly: a missing value is
an error naming it. English only: Welsh councils add the Welsh wording to their own copies (the HTML and PDF
notices are bilingual).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

HERE = Path(__file__).resolve().parent

VOTER_DEADLINES = [
    ('{%p if "registration" in events %}', None),
    (
        "Applications to register to vote must reach the Electoral Registration Officer by "
        "{{ events.registration.when }}. Applications can be made online: www.gov.uk/register-to-vote",
        None,
    ),
    ("{%p endif %}", None),
    ('{%p if "postal_vote" in events %}', None),
    (
        "New applications to vote by post or by postal proxy, and changes to or cancellations of existing "
        "postal or proxy votes, must reach the Electoral Registration Officer by "
        "{{ events.postal_vote.when }}.",
        None,
    ),
    ("{%p endif %}", None),
    ('{%p if "proxy" in events %}', None),
    (
        "New applications to vote by proxy (not by post) must reach the Electoral Registration Officer by "
        "{{ events.proxy.when }}.",
        None,
    ),
    ("{%p endif %}", None),
    ('{%p if "vac" in events %}', None),
    (
        "Voters need photo ID to vote at a polling station. Applications for a Voter Authority Certificate "
        "or an Anonymous Elector's Document must reach the Electoral Registration Officer by "
        "{{ events.vac.when }}.",
        None,
    ),
    ("{%p endif %}", None),
    ('{%p if "emergency_proxy" in events %}', None),
    (
        "Applications to vote by emergency proxy must reach the Electoral Registration Officer by "
        "{{ events.emergency_proxy.when }}.",
        None,
    ),
    ("{%p endif %}", None),
]

NOMINATIONS = [
    (
        "Nomination papers must be delivered by hand to the {{ ro.title }} at "
        "{{ nomination.address_line }} on "
        "any working day after the date of this notice, but no later than "
        "{{ events.close_of_nominations.when }}.",
        None,
    ),
    (
        "Nomination papers may be obtained from the {{ ro.title }} at the same address"
        '{% if "website" in ro %}, or downloaded from {{ ro.website }}{% endif %}.',
        None,
    ),
    ('{%p if election.deposit_required or "deposit" in election %}', None),
    (
        "A deposit of {{ election.deposit }} must be made by or on behalf of each candidate by the close of "
        "nominations; it may be paid in cash, by banker's draft or by electronic transfer.",
        None,
    ),
    ("{%p endif %}", None),
    ('{%p if "withdrawals" in events %}', None),
    (
        "Notices of withdrawal of candidature must be delivered to the {{ ro.title }} at the same address by "
        "{{ events.withdrawals.when }}.",
        None,
    ),
    ("{%p endif %}", None),
    ('{%p if "election_agents" in events %}', None),
    (
        "Candidates must give the {{ ro.title }} the name, address and office address of their election "
        "agent by {{ events.election_agents.when }}; a candidate who appoints no agent is their own "
        "election agent.",
        None,
    ),
    ("{%p endif %}", None),
    (
        "If the election is contested, the poll will take place on {{ election.poll_date }}, between 7am and "
        "10pm.",
        None,
    ),
]

# name -> blocks: ("p", text) | ("table", headers, loop, cells) | ("h", text)
TEMPLATES: dict[str, list] = {
    "notice_of_election": [
        (
            "table",
            ["Electoral area", "Number to be elected"],
            "a in areas",
            ["{{ a.name }}", "{{ a.seats }}"],
        ),
        *[("p", text) for text, _ in NOMINATIONS],
        *[("p", text) for text, _ in VOTER_DEADLINES],
    ],
    "sopn": [
        ("p", "{%p for s in statements %}"),
        ("h", "{{ s.area.name }}"),
        (
            "p",
            "The {{ ro.title }} gives notice that the following is a statement of the persons nominated for "
            "{{ s.area.name }}.",
        ),
        (
            "table",
            ["Name of candidate", "Description (if any)", "Home address", "Reason why no longer nominated*"],
            'c in s.get("candidates", [])',
            [
                "{{ c.surname|upper }} {{ c.forenames }}",
                '{{ c.get("description", "") }}',
                "{{ c.address }}",
                '{{ c.get("reason", "") if c.status != "nominated" else "" }}',
            ],
        ),
        (
            "p",
            "*The persons above against whose names no entry is made in the last column have been and stand "
            "validly nominated.",
        ),
        ("p", "{%p endfor %}"),
    ],
    "notice_of_poll": [
        ("p", "{%p if taken_with is defined %}"),
        ("p", "The poll for this election is taken together with the poll for {{ taken_with.polls }}."),
        ("p", "{%p endif %}"),
        ("p", "{%p for p in polls %}"),
        ("h", "{{ p.area.name }}"),
        (
            "p",
            "A poll for {{ p.area.name }} will be held on {{ election.poll_date }}, between 7am and 10pm. "
            "Number to be elected: {{ p.area.seats }}.",
        ),
        (
            "p",
            "The names, home addresses and descriptions of the candidates remaining validly nominated are:",
        ),
        (
            "table",
            ["Name of candidate", "Description (if any)", "Home address"],
            'c in p.get("candidates", [])',
            ["{{ c.surname|upper }} {{ c.forenames }}", '{{ c.get("description", "") }}', "{{ c.address }}"],
        ),
        ("p", "{%p if election.photo_id %}"),
        ("p", "Voters must show photo ID to vote at a polling station."),
        ("p", "{%p endif %}"),
        ("p", "{%p endfor %}"),
        ("h", "Polling stations"),
        (
            "p",
            "The situation of each polling station and the description of the voters entitled to vote there "
            "are:",
        ),
        (
            "table",
            ["Station number", "Situation of polling station", "Description of persons entitled to vote"],
            "s in polling_stations",
            ["{{ s.number }}", "{{ s.place }}", "{{ s.voters }}"],
        ),
    ],
    "election_agents_notice": [
        (
            "p",
            "The {{ ro.title }} gives notice that the names and office addresses of the election agents "
            "appointed, or deemed to be appointed, by the candidates are as follows.",
        ),
        (
            "table",
            ["Candidate", "Name of election agent", "Address of office"],
            "a in agents",
            ["{{ a.surname|upper }} {{ a.forenames }}", "{{ a.agent_name }}", "{{ a.agent_address }}"],
        ),
    ],
    "polling_stations_notice": [
        (
            "p",
            "The {{ ro.title }} gives notice that, for the poll on {{ election.poll_date }} between 7am and "
            "10pm, the situation of the polling stations and the description of the persons entitled to vote "
            "at "
            "each are:",
        ),
        ("p", "{%p if taken_with is defined %}"),
        (
            "p",
            "The poll for this election is taken together with the poll for {{ taken_with.polls }}, at the "
            "same polling stations.",
        ),
        ("p", "{%p endif %}"),
        (
            "table",
            ["Station number", "Situation of polling station", "Description of persons entitled to vote"],
            "s in polling_stations",
            ["{{ s.number }}", "{{ s.place }}", "{{ s.voters }}"],
        ),
    ],
    "uncontested": [
        ("p", "{%p for r in results %}"),
        ("h", "{{ r.area.name }}"),
        (
            "p",
            "I, {{ ro.name }}, the {{ ro.title }}, give notice that the number of persons remaining validly "
            "nominated for {{ r.area.name }} did not exceed the number of seats, and that the following are "
            "duly "
            "elected without a poll:",
        ),
        (
            "table",
            ["Name", "Description (if any)"],
            'c in r.get("elected", [])',
            ["{{ c.surname|upper }} {{ c.forenames }}", '{{ c.get("description", "") }}'],
        ),
        ("p", "{%p endfor %}"),
    ],
    "postal_vote_openings": [
        (
            "p",
            "The {{ ro.title }} gives notice that postal votes will be opened at the following times and "
            "places. This notice is given at least 48 hours before each session.",
        ),
        ("table", ["Date and time", "Place"], "s in postal_vote_openings", ["{{ s.when }}", "{{ s.place }}"]),
        (
            "p",
            "Candidates and their election agents may attend, or appoint postal voting agents to attend on "
            "their behalf. Everyone attending must keep the secrecy of the ballot.",
        ),
    ],
    "candidates_timetable": [
        ("p", "The deadlines for the election to be held on {{ election.poll_date }}."),
        (
            "table",
            ["Event", "Date and time", "Legislation"],
            "e in timetable",
            ["{{ e.label }}", "{{ e.when }}", "{{ e.citation }}"],
        ),
    ],
}


def _paragraph(doc, text: str, *, bold=False, size=None, align=None):
    paragraph = doc.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if align:
        paragraph.alignment = align
    return paragraph


def build(name: str, blocks: list) -> Document:
    doc = Document()
    # python-docx's blank document is US Letter: notices are printed on A4, with the PDF's margins.
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = section.top_margin = Mm(15)
    section.bottom_margin = Mm(17)
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10.5)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(doc, "{{ council }}", bold=True, size=13, align=centre)
    _paragraph(doc, "{{ doc.title|upper }}", bold=True, size=20, align=centre)
    # SI 2007/3541 Sch 6 r.23(4): a GLA notice of poll is headed in capitals.
    heading = "{{ election.heading }}"
    if name == "notice_of_poll":
        heading = "{{ election.heading|upper if election.kind == 'gla' else election.heading }}"
    _paragraph(doc, heading, bold=True, size=11.5, align=centre)
    for block in blocks:
        kind = block[0]
        if kind == "p":
            _paragraph(doc, block[1])
        elif kind == "h":
            _paragraph(doc, block[1], bold=True, size=12)
        elif kind == "table":
            _, headers, loop, cells = block
            table = doc.add_table(rows=4, cols=len(headers))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for cell, text in zip(table.rows[0].cells, headers, strict=True):
                cell.text = ""
                cell.paragraphs[0].add_run(text).bold = True
            table.rows[1].cells[0].text = f"{{%tr for {loop} %}}"
            for cell, text in zip(table.rows[2].cells, cells, strict=True):
                cell.text = text
            table.rows[3].cells[0].text = "{%tr endfor %}"
    _paragraph(doc, "Dated: {{ dated }}")
    _paragraph(doc, "{{ ro.name }}", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, "{{ ro.title }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, "Printed and published by the {{ ro.title }}, {{ ro.address_line }}", size=8.5)
    _paragraph(doc, "{{ doc.citation }}.", size=7.5)
    doc.core_properties.title = name
    doc.core_properties.author = "pollflow"
    fixed = dt.datetime(2026, 11, 23)  # the same bytes from the same script: no build-time stamps
    doc.core_properties.created = doc.core_properties.modified = fixed
    doc.core_properties.last_modified_by = "pollflow"
    doc.core_properties.revision = 1
    return doc


def main(names: list[str]) -> None:
    for name, blocks in TEMPLATES.items():
        if names and name not in names:
            continue
        path = HERE / f"{name}.docx"
        build(name, blocks).save(path)
        print(f"wrote {path.relative_to(HERE.parent.parent.parent)}")


if __name__ == "__main__":
    main(sys.argv[1:])
