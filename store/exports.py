"""Every CSV and Excel file pollflow writes goes through here, so that none can run code and none
can be read by other people on the machine.

- Formula injection (OWASP, "CSV Injection"): a text value beginning ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return is read by Excel as a formula, so a staff member named
  ``=cmd|' /C calc'!A0`` would run a command on the payroll officer's machine. Such text is
  written with a single quote in front, as OWASP recommends; in a workbook every text cell is also
  written as a string cell, never a formula. Real numbers and dates stay numbers and dates (a
  negative amount is a number, not text, so it is left alone).
- Private files: an export may hold names, addresses, NI numbers and bank details, so the file is
  created readable and writable by its owner only (0600), whatever the umask.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PRIVATE = 0o600


def safe_text(text: str) -> str:
    """Text that no spreadsheet will run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_value(value):
    """A value for a cell: text made safe; numbers, dates and empty cells as they are."""
    if value is None or isinstance(value, (bool, int, float, Decimal, dt.date, dt.time)):
        return value
    return safe_text(value if isinstance(value, str) else str(value))


def safe_row(row: Iterable) -> list:
    return [safe_value(v) for v in row]


class _SafeWriter:
    """csv.writer's writerow and writerows, every field made safe first."""

    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


class _SafeDictWriter:
    """csv.DictWriter's writeheader, writerow and writerows, every value made safe first."""

    def __init__(self, writer: csv.DictWriter):
        self._writer = writer

    def writeheader(self):
        return self._writer.writeheader()

    def writerow(self, row: dict):
        return self._writer.writerow({k: safe_value(v) for k, v in row.items()})

    def writerows(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle, **options) -> _SafeWriter:
    return _SafeWriter(csv.writer(handle, **options))


def dict_writer(handle, fieldnames, **options) -> _SafeDictWriter:
    return _SafeDictWriter(csv.DictWriter(handle, fieldnames, **options))


def csv_text(header: Iterable | None, rows: Iterable[Iterable], **options) -> str:
    """A whole CSV file as text, header first (the header is made safe too)."""
    out = io.StringIO()
    writer = csv_writer(out, **options)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def append(sheet, row: Iterable) -> None:
    """Add a row to a worksheet with every text cell a string cell, never a formula."""
    sheet.append(safe_row(row))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl guesses 'f' from a leading '='; never let it


def open_private(path: Path, binary: bool = False):
    """Open a file for writing, created (or made) readable by its owner only."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    os.fchmod(fd, PRIVATE)  # an existing file keeps its old mode through os.open: set it
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def write_text(path: Path, text: str) -> Path:
    with open_private(path) as handle:
        handle.write(text)
    return Path(path)


def write_bytes(path: Path, data: bytes) -> Path:
    with open_private(path, binary=True) as handle:
        handle.write(data)
    return Path(path)


def save_workbook(book, path: Path) -> Path:
    """Save an openpyxl workbook to a private file (checked for formulas on the way out)."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                    cell.value = safe_text(str(cell.value))
                    cell.data_type = "s"
    with open_private(path, binary=True) as handle:
        book.save(handle)
    return Path(path)
