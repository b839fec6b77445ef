"""Makes the examples in docs/examples from the test suite's sample polls: a notice of election
(England) and a bilingual statement of persons nominated (Wales), as PDF and as a PNG of page 1.

    .venv/bin/python docs/examples/build.py

Needs pypdfium2 (a dev dependency) to draw the PNGs.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
os.environ["POLLFLOW_HOME"] = tempfile.mkdtemp(prefix="pollflow-docs-")

EXAMPLES = [
    ("local", "england", "notice_of_election", "notice-of-election"),
    ("local", "wales", "sopn", "statement-of-persons-nominated-bilingual"),
]


def main() -> None:
    import pypdfium2

    from store.db import get_engine, session_scope
    from store.documents.versions import find_document, latest_version
    from tasks.documents.produce import produce
    from tasks.documents.rendering import html_to_pdf
    from tests.tasks.documents.test_samples import poll_as_of, setup_sample

    for kind, nation, key, name in EXAMPLES:
        engine = get_engine(f"sqlite:///{tempfile.mkdtemp()}/examples.db")
        with session_scope(engine) as session:
            poll, election_id = setup_sample(session, kind, nation)
            produce(session, poll, poll_as_of(poll))
            _, doc = find_document(session, election_id, key)
            pdf = html_to_pdf(latest_version(session, doc).html)
        (HERE / f"{name}.pdf").write_bytes(pdf)
        page = pypdfium2.PdfDocument(pdf)[0]
        page.render(scale=1.4).to_pil().convert("RGB").save(HERE / f"{name}.png", optimize=True)
        print(f"wrote docs/examples/{name}.pdf and .png")


if __name__ == "__main__":
    main()
