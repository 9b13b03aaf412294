import csv
import json

from django.core.management.base import BaseCommand, CommandError

from places.geocoding import (
    GazetteerGeocoder,
    GeocodeQueryError,
    country_clean,
    geocoder_chain,
)

OUTPUT_KEYS = [
    "name",
    "latitude",
    "longitude",
    "admin1",
    "admin2",
    "country",
    "precision",
    "score",
    "provider",
    "match",
    "ambiguous",
    "outside_admin1",
    "feature",
]
# Columns a batch run adds to each row, empty where the name is unresolved (or ambiguous: then `match` says so).
BATCH_COLUMNS = ["latitude", "longitude", "precision", "admin1", "admin2", "match", "confidence", "candidates"]


class Command(BaseCommand):
    help = (
        'Geocode report wording ("north of Palmyra", "Homs province", "دير الزور") with the gazetteer, then the '
        "online provider if one is configured; with --reverse LAT LON, name the nearest place; with --csv FILE "
        "--column NAME, geocode every row of a CSV file (gazetteer only) and print or write it with the results."
    )

    def add_arguments(self, parser):
        parser.add_argument("query", nargs="?", default=None, help="What the report says, in quotes.")
        parser.add_argument("--country", help="Only places in this country (ISO 3166-1 alpha-2, e.g. SY).")
        parser.add_argument("--admin1", help='The governorate the place is in, in any spelling ("Idleb").')
        parser.add_argument("--admin2", help='The district the place is in, in any spelling ("Qaḑā’ al Mawşil").')
        parser.add_argument("--limit", type=int, default=5, help="How many candidates, best first (default 5).")
        parser.add_argument("--reverse", nargs=2, type=float, metavar=("LAT", "LON"), help="Reverse geocode a point.")
        parser.add_argument("--json", action="store_true", help="Print JSON (an array, or one object for --reverse).")
        parser.add_argument("--csv", metavar="FILE", help="Geocode each row of this CSV file (UTF-8, with a header).")
        parser.add_argument("--column", help="With --csv: the column holding the place wording.")
        parser.add_argument("--country-column", help="With --csv: a column of ISO country codes (SY, IQ).")
        parser.add_argument("--admin1-column", help="With --csv: a column naming each row's governorate.")
        parser.add_argument("--admin2-column", help="With --csv: a column naming each row's district (admin2).")
        parser.add_argument("--output", metavar="OUT", help="With --csv: write the result here instead of printing.")

    def handle(
        self, *args, query=None, country=None, admin1=None, admin2=None, limit=5, reverse=None, json=False, **options
    ):
        if options.get("csv"):
            if query or reverse is not None:
                raise CommandError("Give either --csv FILE or a query / --reverse, not both.")
            self._batch(options)
            return
        chain = geocoder_chain()
        try:
            if reverse is not None:
                if query:
                    raise CommandError("Give either a query or --reverse LAT LON, not both.")
                self._print_reverse(chain.reverse(*reverse), as_json=json)
                return
            if not 1 <= limit <= 50:
                raise CommandError("--limit must be between 1 and 50.")
            if query is None:
                raise CommandError('Give a place to look up, e.g. manage.py geocode "Deir ez-Zor".')
            result = chain.geocode(query, country=country_clean(country), admin1=admin1, admin2=admin2, limit=limit)
        except GeocodeQueryError as error:
            raise CommandError(str(error)) from None
        for warning in result.warnings:
            self.stderr.write(warning)
        if json:
            self.stdout.write(_json([_output(candidate) for candidate in result.candidates]))
            return
        if not result.candidates:
            self.stdout.write(f"No place found for “{query}”.")
        for candidate in result.candidates:
            self.stdout.write(_line(candidate))

    def _batch(self, options):
        column = options.get("column")
        if not column:
            raise CommandError("--csv needs --column, the name of the column holding the place wording.")
        try:
            with open(options["csv"], encoding="utf-8-sig", newline="") as source:
                reader = csv.DictReader(source)
                fields = reader.fieldnames or []
                rows = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"Cannot read {options['csv']}: {error}") from None
        wanted = [column, options.get("country_column"), options.get("admin1_column"), options.get("admin2_column")]
        missing = [name for name in wanted if name and name not in fields]
        if missing:
            raise CommandError(f"No column {', '.join(missing)} in {options['csv']}; it has: {', '.join(fields)}.")
        # An ACLED export already has admin1 (and may have latitude): its values stay, ours go beside them.
        renamed = {name: f"geocoded_{name}" if name in fields else name for name in BATCH_COLUMNS}
        if any(new in fields for new in renamed.values()):
            raise CommandError(f"{options['csv']} already has geocoded_* columns; is it an output of this command?")
        for name, new in renamed.items():
            if name != new:
                self.stderr.write(f"The file has a {name} column already: the result is in {new}.")
        results = batch_geocode(
            rows,
            column=column,
            country_column=options.get("country_column"),
            admin1_column=options.get("admin1_column"),
            admin2_column=options.get("admin2_column"),
        )
        for line, problem in results.problems:
            self.stderr.write(f"row {line}: {problem}")
        output = options.get("output")
        try:
            target = open(output, "w", encoding="utf-8", newline="") if output else None
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from None
        stream = target or self.stdout
        try:
            writer = csv.DictWriter(stream, fieldnames=[*fields, *renamed.values()], lineterminator="\n")
            writer.writeheader()
            for row, added in results.rows:
                writer.writerow({**row, **{renamed[name]: value for name, value in added.items()}})
        finally:
            if target:
                target.close()
        if output:
            self.stdout.write(f"{len(results.rows)} rows, {results.resolved} resolved, written to {output}.")

    def _print_reverse(self, candidate, *, as_json):
        if as_json:
            self.stdout.write(
                _json({key: candidate.get(key, "") for key in [*OUTPUT_KEYS, "distance_km"]} if candidate else None)
            )
        elif candidate is None:
            self.stdout.write("No gazetteer place within 150 km.")
        else:
            self.stdout.write(f"{_line(candidate)}  {candidate['distance_km']} km away")


