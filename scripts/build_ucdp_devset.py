"""Build tests/data/geocoding/ucdp-iraq-names.csv from an unchanged UCDP GED Iraq country file (HDX layout).

    .venv/bin/python scripts/build_ucdp_devset.py /path/to/ged-iraq-hdx.csv

One row per distinct (where_coordinates, adm_1): the coders' place string, its admin1 and admin2 as UCDP writes
them, UCDP's where_prec and the coordinates the coders chose (the truth the geocoder is scored against). Each row
is put in the `dev` or the `holdout` fold by a hash of its name, so the split is stable and not chosen by hand:
the geocoder is tuned on `dev` only and `holdout` shows whether a fix generalises.

UCDP GED is CC BY 4.0: tests/data/geocoding/README.md carries the credit.
"""

import argparse
import csv
import hashlib
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "geocoding" / "ucdp-iraq-names.csv"
COLUMNS = ["name", "country", "admin1", "admin2", "where_prec", "latitude", "longitude", "events", "fold"]
HOLDOUT_PERCENT = 30


def fold_of(name):
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return "holdout" if digest[0] * 100 // 256 < HOLDOUT_PERCENT else "dev"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ged_csv", type=Path)
    args = parser.parse_args(argv)
    places, events = {}, {}
    with open(args.ged_csv, encoding="utf-8", newline="") as source:
        for row in csv.DictReader(source):
            if not row["id"] or row["id"].startswith("#") or not row["where_coordinates"]:
                continue  # the HXL hashtag row
            key = (row["where_coordinates"], row["adm_1"])
            events[key] = events.get(key, 0) + 1
            places.setdefault(key, row)
    with open(OUTPUT, "w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(COLUMNS)
        for (name, admin1), row in places.items():
            writer.writerow(
                [name, "IQ", admin1, row["adm_2"], row["where_prec"], row["latitude"], row["longitude"],
                 events[(name, admin1)], fold_of(name)]
            )  # fmt: skip
    print(f"{OUTPUT}: {len(places)} names")


if __name__ == "__main__":
    main()
