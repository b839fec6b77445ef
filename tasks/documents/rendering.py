"""The one document renderer: templates under ``templates/documents/`` (or a council's own folder,
POLLFLOW_DOCUMENT_TEMPLATES, searched first) rendered strictly to HTML, PDF and Word.

Every document pollflow prints goes through here, notices and staff letters alike, so that there
is one answer to "what happens when a value is missing": templates see their data through
``Fields`` and ``Items``, and a value that is missing, None, blank or an empty list is a
``MissingFieldError`` naming it (``ro.address``, ``candidates[2].address``), never a blank or
"None" on a printed page. A value a template may leave out it asks for with
``.get(name, default)``, tests with ``"name" in x`` or, at the top level, ``name is defined`` (or
``name | default(...)``): the exception is written down where it is made.

- ``render_html``: a template and its context to HTML (``banner``, e.g. DRAFT, across each page).
- ``html_to_pdf``, ``pdfs`` (many, in parallel processes), ``htmls_to_pdf`` (one print run):
  WeasyPrint, with one font configuration per process.
- ``render_docx``: the same context through a Word template (docxtpl), as strictly, on A4 and
  with the DRAFT mark at the head of each page until the notice is approved.
- ``render_as``: a stored version as html, pdf or docx.
- ``content_hash``: of a context and its template's source, so that a version changes exactly
  when what the document says changes.

Nothing here reads the store: callers bring the context, already worded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from templates import DOCUMENTS_DIR
from timetables import settings
from timetables.errors import PollflowError

# --------------------------------------------------------------------------------------------
# Strict data for templates


class MissingFieldError(PollflowError):
    """A value a document needs is not there."""

    def __init__(self, field_path: str, document: str | None = None):
        self.field = field_path
        self.document = document
        where = f"{document}: " if document else ""
        hint = _hint(field_path)
        super().__init__(f"{where}no value for {field_path}{hint}")


HINTS = (
    ("council_cy", " (a Welsh poll's notices are bilingual: give council_cy, the council's Welsh name)"),
    ("council", " (set it in the document details: pollflow document details ELECTION FILE)"),
    ("ro.", " (the returning_officer in the document details)"),
    ("areas", " (list each electoral area and its seats under elections: <id>: areas: in the details)"),
    ("polling_stations", " (list the polling stations in the document details)"),
    ("postal_vote_openings", " (list the postal vote opening sessions in the document details)"),
    ("deposit", " (give the deposit under elections: <id>: deposit: in the document details)"),
    ("candidates", " (import the candidates: pollflow candidates import ELECTION FILE)"),
    ("events.", " (the poll's timetable has no such event: plan or replan the poll)"),
)


def _hint(path: str) -> str:
    for prefix, hint in HINTS:
        if path.startswith(prefix) or f".{prefix}" in path or f"]{prefix}" in path:
            return hint
    return ""


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, (list, tuple, dict)) and len(value) == 0)
    )


def wrap(value: Any, path: str) -> Any:
    if isinstance(value, Mapping):
        return Fields(value, path)
    if isinstance(value, (list, tuple)):
        return Items(value, path)
    return value


class Fields(Mapping):
    """A mapping whose missing, None, blank or empty values are errors naming them."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: Mapping, path: str = ""):
        self._data = data
        self._path = path

    def _name(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def __getitem__(self, key: str) -> Any:
        value = self._data.get(key)
        if _missing(value):
            raise MissingFieldError(self._name(key))
        return wrap(value, self._name(key))

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def get(self, key: str, default: Any = None) -> Any:
        value = self._data.get(key)
        return default if _missing(value) else wrap(value, self._name(key))

    def __contains__(self, key: object) -> bool:
        return not _missing(self._data.get(key))  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Items(Sequence):
    __slots__ = ("_data", "_path")

    def __init__(self, data: Sequence, path: str):
        self._data = data
        self._path = path

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return Items(self._data[index], self._path)
        return wrap(self._data[index], f"{self._path}[{index}]")

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self):
        for n, value in enumerate(self._data):
            yield wrap(value, f"{self._path}[{n}]")


class _Undefined(StrictUndefined):
    """A name the context does not have at all: the same error, naming it."""

    __slots__ = ()

    def _fail_with_undefined_error(self, *args, **kwargs):
        raise MissingFieldError(self._undefined_name or "(a value)")

    __str__ = __iter__ = __len__ = __bool__ = __eq__ = __getattr__ = _fail_with_undefined_error  # type: ignore[assignment]
    __hash__ = object.__hash__


def _finalize(value: Any) -> Any:
    if value is None:
        raise MissingFieldError("(a value that is None)")
    return value


def _ucfirst(text: str) -> str:
    return text[:1].upper() + text[1:]


def _missing_value(name: str):
    raise MissingFieldError(name)


# --------------------------------------------------------------------------------------------
# The one environment, and HTML


def template_dirs() -> list[Path]:
    """A council's own templates first (POLLFLOW_DOCUMENT_TEMPLATES), then pollflow's."""
    own = settings.load().document_templates
    return ([own] if own else []) + [DOCUMENTS_DIR]


@cache
def _environment(dirs: tuple[Path, ...]) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in dirs]),
        undefined=_Undefined,
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ucfirst"] = _ucfirst
    env.globals["missing"] = _missing_value
    return env


def environment() -> Environment:
    return _environment(tuple(template_dirs()))


