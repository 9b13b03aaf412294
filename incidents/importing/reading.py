"""Streaming an event file: header, format, optional HXL tag row, then one (line number, row) at a time."""

import codecs
import csv

from django.utils.translation import gettext as _

from ..models import Dataset
from .formats import detect_format, required_columns


class FileProblem(Exception):
    """The file as a whole cannot be imported (empty, not CSV/UTF-8, not ACLED or UCDP GED, columns missing)."""


# Notes longer than csv's default 128 KiB field limit exist; a 10 MB cell is not a note but a broken quote.
csv.field_size_limit(10 * 1024 * 1024)


def _is_hxl_row(cells):
    """Humanitarian Exchange Language tags (#date+year, #adm1+name) under the header, as HDX ships UCDP GED."""
    filled = [cell.strip() for cell in cells if cell.strip()]
    return bool(filled) and all(cell.startswith("#") for cell in filled)


class EventFile:
    """An ACLED or UCDP GED CSV read as a stream: memory stays flat whatever the file size."""

    def __init__(self, binary, *, dataset="auto"):
        self.binary = binary
        self.reader = csv.reader(self._decoded_lines())
        header = self._next_record()
        if header is None or not any(cell.strip() for cell in header):
            raise FileProblem(_("The file is empty."))
        self.header = [cell.strip().lower() for cell in header]
        detected = detect_format(self.header)
        if detected is None:
            raise FileProblem(
                _(
                    "This is neither an ACLED export nor a UCDP GED file: its first line lacks their column names "
                    "(ACLED: event_id_cnty, event_date; UCDP GED: id, date_start, type_of_violence)."
                )
            )
        if dataset not in ("auto", "", None) and dataset != detected:
            raise FileProblem(
                _("The file is a %(found)s file, not %(expected)s.")
                % {"found": Dataset(detected).label, "expected": Dataset(dataset).label}
            )
        self.dataset = detected
        missing = [column for column in required_columns(detected) if column not in self.header]
        if missing:
            raise FileProblem(_("Columns missing from the header: %(columns)s.") % {"columns": ", ".join(missing)})
        repeated = sorted({column for column in self.header if column and self.header.count(column) > 1})
        if repeated:
            raise FileProblem(_("Columns named twice in the header: %(columns)s.") % {"columns": ", ".join(repeated)})

    def _decoded_lines(self):
        """Lines decoded one by one, so a byte that is not UTF-8 is reported on its own line; csv gets the line
        ends as they are (CRLF or LF) and keeps the line breaks inside quoted notes."""
        for number, raw in enumerate(self.binary, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise FileProblem(
                    _("The file is not UTF-8 text (line %(line)s): save it as CSV UTF-8 and try again.")
                    % {"line": number}
                ) from error

    def _next_record(self):
        try:
            record = next(self.reader)
        except StopIteration:
            return None
        except csv.Error as error:
            raise FileProblem(
                _("Line %(line)s is not valid CSV: %(error)s") % {"line": self.reader.line_num, "error": error}
            ) from error
        return record

    def rows(self):
        """(line where the row starts, {column: cell}, problem) for each data row; problem is text or None."""
        first = True
        while True:
            line = self.reader.line_num + 1
            record = self._next_record()
            if record is None:
                return
            if first and _is_hxl_row(record):
                first = False
                continue
            first = False
            if not any(cell.strip() for cell in record):
                continue
            problem = None
            if len(record) != len(self.header):
                problem = _("has %(cells)s cells where the header has %(columns)s") % {
                    "cells": len(record),
                    "columns": len(self.header),
                }
            yield line, dict(zip(self.header, record, strict=False)), problem

    @property
    def bytes_read(self):
        return self.binary.tell()
