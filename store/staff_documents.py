"""Staff documents (appointment letters, training invitations): HTML from
templates/documents/staff/, made into PDF by WeasyPrint.

``render_pdf`` is the one small function that turns a template and its values into a PDF; the
general documents system folds it in later. Rendering is strict: a value the template names but
is not given is an error naming it, never a blank on a letter.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from templates import DOCUMENTS_DIR


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(DOCUMENTS_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "html.j2"]),
    )


def render_html(template: str, **context) -> str:
    """``template`` under templates/documents/, e.g. 'staff/appointment_letter.html.j2'."""
    return environment().get_template(template).render(**context)


def render_pdf(template: str, **context) -> bytes:
    from weasyprint import HTML  # imported here: it is slow to import and only letters need it

    return HTML(string=render_html(template, **context), base_url=str(DOCUMENTS_DIR)).write_pdf()
