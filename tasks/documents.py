"""Statutory notices (and, registered from elsewhere, letters): what each poll needs, built from the
store, rendered strictly to HTML, PDF and Word, and published.

- **Strict rendering.** Templates (``templates/documents/``) see their data through ``Fields``: a
  value that is missing, None, blank or an empty list is an error naming it (``ro.address``,
  ``candidates[2].address``), never a blank or "None" on a notice. A value a template may leave out
  it asks for with ``.get(name, default)`` or tests with ``"name" in x``: the exception is written
  down where it is made.
- **Contexts are plain data, already worded.** Dates are formatted as a UK notice writes them ("4pm
  on Tuesday 4 June 2024"; in Welsh "4 o'r gloch y prynhawn ar ddydd Mawrth 4 Mehefin 2024"), from
  the stored timetable. A version's hash is of its context and template, so a version changes
  exactly when what the notice says changes, and its HTML, PDF and Word can be made again from it.
- **The catalogue** (``CATALOGUE``) says, for each document, the kinds of poll it applies to, its
  template, the law it follows, the event its publishing deadline comes from, when it can first be
  drawn up, and how its data are gathered. ``register()`` adds documents whose data come from
  elsewhere (staff letters): a spec with its own ``scopes`` and ``context`` functions.

Plain functions, tested without Prefect; the Prefect tasks at the end wrap them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from sqlmodel import Session, select

from store import documents as store
from store.document_models import Candidate, Document, DocumentVersion
from store.models import Election, Poll, TimetableEvent, WorkItem
from store.timeutil import LONDON, local
from templates import DOCUMENTS_DIR
from timetables.errors import PollflowError
from timetables.ids import parse_election_id, place_name

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


def template_dirs() -> list[Path]:
    """A council's own templates first (POLLFLOW_DOCUMENT_TEMPLATES), then pollflow's."""
    own = os.environ.get("POLLFLOW_DOCUMENT_TEMPLATES")
    return ([Path(own)] if own else []) + [DOCUMENTS_DIR]


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
        top = {key: wrap(value, key) for key, value in context.items() if not _missing(value)}
        html = tmpl.render(top, banner=banner)
    except MissingFieldError as exc:
        raise MissingFieldError(exc.field, name or template) from None
    if "{{" in html or "{%" in html:
        raise PollflowError(f"{name or template}: the output still holds template markup")
    return html


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


def word_template_path(name: str) -> Path:
    for folder in template_dirs():
        path = folder / "word" / f"{name}.docx"
        if path.exists():
            return path
    raise PollflowError(f"no Word template word/{name}.docx in {', '.join(map(str, template_dirs()))}")


def render_docx(name: str, context: Mapping, *, document: str | None = None) -> bytes:
    """A Word document from ``word/<name>.docx`` (docxtpl: Jinja tags in Word), rendered strictly."""
    from docxtpl import DocxTemplate

    template = DocxTemplate(str(word_template_path(name)))
    env = Environment(undefined=_Undefined, finalize=_finalize, autoescape=True)
    env.filters["ucfirst"] = _ucfirst
    top = {key: wrap(value, key) for key, value in context.items() if not _missing(value)}
    try:
        template.render(top, jinja_env=env)
    except MissingFieldError as exc:
        raise MissingFieldError(exc.field, document or name) from None
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Dates and times as notices write them

CY_DAYS = ("Llun", "Mawrth", "Mercher", "Iau", "Gwener", "Sadwrn", "Sul")
CY_MONTHS = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)


def date_text(day: dt.date) -> str:
    """'Tuesday 4 June 2024'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def time_text(at: dt.time) -> str:
    """'4pm', '10am', '4:30pm', 'noon', '11:59pm'."""
    if at.hour == 12 and at.minute == 0:
        return "noon"
    if at.hour == 0 and at.minute == 0:
        return "midnight"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def when_text(day: dt.date, at: dt.time | None) -> str:
    """'4pm on Tuesday 4 June 2024', or the date alone."""
    return f"{time_text(at)} on {date_text(day)}" if at else date_text(day)