def render_html(
    template: str, context: Mapping, *, banner: str | None = None, name: str | None = None
) -> str:
    """A template rendered strictly; ``banner`` (e.g. "DRAFT") is printed across every page but is
    not part of the content."""
    try:
        tmpl = environment().get_template(template)
    except TemplateNotFound as exc:
        raise PollflowError(
            f"no document template {template} in {', '.join(map(str, template_dirs()))}"
        ) from exc
    try:
        top = {key: wrap(_shield(value), key) for key, value in context.items() if not _missing(value)}
        html = tmpl.render(top, banner=_shield(banner))
    except MissingFieldError as exc:
        raise MissingFieldError(exc.field, name or template) from None
    if "{{" in html or "{%" in html:  # the template's own markup left unrendered (a typo in it)
        raise PollflowError(f"{name or template}: the output still holds template markup")
    return html.replace(SHIELD, "{")


# A brace in the data (a station called "{{ Hall }}") is text, not markup: it is carried through the
# rendering as a private-use character, so the check for markup left behind sees only the template's.
SHIELD = "\ue000"


def _shield(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("{", SHIELD)
    if isinstance(value, Mapping):
        return {k: _shield(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_shield(v) for v in value)
    return value


# --------------------------------------------------------------------------------------------
# PDF (WeasyPrint)


@cache
def _fonts():
    """One font configuration for the process: WeasyPrint then finds and loads fonts once (a
    quarter off the time of each PDF)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(DOCUMENTS_DIR)).write_pdf(font_config=_fonts())


def pdfs(pages: list[str], workers: int | None = None) -> list[bytes]:
    """One PDF per document, in parallel processes for a large run (letters to each member of
    staff): WeasyPrint's layout is the cost, and it uses one core per process."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(pages) < 50:
        return [html_to_pdf(page) for page in pages]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # each worker loads its own fonts
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(html_to_pdf, pages, chunksize=max(1, len(pages) // (workers * 8))))


def htmls_to_pdf(pages: list[str]) -> bytes:
    """Several documents as one PDF (a print run), each starting on a new page."""
    from weasyprint import HTML

    documents = [HTML(string=h, base_url=str(DOCUMENTS_DIR)).render(font_config=_fonts()) for h in pages]
    first = documents[0]
    all_pages = [page for doc in documents for page in doc.pages]
    return first.copy(all_pages).write_pdf()


# --------------------------------------------------------------------------------------------
# Word (docxtpl)


def word_template_path(name: str) -> Path:
    for folder in template_dirs():
        path = folder / "word" / f"{name}.docx"
        if path.exists():
            return path
    raise PollflowError(f"no Word template word/{name}.docx in {', '.join(map(str, template_dirs()))}")


def render_docx(
    name: str, context: Mapping, *, document: str | None = None, banner: str | None = None
) -> bytes:
    """A Word document from ``word/<name>.docx`` (docxtpl: Jinja tags in Word), rendered strictly,
    on A4; ``banner`` (DRAFT) at the head of every page and above the first line, as the PDF has it
    across every page, and like it not part of the content."""
    from docxtpl import DocxTemplate

    template = DocxTemplate(str(word_template_path(name)))
    env = Environment(undefined=_Undefined, finalize=_finalize, autoescape=True)
    env.filters["ucfirst"] = _ucfirst
    top = {key: wrap(value, key) for key, value in context.items() if not _missing(value)}
    try:
        template.render(top, jinja_env=env)
    except MissingFieldError as exc:
        raise MissingFieldError(exc.field, document or name) from None
    _a4(template.docx)
    if banner:
        _draft_mark(template.docx, banner)
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


def _a4(word) -> None:
    """Every section on A4, portrait: UK notices are printed on it, and a council's own template
    made from Word's US default (Letter) would otherwise print cut off or with a wide margin."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    for section in word.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)


def _draft_mark(word, banner: str) -> None:
    """The DRAFT mark in Word: bold red in each section's header (so on every page, however the
    notice runs on) and as the document's first paragraph, so that a draft opened, copied or
    printed from Word cannot pass for the approved notice."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    def mark(paragraph) -> None:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(banner)
        run.bold = True
        run.font.size = Pt(14)
        run.font.color.rgb = RGBColor(0xBE, 0, 0)

    for section in word.sections:
        header = section.header
        header.is_linked_to_previous = False
        mark(header.paragraphs[0] if header.paragraphs else header.add_paragraph())
    first = word.paragraphs[0] if word.paragraphs else None
    mark(first.insert_paragraph_before() if first is not None else word.add_paragraph())


# --------------------------------------------------------------------------------------------
# A version's hash, and a stored version in any format


def content_hash(template: str, context: Mapping) -> str:
    """The hash a version is known by: of the template's name and source (the first found, as
    rendering finds it) and the context, so a changed template or changed data make a new version."""
    source = ""
    for folder in template_dirs():
        path = folder / template
        if path.exists():
            source = path.read_text(encoding="utf-8")
            break
    canonical = json.dumps({"t": template, "s": source, "c": context}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def render_as(
    fmt: str,
    template: str,
    context: dict,
    html: str | None,
    word: str | None,
    name: str,
    banner: str | None = None,
) -> bytes:
    """A document (a stored version's template, context and HTML) as html, pdf or docx: the same
    content in each; ``banner`` (DRAFT) across every page of the html and pdf, and at the head of
    every page of the docx."""
    if fmt in ("html", "pdf"):
        if banner is not None or html is None:
            html = render_html(template, context, banner=banner, name=name)
        return html.encode() if fmt == "html" else html_to_pdf(html)
    if fmt == "docx":
        if word is None:
            raise PollflowError(f"{name} has no Word template: formats are html, pdf")
        return render_docx(word, context, document=name, banner=banner)
    raise PollflowError(f"unknown format '{fmt}': formats are html, pdf, docx")
