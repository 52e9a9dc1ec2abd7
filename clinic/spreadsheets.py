"""What every Excel export of the project shares (R3): a streamed sheet with
a title row, a styled, frozen header row, column widths, typed cells and an
autofilter over the rows written.

Written with XlsxWriter in constant-memory mode: each row goes to disk as it
is appended, so memory stays flat however many rows there are, and it
measured about twice as fast as openpyxl's write-only mode on the same cells
(`bench/reports.py`). Text is always written as text, never read as a
formula or a link (a patient called "=HYPERLINK(…)" stays a name). XlsxWriter
is imported here only when a workbook is made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from io import BytesIO
from typing import Any, NamedTuple

from django.utils.functional import Promise


class Progress:
    """Counts the rows written to one file (over all its sheets) and calls
    `report(rows_done)` every `every` rows, for an export's progress bar."""

    def __init__(self, report: Callable[[int], None], *, every: int = 500) -> None:
        self.report, self.every, self.done = report, every, 0

    def step(self) -> None:
        self.done += 1
        if self.done % self.every == 0:
            self.report(self.done)


class Cell(NamedTuple):
    """A value with its cell format (made by `Sheet.cell`)."""

    value: Any
    style: Any


class Workbook:
    """One file being written, and the cell formats it has made."""

    def __init__(self) -> None:
        import xlsxwriter

        self.output = BytesIO()
        self.book = xlsxwriter.Workbook(
            self.output, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        self._formats: dict[tuple[str | None, bool, int | None], Any] = {}
        self.header = self.book.add_format(
            {"bold": True, "font_color": "#FFFFFF", "bg_color": "#0F766E", "text_wrap": True, "valign": "vcenter"}
        )

    def format(self, number_format: str | None, bold: bool, size: int | None) -> Any:
        key = (number_format, bold, size)
        if key not in self._formats:
            spec: dict[str, Any] = {}
            if number_format:
                spec["num_format"] = number_format
            if bold:
                spec["bold"] = True
            if size:
                spec["font_size"] = size
            self._formats[key] = self.book.add_format(spec) if spec else None
        return self._formats[key]


class Sheet:
    """One sheet; pass `workbook` (`new_workbook()`) to put several in one file,
    and `progress` to count the rows written."""

    def __init__(
        self, *, name: str, title: str, columns: Sequence[tuple[str, int]], workbook: Workbook | None = None,
        progress: Progress | None = None,
    ) -> None:  # fmt: skip
        self.workbook = workbook if workbook is not None else new_workbook()
        self.sheet = self.workbook.book.add_worksheet(_sheet_name(name))
        self.width = len(columns)
        for index, (_name, width) in enumerate(columns):
            self.sheet.set_column(index, index, width)
        self.sheet.freeze_panes(2, 0)
        self.sheet.write_string(0, 0, title, self.workbook.format(None, True, 12))
        for index, (name_, _width) in enumerate(columns):
            self.sheet.write_string(1, index, str(name_), self.workbook.header)
        self.rows = 0
        self.progress = progress

    def cell(
        self, value: Any, number_format: str | None = None, *, bold: bool = False, size: int | None = None
    ) -> Cell:
        return Cell(value, self.workbook.format(number_format, bold, size))

    def append(self, row: Sequence[Any]) -> None:
        line = self.rows + 2
        sheet = self.sheet
        for column, item in enumerate(row):
            if type(item) is Cell:
                value, style = item
            else:
                value, style = item, None
            kind = type(value)
            if kind is str:
                if value:
                    sheet.write_string(line, column, value, style)
            elif value is None:
                continue
            elif kind is bool:
                sheet.write_boolean(line, column, value, style)
            elif isinstance(value, dt.date):
                sheet.write_datetime(line, column, value, style)
            elif isinstance(value, (str, Promise)):  # a SafeString, a lazy translation
                sheet.write_string(line, column, str(value), style)
            else:
                sheet.write_number(line, column, value, style)
        self.rows += 1
        if self.progress is not None:
            self.progress.step()

    def close(self) -> None:
        self.sheet.autofilter(1, 0, self.rows + 1, self.width - 1)

    def save(self) -> bytes:
        """This sheet's workbook as bytes (every sheet of it closed first)."""
        return save(self.workbook, self)


def _sheet_name(name: str) -> str:
    # Excel refuses these characters in a sheet's name, and more than 31 of them.
    return "".join("-" if char in "[]:*?/\\" else char for char in str(name))[:31]


def new_workbook() -> Workbook:
    return Workbook()


def save(workbook: Workbook, *sheets: Sheet) -> bytes:
    for sheet in sheets:
        sheet.close()
    workbook.book.close()
    return workbook.output.getvalue()