def date_cy(day: dt.date) -> str:
    """'dydd Mawrth 4 Mehefin 2024'."""
    return f"dydd {CY_DAYS[day.weekday()]} {day.day} {CY_MONTHS[day.month - 1]} {day.year}"


def time_cy(at: dt.time) -> str:
    """'4 o'r gloch y prynhawn', '10 o'r gloch y bore', 'hanner dydd', '11:59 yr hwyr'."""
    if at.hour == 12 and at.minute == 0:
        return "hanner dydd"
    if at.hour == 0 and at.minute == 0:
        return "hanner nos"
    part = "y bore" if at.hour < 12 else "y prynhawn" if at.hour < 18 else "yr hwyr"
    hour = at.hour % 12 or 12
    return f"{hour} o'r gloch {part}" if at.minute == 0 else f"{hour}:{at.minute:02d} {part}"


def on_cy(day: dt.date) -> str:
    """'ar ddydd Iau 6 Mai 2027' ('on Thursday ...': 'ar' softens dydd to ddydd)."""
    return f"ar d{date_cy(day)}"


def when_cy(day: dt.date, at: dt.time | None) -> str:
    """'4 o'r gloch y prynhawn ar ddydd Mawrth 4 Mehefin 2024' ('ar' softens dydd to ddydd)."""
    text = date_cy(day)
    return f"{time_cy(at)} ar d{text}" if at else text


def moment_texts(moment: dt.datetime) -> dict:
    moment = local(moment)
    return {
        "when": when_text(moment.date(), moment.timetz().replace(tzinfo=None)),
        "when_cy": when_cy(moment.date(), moment.timetz().replace(tzinfo=None)),
        "date": date_text(moment.date()),
        "date_cy": date_cy(moment.date()),
        "time": time_text(moment.time()),
        "time_cy": time_cy(moment.time()),
    }


def event_texts(event: TimetableEvent) -> dict:
    out = {
        "key": event.key,
        "label": event.label,
        "when": when_text(event.date, event.time),
        "when_cy": when_cy(event.date, event.time),
        "date": date_text(event.date),
        "date_cy": date_cy(event.date),
        "citation": event.citation,
        "bound": event.bound,
    }
    if event.time:
        out.update(time=time_text(event.time), time_cy=time_cy(event.time))
    if event.earliest:
        out.update(earliest=date_text(event.earliest), earliest_cy=date_cy(event.earliest))
    return out


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


