"""Reading the tables officers import (CSV or Excel, as EMS exports and spreadsheets come),
checking the cells more than one kind of file has (postcodes, grid references), and reporting bad
rows: each problem names its line (a spreadsheet's row) and why, and a file with any bad row is
refused whole (``ImportRefused``) unless the user asks to skip bad rows. Shared by the station and
electorate import (store/station_import.py) and the staff register import
(store/staff_register_import.py), which also share ``differs`` and ``assign`` so that importing
the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from timetables.errors import PollflowError

T = TypeVar("T")

SHOWN = 5  # problems quoted in a refusal; the rest are counted (and listed with --report)
POSTCODE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2})$")
BFPO = re.compile(r"^BFPO ?[0-9]{1,4}$")


class ImportRefused(PollflowError):
    """A file refused whole: every bad row named by its line and reason."""

    def __init__(self, path: str, problems: list[Problem]):
        self.problems = problems
        lines = sorted({p.line for p in problems})
        quoted = "; ".join(str(p) for p in problems[:SHOWN])
        if len(problems) > SHOWN:
            quoted += f"; and {len(problems) - SHOWN} more (bad lines: {_ranges(lines)})"
        super().__init__(
            f"{path}: nothing imported: {len(lines)} bad row(s): {quoted} "
            "(fix them, or import the good rows with --skip-bad-rows)"
        )


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str
    row_word: str = "line"

    def __str__(self) -> str:
        return f"{self.row_word} {self.line}: {self.reason}"


def _ranges(numbers: list[int]) -> str:
    """'2-4, 9' for [2, 3, 4, 9]."""
    out: list[str] = []
    start = prev = None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(out)


def shown(text: str, limit: int = 50) -> str:
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def normalise_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(text or "")).lower()


def normalise_postcode(text: str) -> str | None:
    """'ox71aa' -> 'OX7 1AA'; None if blank; ValueError if not a UK postcode."""
    flat = re.sub(r"\s+", "", str(text or "")).upper()
    if not flat:
        return None
    if BFPO.match(flat):
        return "BFPO " + flat[4:]
    if not POSTCODE.match(flat):
        raise ValueError(f"'{shown(text)}' is not a UK postcode")
    return f"{flat[:-3]} {flat[-3:]}"


# --- reading files ------------------------------------------------------------------------------


@dataclass
class Table:
    path: Path
    headers: list[str]  # normalised
    rows: list[tuple[int, dict[str, str]]]  # (line or row number, normalised header -> value)
    row_word: str = "line"


def read_utf8_csv(path: str | Path, header: str, one_line_per: str, parse: Callable[[Path, str], T]) -> T:
    """A CSV file pollflow defines the columns of, read as UTF-8 (with or without the BOM Excel
    writes) and given to ``parse(path, text)``. Refused whole, in one line saying what to do, if
    it cannot be read, is not UTF-8, is empty or is not CSV. (EMS exports, which are often
    Windows-1252, go through ``read_table`` instead.)"""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PollflowError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PollflowError(
            f"{path}: not UTF-8 text (byte {exc.start}): save it as 'CSV UTF-8' and import it again"
        ) from exc
    if not text.strip():
        raise PollflowError(
            f"{path}: the file is empty: give a header line{header} and one line per {one_line_per}"
        )
    try:
        return parse(path, text)
    except csv.Error as exc:
        raise PollflowError(f"{path}: not a readable CSV file: {exc}") from exc


def read_table(path: str | Path, known: Collection[str], sheet: str | None = None) -> Table:
    """A CSV (comma, tab or semicolon; UTF-8, else Windows-1252 as EMS exports often are) or the
    first sheet of an .xlsx workbook. The header is the first line naming at least two of the
    ``known`` columns (normalised; a spreadsheet may have a title above it), else the first line
    that is not blank."""
    path = Path(path)
    if not path.exists():
        raise PollflowError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet, known)
    if path.suffix.lower() == ".xls":
        raise PollflowError(f"{path}: old Excel (.xls) files cannot be read: save it as .xlsx or CSV")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PollflowError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise PollflowError(f"{path}: the file is empty: give a header line and one line per row")
    first = next(line for line in text.splitlines() if line.strip())
    delimiter = max(",\t;|", key=first.count)
    try:
        return _read_csv(path, text, delimiter, known)
    except csv.Error as exc:
        raise PollflowError(f"{path}: not a readable CSV file: {exc}") from exc


def _read_csv(path: Path, text: str, delimiter: str, known: Collection[str]) -> Table:
    header = _find_header(list(csv.reader(io.StringIO(text), delimiter=delimiter))[:20], known)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for fields in reader:
        if fields == header:
            break
    headers = [normalise_header(h) for h in header]
    _check_headers(path, header, headers)
    rows = []
    start = reader.line_num + 1
    for fields in reader:
        n, start = start, reader.line_num + 1
        if not any(f.strip() for f in fields):
            continue
        row = {h: v.strip() for h, v in zip(headers, fields, strict=False) if h}
        if len(fields) > len(headers) and any(f.strip() for f in fields[len(headers) :]):
            row["__extra__"] = f"{len(fields)} fields but {len(headers)} columns"
        rows.append((n, row))
    return Table(path, headers, rows)


def _read_xlsx(path: Path, sheet: str | None, known: Collection[str]) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise PollflowError(f"{path}: not a readable Excel workbook ({type(exc).__name__})") from exc
    try:
        if sheet and sheet not in book.sheetnames:
            raise PollflowError(f"{path}: no sheet '{sheet}': sheets are {', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet else book.worksheets[0]
        top = [
            ["" if v is None else str(v) for v in values]
            for values in ws.iter_rows(max_row=20, values_only=True)
        ]
        header = _find_header(top, known)
        rows_iter = ws.iter_rows(values_only=True)
        n = 0
        for values in rows_iter:
            n += 1
            if ["" if v is None else str(v) for v in values] == header:
                break
        headers = [normalise_header(h) for h in header]
        _check_headers(path, header, headers)
        rows = []
        for values in rows_iter:
            n += 1
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            rows.append((n, {h: v for h, v in zip(headers, cells, strict=False) if h}))
        return Table(path, headers, rows, row_word="row")
    finally:
        book.close()


def _find_header(rows: list[list[str]], known: Collection[str]) -> list[str]:
    filled = [r for r in rows if any(str(v).strip() for v in r)]
    return next(
        (r for r in filled if sum(normalise_header(v) in known for v in r) >= 2),
        filled[0] if filled else [],
    )


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value).strip()


def _check_headers(path: Path, raw: list[str], headers: list[str]) -> None:
    if not any(headers):
        raise PollflowError(f"{path}: no header line: the first line must name the columns")
    repeated = sorted({raw[i].strip() for i, h in enumerate(headers) if h and headers.count(h) > 1})
    if repeated:
        raise PollflowError(f"{path}: column(s) {', '.join(repeated)} given twice")


# --- cells more than one kind of file has -------------------------------------------------------


def check_grid(
    row: dict[str, str], e_col: str, n_col: str, found: list[str]
) -> tuple[float | None, float | None]:
    """Easting and northing in metres (British or Irish National Grid); 0 or blank: not given."""
    values = []
    for col, label, top in ((e_col, "easting", 800_000), (n_col, "northing", 1_300_000)):
        text = row.get(col, "").replace(",", "")
        if not text:
            values.append(None)
            continue
        try:
            value = float(text)
        except ValueError:
            found.append(f"{label} '{shown(text)}' is not a number")
            values.append(None)
            continue
        if value == 0:
            values.append(None)
        elif not 0 < value < top:
            found.append(f"{label} {text} is outside the National Grid (0 to {top:,} m)")
            values.append(None)
        else:
            values.append(value)
    if (values[0] is None) != (values[1] is None):
        found.append("give both easting and northing, or neither")
        return None, None
    return values[0], values[1]


def check_postcode(text: str, label: str, found: list[str], required: bool = False) -> str | None:
    try:
        value = normalise_postcode(text)
    except ValueError as exc:
        found.append(f"{label}: {exc}")
        return None
    if value is None and required:
        found.append(f"no {label}")
    return value


# --- saving what a file gives, and reporting what it could not ----------------------------------


def differs(row, values: dict) -> bool:
    return any(getattr(row, k) != v for k, v in values.items())


def assign(row, values: dict, now: dt.datetime) -> None:
    for k, v in values.items():
        setattr(row, k, v)
    row.updated_at = now


def problems_csv(problems: list[Problem]) -> str:
    """Every skipped or bad row, for --report FILE."""
    from store.exports import csv_text

    header = [problems[0].row_word if problems else "line", "reason"]
    return csv_text(header, ([p.line, p.reason] for p in problems))
