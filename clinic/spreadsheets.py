"""What every Excel export of the project shares (R3): a streamed
(write-only) sheet with a title row, a styled, frozen header row, column
widths, typed cells and an autofilter over the rows written. openpyxl is
imported here only when a sheet is made."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from io import BytesIO
from typing import Any


class Progress:
    """Counts the rows written to one file (over all its sheets) and calls
    `report(rows_done)` every `every` rows, for an export's progress bar."""

    def __init__(self, report: Callable[[int], None], *, every: int = 500) -> None:
        self.report, self.every, self.done = report, every, 0

    def step(self) -> None:
        self.done += 1
        if self.done % self.every == 0:
            self.report(self.done)


class Sheet:
    """One sheet; pass `workbook` (`new_workbook()`) to put several in one file,
    and `progress` to count the rows written."""

    def __init__(
        self, *, name: str, title: str, columns: Sequence[tuple[str, int]], workbook: Any | None = None,
        progress: Progress | None = None,
    ) -> None:  # fmt: skip
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        self._cell_class, self._font, self._letter = WriteOnlyCell, Font, get_column_letter
        self.workbook = workbook if workbook is not None else new_workbook()
        self.sheet = self.workbook.create_sheet(title=name[:31])
        self.width = len(columns)
        for index, (_name, width) in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.sheet.freeze_panes = "A3"
        self.sheet.append([self.cell(title, bold=True, size=12)])
        header = []
        for name_, _width in columns:
            head = WriteOnlyCell(self.sheet, value=name_)
            head.font = Font(bold=True, color="FFFFFF")
            head.fill = PatternFill("solid", fgColor="0F766E")
            head.alignment = Alignment(wrap_text=True, vertical="center")
            header.append(head)
        self.sheet.append(header)
        self.rows = 0
        self.progress = progress

    def cell(self, value: Any, number_format: str | None = None, *, bold: bool = False, size: int | None = None) -> Any:
        written = self._cell_class(self.sheet, value=value)
        if number_format and value is not None:
            written.number_format = number_format
        if bold or size:
            written.font = self._font(bold=bold, **({"size": size} if size else {}))
        return written

    def append(self, row: Sequence[Any]) -> None:
        self.sheet.append(list(row))
        self.rows += 1
        if self.progress is not None:
            self.progress.step()

    def close(self) -> None:
        self.sheet.auto_filter.ref = f"A2:{self._letter(self.width)}{self.rows + 2}"

    def save(self) -> bytes:
        """This sheet's workbook as bytes (every sheet of it closed first)."""
        self.close()
        return save(self.workbook)


def new_workbook() -> Any:
    from openpyxl import Workbook

    return Workbook(write_only=True)


def save(workbook: Any, *sheets: Sheet) -> bytes:
    for sheet in sheets:
        sheet.close()
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()