def content_hash(template: str, context: Mapping) -> str:
    source = ""
    for folder in template_dirs():
        path = folder / template
        if path.exists():
            source = path.read_text(encoding="utf-8")
            break
    canonical = json.dumps({"t": template, "s": source, "c": context}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# What the store holds for a poll, read once


@dataclass
class Sources:
    session: Session
    poll: Poll
    elections: list[Election]
    details: store.Details | None
    events: dict[str, dict[str, TimetableEvent]]  # scope -> key -> event
    candidates: dict[str, list[Candidate]]
    as_of: dt.datetime
    work: dict[str, WorkItem] = field(default_factory=dict)

    def election(self, election_id: str) -> Election:
        for e in self.elections:
            if e.election_id == election_id:
                return e
        raise PollflowError(f"{election_id} is not an election of {self.poll.key}")

    def event(self, key: str, election_id: str) -> TimetableEvent | None:
        own = self.events.get(election_id, {}).get(key)
        return own or self.events.get("*", {}).get(key)

    def events_for(self, election_id: str) -> dict[str, TimetableEvent]:
        return {**self.events.get("*", {}), **self.events.get(election_id, {})}


def load_sources(session: Session, poll: Poll, as_of: dt.datetime) -> Sources:
    elections = list(
        session.exec(select(Election).where(Election.poll_id == poll.id).order_by(Election.id)).all()
    )
    events: dict[str, dict[str, TimetableEvent]] = {}
    for row in session.exec(select(TimetableEvent).where(TimetableEvent.poll_id == poll.id)).all():
        events.setdefault(row.scope, {})[row.key] = row
    candidates: dict[str, list[Candidate]] = {}
    for c in store.candidates_of(session, poll):
        candidates.setdefault(c.election_id, []).append(c)
    work = {w.key: w for w in session.exec(select(WorkItem).where(WorkItem.poll_id == poll.id)).all()}
    return Sources(
        session, poll, elections, store.load_details(session, poll), events, candidates, as_of, work
    )


# --------------------------------------------------------------------------------------------
# Kinds of poll: headings, officers, deposits, which notice-of-election template

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


def default_areas(election: Election) -> list[store.Area]:
    """One area, named from the id, where the poll is for one seat in one area."""
    eid = parse_election_id(election.election_id)
    name = eid.division or eid.organisation
    if election.kind in SINGLE_AREA_KINDS and name:
        return [store.Area(name=place_name(name), seats=1)]
    if election.kind == "gla" and name == "london":
        return [store.Area(name="London", seats=1)]
    return []


def bilingual(election: Election) -> bool:
    return election.nation == "wales"


# --------------------------------------------------------------------------------------------
# The catalogue


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


def areas_of(src: Sources, election: Election) -> list[store.Area]:
    return store.areas_for(src.details, election.election_id, default_areas(election))


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
    surname, forenames = store.shown_names(c)
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
    area: store.Area
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
                "sort": store.sort_text(name),
                "candidates": [
                    _candidate(c)
                    for c in sorted(members, key=lambda c: (c.list_position or 10_000, c.id or 0))
                ],
            }
            for name, members in parties.items()
        ]
        entries += [
            {"candidate": _candidate(c), "sort": store.sort_text(" ".join(store.shown_names(c)))}
            for c in singles
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
        nominated = store.statement_order([c for c in mine if c.area == area.name])
        standing = [c for c in nominated if c.status == "nominated"]
        results.append(AreaResult(area, nominated, standing))
    return results


def _area(a: store.Area) -> dict:
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
            }
        )
    context["polls"] = _clean(polls)
    context["polling_stations"] = _clean(_stations(src, {p["area"]["name"] for p in polls}))
    return context