class BatchResult:
    def __init__(self):
        self.rows, self.problems, self.resolved = [], [], 0


def batch_geocode(rows, *, column, country_column=None, admin1_column=None, admin2_column=None):
    """(row, BATCH_COLUMNS values) for each row, in the same order; (line number, message) for rows that could not be
    looked up. Gazetteer only (an online provider's one request a second would make 10,000 rows take hours), and
    each distinct (wording, country, admin1) is looked up once."""
    geocoder, seen, result = GazetteerGeocoder(refresh_index=False), {}, BatchResult()
    geocoder.prefetch({(row.get(column) or "").strip() for row in rows} - {""})
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        wording = (row.get(column) or "").strip()
        country = (row.get(country_column) or "").strip() if country_column else ""
        admin1 = (row.get(admin1_column) or "").strip() if admin1_column else ""
        admin2 = (row.get(admin2_column) or "").strip() if admin2_column else ""
        added = dict.fromkeys(BATCH_COLUMNS, "")
        if wording:
            key = (wording, country.upper(), admin1, admin2)
            if key not in seen:
                try:
                    countries = [country_clean(country)] if country else None
                    seen[key] = geocoder.candidates(
                        wording, countries=countries, admin1=admin1 or None, admin2=admin2 or None, limit=10
                    )
                except GeocodeQueryError as error:
                    seen[key] = error
            found = seen[key]
            if isinstance(found, GeocodeQueryError):
                result.problems.append((line, str(found)))
            else:
                added.update(_batch_columns(found))
                result.resolved += bool(added["latitude"])
        result.rows.append((row, added))
    return result


def _batch_columns(candidates):
    columns = {"candidates": len(candidates)}
    top = candidates[0] if candidates else None
    if top is None:
        return columns
    if top["ambiguous"]:
        return {**columns, "match": "ambiguous"}
    if top["match"] == "fuzzy":  # a look-alike is a suggestion for an editor, not a point for a dataset
        return {**columns, "match": "fuzzy"}
    if top.get("outside_admin1"):  # nothing inside the row's admin1 carries the name: never a point elsewhere
        return {**columns, "match": "outside_admin1"}
    return {
        **columns,
        "latitude": top["latitude"],
        "longitude": top["longitude"],
        "precision": top["precision"],
        "admin1": top["admin1"],
        "admin2": top["admin2"],
        "match": top["match"],
        "confidence": top["score"],
    }


def _output(candidate):
    return {key: candidate.get(key, "") for key in OUTPUT_KEYS}


def _json(value):
    return json.dumps(value, ensure_ascii=False, indent=2)


def _line(candidate):
    where = ", ".join(part for part in (candidate["admin2"], candidate["admin1"], candidate["country"]) if part)
    how = f"  match={candidate['match']}" if candidate.get("match") else ""
    unsure = "  AMBIGUOUS" if candidate.get("ambiguous") else ""
    unsure += "  OUTSIDE-ADMIN1" if candidate.get("outside_admin1") else ""
    return (
        f"{candidate['score']:.3f}  {candidate['name']} ({where})  {candidate['latitude']}, {candidate['longitude']}"
        f"  precision={candidate['precision']}  [{candidate['provider']}]{how}{unsure}"
    )
