"""Rendering 2,000 appointment-letter-like documents to HTML and to PDF.

Each letter is rendered through pollflow's document renderer (strict: every value checked, a
missing one named; output checked for unfilled markup), from a template in a council's own
template folder (POLLFLOW_DOCUMENT_TEMPLATES, as a council would add one). Reports documents per
second, and the ratio against a reference run in the same process: the same template rendered by
bare Jinja2 from a plain dict (no strictness, no checks). Target: 2,000 letters to HTML in under 5 s.

PDF (WeasyPrint's layout is the cost): one file per letter in one process (a sample of 100, with
the time it gives for 2,000), all 2,000 in parallel processes (one per core), and a print run of
200 letters as one PDF.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

LETTERS = 2_000
SINGLE_PDF_SAMPLE = 100
PRINT_RUN = 200

LETTER = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Appointment: {{ person.name }}</title>
<style>
@page { size: A4; margin: 18mm; }
html { font-family: Arial, "Liberation Sans", sans-serif; font-size: 10.5pt; line-height: 1.4; }
.from { text-align: right; } .to { margin: 12mm 0 8mm; } h1 { font-size: 14pt; }
table { border-collapse: collapse; width: 100%; } td, th { border: 0.75pt solid #000; padding: 3pt 5pt; }
</style></head>
<body>
<div class="from">{{ council }}<br>{% for line in ro.address %}{{ line }}<br>{% endfor %}{{ ro.phone }}</div>
<div class="to">{{ person.name }}<br>{% for line in person.address %}{{ line }}<br>{% endfor %}</div>
<p>{{ dated }}</p>
<h1>Appointment as {{ post.role }}: {{ election.heading }}, {{ election.poll_date }}</h1>
<p>Dear {{ person.name }},</p>
<p>I am pleased to appoint you as {{ post.role }} at polling station {{ post.station.number }},
{{ post.station.place }}, for the poll on {{ election.poll_date }} (7am to 10pm). Please arrive by
{{ post.arrive }}.</p>
<table><tr><th>Training</th><td>{{ training.when }}, {{ training.place }}</td></tr>
<tr><th>Ballot box collection</th><td>{{ post.collection }}</td></tr>
<tr><th>Fee</th><td>{{ post.fee }}{% if post.get("allowance") %} plus {{ post.allowance }}{% endif %}</td>
</tr></table>
<p>You must keep the secrecy of the ballot (Representation of the People Act 1983 s.66).</p>
<p>Yours sincerely,</p><p><strong>{{ ro.name }}</strong><br>{{ ro.title }}</p>
</body></html>
"""


def letter(n: int) -> dict:
    return {
        "council": "Wychwood District Council",
        "dated": "Monday 12 April 2027",
        "ro": {
            "name": "Carol Returning",
            "title": "Returning Officer",
            "address": ["Council Offices", "1 High Street", "Wychwood", "WY1 1AA"],
            "phone": "01234 567890",
        },
        "election": {"heading": "Wychwood District Council election", "poll_date": "Thursday 6 May 2027"},
        "person": {"name": f"Person {n:04d}", "address": [f"{n} Station Road", "Wychwood", "WY1 2AB"]},
        "post": {
            "role": "Presiding Officer" if n % 3 == 0 else "Poll Clerk",
            "station": {"number": str(1 + n % 160), "place": f"Polling place {1 + n % 160}, Church Lane"},
            "arrive": "6:15am",
            "collection": "4pm on Wednesday 5 May 2027, Council Offices",
            "fee": "£250.00" if n % 3 == 0 else "£175.00",
            "allowance": "£12.50 travel" if n % 5 == 0 else None,
        },
        "training": {"when": "6:30pm on Tuesday 20 April 2027", "place": "Council Chamber"},
    }


def run() -> None:
    folder = Path(tempfile.mkdtemp(prefix="pollflow-bench-templates-"))
    (folder / "letter.html.j2").write_text(LETTER, encoding="utf-8")
    os.environ["POLLFLOW_DOCUMENT_TEMPLATES"] = str(folder)

    from jinja2 import Environment

    from tasks.documents.rendering import html_to_pdf, htmls_to_pdf, pdfs, render_html

    contexts = [letter(n) for n in range(LETTERS)]
    render_html("letter.html.j2", contexts[0])  # load and compile once, as a long run would

    start = time.perf_counter()
    pages = [render_html("letter.html.j2", c, name="appointment letter") for c in contexts]
    ours = time.perf_counter() - start

    bare = Environment(autoescape=True).from_string(LETTER)
    start = time.perf_counter()
    for c in contexts:
        bare.render(**c)
    reference = time.perf_counter() - start

    print(
        f"HTML: {LETTERS} letters in {ours:.2f} s ({LETTERS / ours:,.0f} documents/s); target under 5 s: "
        f"{'met' if ours < 5 else 'MISSED'}"
    )
    print(
        f"  reference (bare Jinja2, no strictness): {reference:.2f} s ({LETTERS / reference:,.0f}/s); "
        f"ratio {ours / reference:.1f}x"
    )

    start = time.perf_counter()
    for page in pages[:SINGLE_PDF_SAMPLE]:
        html_to_pdf(page)
    single = time.perf_counter() - start
    rate = SINGLE_PDF_SAMPLE / single
    print(
        f"PDF, one process: {SINGLE_PDF_SAMPLE} letters in {single:.1f} s ({rate:,.1f} documents/s; "
        f"{LETTERS / rate:,.0f} s for {LETTERS})"
    )

    workers = os.cpu_count() or 1
    start = time.perf_counter()
    files = pdfs(pages, workers)
    parallel = time.perf_counter() - start
    print(
        f"PDF, {workers} processes: {LETTERS} letters, one file each ({sum(map(len, files)) / 1e6:.1f} MB), "
        f"in {parallel:.1f} s ({LETTERS / parallel:,.1f} documents/s)"
    )

    start = time.perf_counter()
    pdf = htmls_to_pdf(pages[:PRINT_RUN])
    batch = time.perf_counter() - start
    print(
        f"PDF, one print run of {PRINT_RUN} letters ({len(pdf) / 1e6:.1f} MB) in {batch:.1f} s "
        f"({PRINT_RUN / batch:,.1f} documents/s)"
    )