def _stations(src: Sources, areas: set[str]) -> list[dict]:
    details = src.details
    if details is None:
        return []
    return [
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


def stations_context(src: Sources, scope: str) -> dict:
    election = src.election(scope)
    context = election_context(src, scope, "polling_stations_notice")
    contested = {r.area.name for r in area_results(src, election) if r.contested}
    context["polling_stations"] = _clean(_stations(src, contested))
    context["contested_areas"] = sorted(contested)
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


# The Welsh for the timetable's labels, for the candidates' timetable of a Welsh poll.
TIMETABLE_CY = {
    "notice_of_election": "Cyhoeddi'r hysbysiad etholiad",
    "close_of_nominations": "Y dyddiad cau ar gyfer cyflwyno papurau enwebu",
    "withdrawals": "Y dyddiad cau ar gyfer tynnu'n ôl fel ymgeisydd",
    "election_agents": "Y dyddiad cau ar gyfer penodi asiantiaid etholiad",
    "sopn": "Cyhoeddi'r datganiad o'r personau a enwebwyd",
    "election_agents_notice": "Cyhoeddi hysbysiad o enwau a chyfeiriadau swyddfeydd asiantiaid etholiad",
    "first_interim_notice": "Hysbysiad interim cyntaf o newid i'r gofrestr",
    "second_interim_notice": "Ail hysbysiad interim o newid i'r gofrestr",
    "registration": "Y dyddiad cau ar gyfer ceisiadau i gofrestru i bleidleisio",
    "postal_vote": "Y dyddiad cau ar gyfer ceisiadau newydd i bleidleisio drwy'r post, a newidiadau",
    "proxy": "Y dyddiad cau ar gyfer ceisiadau newydd i bleidleisio drwy ddirprwy",
    "notice_of_poll": "Cyhoeddi'r hysbysiad o'r bleidlais",
    "polling_stations_notice": "Cyhoeddi'r hysbysiad o leoliad gorsafoedd pleidleisio",
    "final_notice_of_alteration": "Hysbysiad terfynol o newid i'r gofrestr",
    "polling_counting_agents": "Y dyddiad cau ar gyfer penodi asiantiaid pleidleisio a chyfrif",
    "lost_postal_replacement_from": "Y diwrnod cyntaf i ofyn am bleidlais bost newydd yn lle un a gollwyd",
    "poll": "Diwrnod pleidleisio (7 o'r gloch y bore tan 10 o'r gloch yr hwyr)",
    "emergency_proxy": "Y dyddiad cau ar gyfer ceisiadau i bleidleisio drwy ddirprwy mewn argyfwng",
    "replacement_postal_ballots": (
        "Yr amser olaf i gael pleidlais bost newydd yn lle un a gollwyd neu a ddifethwyd"
    ),
    "declaration": "Datgan y canlyniad",
    "expenses_return": "Y dyddiad cau ar gyfer ffurflenni treuliau etholiad ymgeiswyr",
}
CANDIDATE_EVENTS = (
    "notice_of_election",
    "close_of_nominations",
    "withdrawals",
    "election_agents",
    "objections",
    "sopn",
    "election_agents_notice",
    "registration",
    "postal_vote",
    "proxy",
    "vac",
    "notice_of_poll",
    "polling_stations_notice",
    "polling_counting_agents",
    "sub_agents",
    "poll",
    "emergency_proxy",
    "declaration",
    "expenses_return",
)


def timetable_context(src: Sources, scope: str) -> dict:
    context = election_context(src, scope, "candidates_timetable")
    events = src.events_for(scope)
    rows = []
    for key in CANDIDATE_EVENTS:
        event = events.get(key)
        if event is None:
            continue
        row = event_texts(event)
        row["label_cy"] = TIMETABLE_CY.get(key)
        rows.append(row)
    context["timetable"] = _clean(rows)
    return context


def _noe_template(src: Sources, scope: str) -> str:
    return f"notice_of_election/{NOTICE_OF_ELECTION_TEMPLATES[src.election(scope).kind]}.html.j2"


def _fixed(name: str):
    return lambda src, scope: name


def _law(text: str):
    def citation(src: Sources, scope: str) -> str:
        return text.format(rules=rules_of(src.election(scope)))

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
            "{rules}, publication of statement of persons nominated (e.g. RPA 1983 Sch 1 r.14; "
            "SI 2012/1917 Sch 3 r.13; WSI 2021/1459 Sch 1 r.13)"
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
            "{rules}, method of election: where the candidates standing do not exceed the seats they are "
            "declared elected (e.g. RPA 1983 Sch 1 r.16)"
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
        citation=_law("{rules}, notice of poll (e.g. RPA 1983 Sch 1 r.23; SI 2012/1917 Sch 3 r.24)"),
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
            "{rules}, notice of the situation of each polling station and the description of voters "
            "entitled to vote there (e.g. RPA 1983 Sch 1 r.23(2); SI 2012/1917 Sch 3 r.24(3)); a copy "
            "goes to each election agent"
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
            "At least 48 hours' notice to candidates and agents of each opening of postal voters' ballot "
            "boxes: Representation of the People (England and Wales) Regulations 2001 (SI 2001/341) Part V "
            "(basis: derived; the rule text seen is the Scottish Parliament and Northern Ireland orders')"
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


def _register_others() -> None:
    """Documents whose data come from elsewhere live in their own modules (``tasks/*_documents.py``,
    e.g. staff letters), each calling ``register()`` on import; importing them here puts them in the
    catalogue wherever documents are produced, listed or rendered."""
    import importlib
    import pkgutil

    import tasks

    for module in sorted(pkgutil.iter_modules(tasks.__path__), key=lambda m: m.name):
        if module.name.endswith("_documents"):
            importlib.import_module(f"tasks.{module.name}")


def spec_for(key: str) -> DocumentSpec:
    if key not in CATALOGUE:
        raise PollflowError(f"unknown document '{key}': documents are {', '.join(CATALOGUE)}")
    return CATALOGUE[key]


# --------------------------------------------------------------------------------------------
# Drawing up a document


@dataclass
class Drawn:
    spec: DocumentSpec
    scope: str
    template: str
    context: dict
    html: str
    content_hash: str


def draw(src: Sources, spec: DocumentSpec, scope: str, banner: str | None = None) -> Drawn:
    """The document as the data stand now, rendered strictly (MissingFieldError names a gap)."""
    template = spec.template(src, scope)
    context = spec.context(src, scope)
    name = f"{spec.key} for {scope}"
    html = render_html(template, context, banner=banner, name=name)
    return Drawn(spec, scope, template, context, html, content_hash(template, context))


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
    content in each; ``banner`` (DRAFT) across every page of the html and pdf."""
    if fmt in ("html", "pdf"):
        if banner is not None or html is None:
            html = render_html(template, context, banner=banner, name=name)
        return html.encode() if fmt == "html" else html_to_pdf(html)
    if fmt == "docx":
        if word is None:
            raise PollflowError(f"{name} has no Word template: formats are html, pdf")
        return render_docx(word, context, document=name)
    raise PollflowError(f"unknown format '{fmt}': formats are html, pdf, docx")


@dataclass
class ProduceReport:
    poll_key: str
    generated: list[str] = field(default_factory=list)  # "key:scope v2"
    unchanged: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # "key:scope" -> what is missing
    not_yet: list[str] = field(default_factory=list)
    changed_after_approval: list[str] = field(default_factory=list)
    work_raised: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "poll_key": self.poll_key,
            "generated": self.generated,
            "unchanged": len(self.unchanged),
            "blocked": self.blocked,
            "not_yet_due": self.not_yet,
            "changed_after_approval": self.changed_after_approval,
            "work_raised": self.work_raised,
            "published": self.published,
            "webhooks": self.webhooks,
            "errors": self.errors,
        }


def step_deadlines(
    created: dt.datetime, due: dt.datetime, proof_lead: dt.timedelta, approve_lead: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    """When the proof-check and the approval are due: ``proof_lead`` and ``approve_lead`` before the
    publishing deadline; a version made later than that gets half and three quarters of the time
    left (and, once the deadline has passed, both are due at once)."""
    proof_due, approve_due = due - proof_lead, due - approve_lead
    if proof_due < created:
        left = max(due - created, dt.timedelta(0))
        proof_due, approve_due = created + left / 2, created + left * 3 / 4
    minute = dict(second=0, microsecond=0)
    return proof_due.replace(**minute), approve_due.replace(**minute)


def applicable(src: Sources, only: list[str] | None = None) -> list[tuple[DocumentSpec, str]]:
    found = []
    for spec in CATALOGUE.values():
        if only and spec.key not in only:
            continue
        for scope in spec.scopes(src):
            if spec.applies(src, scope):
                found.append((spec, scope))
    return found


def produce(
    session: Session,
    poll: Poll,
    as_of: dt.datetime,
    actor: str = "flow:produce-documents",
    only: list[str] | None = None,
    flow_run_id: str | None = None,
) -> ProduceReport:
    """Draw up every document that is due, as a new version where its content changed, and raise
    the work it needs: the missing details, the proof-check, the approval, the publication."""
    src = load_sources(session, poll, as_of)
    report = ProduceReport(poll.key)
    for spec, scope in applicable(src, only):
        label = f"{spec.key}:{scope}"
        ready = spec.ready_at(src, scope)
        due, event_key = spec.deadline(src, scope)
        doc = store.document_for(session, poll, spec.key, scope, spec.title, event_key, due)
        _publish_work(session, poll, doc, spec, due, event_key, scope, report)
        if ready is not None and as_of < ready:
            report.not_yet.append(label)
            continue
        try:
            drawn = draw(src, spec, scope)
        except PollflowError as exc:
            _blocked(session, poll, doc, spec, scope, due, event_key, str(exc), report)
            continue
        if doc.blocked:
            doc.blocked = None
            store.close_work(session, poll, store.work_key("details", doc), "done", "details given")
        saved = store.save_version(
            session,
            poll,
            doc,
            template=drawn.template,
            context=drawn.context,
            html=drawn.html,
            content_hash=drawn.content_hash,
            actor=actor,
            flow_run_id=flow_run_id,
        )
        if not saved.created:
            report.unchanged.append(label)
        else:
            report.generated.append(f"{label} v{saved.version.number}")
            if saved.after_approval:
                report.changed_after_approval.append(f"{label} v{saved.version.number}")
        _version_work(session, poll, doc, spec, saved.version, due, event_key, scope, report)
    return report


def _publish_work(session, poll, doc, spec, due, event_key, scope, report) -> str | None:
    """The publishing deadline as work: the plan's own task where it has one, else ours."""
    found = store.publish_work_key(session, poll, doc, spec.catalogue_task)
    if found or due is None:
        return found
    item, created = store.ensure_work(
        session,
        poll,
        store.work_key("publish", doc),
        title=f"Publish the {spec.title.lower()} ({scope})",
        role=store.PUBLISH_ROLE,
        due_at=due,
        event_key=event_key,
        election_id=scope,
        signoff=True,
        description=f"Published by `pollflow document publish {scope} {spec.key}` once approved",
    )
    if created:
        report.work_raised.append(item.key)
    return item.key


def _blocked(session, poll, doc, spec, scope, due, event_key, why: str, report) -> None:
    report.blocked[f"{spec.key}:{scope}"] = why
    if doc.blocked != why:
        doc.blocked = why
    if due is None:
        return
    proof_due, _ = step_deadlines(store.utcnow(), due, spec.proof_lead, spec.approve_lead)
    item, created = store.ensure_work(
        session,
        poll,
        store.work_key("details", doc),
        title=f"Give what the {spec.title.lower()} needs ({scope}): {why.split(': ', 1)[-1]}",
        role=store.PUBLISH_ROLE,
        due_at=proof_due,
        event_key=event_key,
        election_id=scope,
    )
    if created:
        report.work_raised.append(item.key)


def _version_work(session, poll, doc, spec, version, due, event_key, scope, report) -> None:
    if version.status not in ("generated", "proofed") or due is None:
        return
    proof_due, approve_due = step_deadlines(version.created_at, due, spec.proof_lead, spec.approve_lead)
    name = f"the {spec.title.lower()} (version {version.number}, {scope})"
    proof_item, created = store.ensure_work(
        session,
        poll,
        store.work_key("proof", doc, version),
        title=f"Proof-check {name}",
        role=store.PROOF_ROLE,
        due_at=proof_due,
        event_key=event_key,
        election_id=scope,
        description=f"`pollflow document render {scope} {spec.key} --format pdf`, check it against the "
        f"nomination papers and the timetable, then `pollflow document proof {scope} {spec.key} --by EMAIL`",
    )
    if created:
        report.work_raised.append(proof_item.key)
    approve_item, created = store.ensure_work(
        session,
        poll,
        store.work_key("approve", doc, version),
        title=f"Approve {name}",
        role=store.APPROVE_ROLE,
        due_at=approve_due,
        event_key=event_key,
        election_id=scope,
        signoff=True,
        depends_on=proof_item,
        description=f"`pollflow document approve {scope} {spec.key} --by EMAIL` (the Returning Officer or a "
        "deputy)",
    )
    if created:
        report.work_raised.append(approve_item.key)


# --------------------------------------------------------------------------------------------
# Publishing


def output_dir() -> Path:
    """POLLFLOW_DOCUMENTS_DIR, or 'published' under POLLFLOW_HOME."""
    from timetables.paths import pollflow_home

    configured = os.environ.get("POLLFLOW_DOCUMENTS_DIR")
    return Path(configured) if configured else pollflow_home() / "published"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_files(poll: Poll, doc: Document, version: DocumentVersion) -> list[dict]:
    """The version's HTML and PDF in the output folder: ``<poll>/<scope>/<key>-v<n>.pdf`` (kept) and
    ``<key>.pdf`` (the current one, overwritten by a corrected version)."""
    folder = output_dir() / _slug(poll.key) / _slug(doc.scope)
    files = []
    for ext, data in (("html", version.html.encode()), ("pdf", html_to_pdf(version.html))):
        archived = folder / f"{doc.key}-v{version.number}.{ext}"
        _write(archived, data)
        _write(folder / f"{doc.key}.{ext}", data)
        files.append(
            {
                "name": archived.name,
                "path": str(archived),
                "media_type": "text/html" if ext == "html" else "application/pdf",
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
        )
    return files


def publish_one(
    session: Session,
    poll: Poll,
    doc: Document,
    as_of: dt.datetime,
    actor: str,
    flow_run_id: str | None = None,
) -> DocumentVersion | None:
    """Publish the approved latest version now (None if it already is); refused before approval or
    before the day it is dated."""
    spec = spec_for(doc.key)
    src = load_sources(session, poll, as_of)
    version = store.check_publishable(session, doc, spec.publish_from(src, doc.scope), as_of)
    if version is None:
        return None
    files = write_files(poll, doc, version)
    store.record_publication(
        session,
        poll,
        doc,
        version,
        actor,
        files,
        as_of,
        flow_run_id,
        publish_work=store.publish_work_key(session, poll, doc, spec.catalogue_task),
    )
    return version


def publish_due(
    session: Session, poll: Poll, as_of: dt.datetime, actor: str, flow_run_id: str | None = None
) -> tuple[list[str], list[str]]:
    """Publish every approved, unpublished latest version whose day has come; (published, waiting)."""
    published, waiting = [], []
    for doc in store.documents_of(session, poll):
        latest = store.latest_version(session, doc)
        if latest is None or latest.status != "approved" or doc.key not in CATALOGUE:
            continue
        try:
            version = publish_one(session, poll, doc, as_of, actor, flow_run_id)
        except store.DocumentError as exc:
            waiting.append(f"{doc.key}:{doc.scope}: {exc}")
            continue
        if version is not None:
            published.append(f"{doc.key}:{doc.scope} v{version.number}")
    return published, waiting


def webhook_url() -> str | None:
    return os.environ.get("POLLFLOW_DOCUMENTS_WEBHOOK_URL") or None


def webhook_payload(poll: Poll, doc: Document, version: DocumentVersion, files: list[dict]) -> dict:
    return {
        "event": "pollflow.document.published",
        "poll": poll.key,
        "election_id": doc.scope,
        "document": doc.key,
        "title": doc.title,
        "version": version.number,
        "content_hash": version.content_hash,
        "deadline": local(doc.due_at).isoformat() if doc.due_at else None,
        "files": files,
    }


def send_webhooks(session: Session, poll: Poll, timeout: float = 20) -> tuple[list[str], list[str]]:
    """Post each published version not yet sent to POLLFLOW_DOCUMENTS_WEBHOOK_URL: JSON with the
    files (base64), signed with POLLFLOW_DOCUMENTS_WEBHOOK_SECRET (HMAC-SHA256) where set. A
    failure is tried again on the next run; (sent, failed)."""
    import requests

    url = webhook_url()
    if not url:
        return [], []
    secret = os.environ.get("POLLFLOW_DOCUMENTS_WEBHOOK_SECRET")
    sent, failed = [], []
    for doc in store.documents_of(session, poll):
        for version in store.versions_of(session, doc):
            steps = store.steps_of(session, version)
            if "publication" not in steps or "webhook" in steps:
                continue
            files = []
            for f in steps["publication"].details.get("files", []):
                path = Path(f["path"])
                if not path.exists():
                    continue
                files.append(
                    {
                        **{k: f[k] for k in ("name", "media_type", "sha256")},
                        "content_base64": base64.b64encode(path.read_bytes()).decode(),
                    }
                )
            body = json.dumps(webhook_payload(poll, doc, version, files)).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Pollflow-Delivery": f"{poll.key}:{doc.key}:{doc.scope}:v{version.number}",
            }
            if secret:
                headers["X-Pollflow-Signature"] = (
                    "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                )
            label = f"{doc.key}:{doc.scope} v{version.number}"
            try:
                response = requests.post(url, data=body, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                failed.append(f"{label}: {exc.__class__.__name__}")
                continue
            if response.status_code >= 300:
                failed.append(f"{label}: HTTP {response.status_code}")
                continue
            from urllib.parse import urlparse

            store.record_webhook(session, poll, doc, version, urlparse(url).netloc)
            sent.append(label)
    return sent, failed


# --------------------------------------------------------------------------------------------
# Listing


def status_rows(session: Session, poll: Poll) -> list[dict]:
    rows = []
    for doc in store.documents_of(session, poll):
        latest = store.latest_version(session, doc)
        steps = store.steps_of(session, latest) if latest else {}
        published = store.published_version(session, doc)

        def who(step: str, steps=steps) -> str | None:
            s = steps.get(step)
            return f"{s.actor} {local(s.at):%d %b %H:%M}" if s else None

        status = latest.status if latest else ("blocked" if doc.blocked else "not yet drawn up")
        rows.append(
            {
                "key": doc.key,
                "scope": doc.scope,
                "title": doc.title,
                "version": latest.number if latest else None,
                "status": status,
                "blocked": doc.blocked,
                "deadline": local(doc.due_at).isoformat() if doc.due_at else None,
                "proofed": who("proof"),
                "approved": who("approval"),
                "published": who("publication"),
                "published_version": published.number if published else None,
            }
        )
    order = {k: n for n, k in enumerate(CATALOGUE)}
    return sorted(rows, key=lambda r: (r["scope"], order.get(r["key"], 99)))


# --------------------------------------------------------------------------------------------
# Prefect tasks: thin wrappers


@cache
def prefect_tasks():
    """The Prefect tasks (made on first use, so that reading commands never import Prefect)."""
    from prefect import task
    from prefect.cache_policies import NONE

    from store.db import session_scope

    opts = dict(cache_policy=NONE, persist_result=False)

    @task(name="produce documents", **opts)
    def produce_task(poll_key: str, as_of: dt.datetime, actor: str, only, flow_run_id) -> ProduceReport:
        from store.queries import find_poll

        with session_scope() as session:
            return produce(session, find_poll(session, poll_key), as_of, actor, only, flow_run_id)

    @task(name="publish approved documents", **opts)
    def publish_task(poll_key: str, as_of: dt.datetime, actor: str, flow_run_id) -> tuple[list, list]:
        from store.queries import find_poll

        with session_scope() as session:
            return publish_due(session, find_poll(session, poll_key), as_of, actor, flow_run_id)

    @task(name="send documents to webhook", retries=2, retry_delay_seconds=[5, 30], **opts)
    def webhook_task(poll_key: str) -> tuple[list, list]:
        from store.queries import find_poll

        with session_scope() as session:
            return send_webhooks(session, find_poll(session, poll_key))

    return produce_task, publish_task, webhook_task


_register_others()
