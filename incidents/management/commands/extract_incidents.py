"""Candidate incidents from a news report, as JSON: `manage.py extract_incidents report.txt --published 2019-04-20`."""

import datetime
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from incidents.extraction import ReportTextError, candidates_json, report_text_clean


def _date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--published must be a date as YYYY-MM-DD, not {text!r}.") from None


class Command(BaseCommand):
    help = "Read a report (a .txt or .html file, or - for standard input) and print its candidate incidents."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The report file, or - to read standard input.")
        parser.add_argument("--published", required=True, type=_date, help="The report's publication date.")
        parser.add_argument(
            "--language",
            choices=["en", "ar"],
            help="The report's language; read from the text when not given (both are understood either way).",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON (the only output format).")

    def handle(self, *args, file, published, language, **options):
        try:
            if file == "-":
                raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
            else:
                with open(file, "rb") as report:
                    raw = report.read()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError("The report is not UTF-8 text.") from None
        try:
            text, _notes = report_text_clean(text)
        except ReportTextError as error:
            raise CommandError(str(error)) from None
        candidates = candidates_json(text, published=published)
        self.stdout.write(json.dumps(candidates, ensure_ascii=False, indent=2))
