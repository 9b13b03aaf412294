"""Build the committed Who's On First extract the gazetteer loads (places/data/wof-*.json.gz).

    .venv/bin/python scripts/build_gazetteer_extract.py /path/to/whosonfirst-data-admin-sy.tar.gz /path/to/...-iq.tar.gz

Reads the unchanged `git archive` copies of whosonfirst-data-admin-<cc> and keeps only what the gazetteer uses:
- regions (governorates) and counties (districts): id, names (English, Arabic, every variant), GeoNames id and a
  MultiPolygon simplified (topology preserved) to about 90 m, written as WKT at 5 decimals (about 1 m);
- localities and campuses (air bases, airports): id, GeoNames id, names (Latin and Arabic, alternates), point,
  population, their region and county, and which of the two it is.
Superseded and deprecated records are left out; abandoned and destroyed villages (GeoNames PPLQ/PPLW, "not current"
in WOF) are kept, because that is where conflict events are reported.

Who's On First is CC0; the GeoNames fields (gn:*) are CC BY 4.0: credit both wherever the data is shown.
The project needs only the output at run time, never the archives.
"""

import argparse
import gzip
import json
import sys
import tarfile
from pathlib import Path

OUTPUT_DIR = Path(__file__).resolve().parent.parent / "places" / "data"
# Douglas-Peucker tolerance in degrees: 0.0008° is ~90 m north-south and ~75 m east-west at 34° N, so a point more
# than ~100 m inside a governorate line is still placed in the right governorate.
SIMPLIFY_DEGREES = 0.0008
COORDINATE_DECIMALS = 5
LOCALITY_COLUMNS = [
    "wof_id",
    "geonames_id",
    "country",
    "names",
    "latitude",
    "longitude",
    "population",
    "region_wof_id",
    "district_wof_id",
    "placetype",
]
# Besides localities: campuses (air bases and airports: Al Asad, Al Taqaddum, Mosul, Qamishli), where reports place
# events by the base's name. WOF's neighbourhoods are left out: names such as "Babil", "Ur" or "Asia" for Baghdad
# quarters would meet a governorate, an ancient city or anything else, and "City - Quarter" wording is rare.
POINT_PLACETYPES = ("locality", "campus")
# Not a governorate: the Golan ceasefire zone (UNDOF) is mapped by WOF as a region of its own.
SKIPPED_REGIONS = {85681385}
NAME_PROPERTIES = [
    "name:eng_x_preferred",
    "name:eng_x_variant",
    "name:ara_x_preferred",
    "name:ara_x_variant",
    "name:und_x_variant",
    "name:eng_x_colloquial",
    "label:eng_x_preferred_longname",
]
EXTRA_NAME_PROPERTIES = ["ne:name", "ne:gns_name", "ne:gn_name", "ne:woe_name", "qs:a1", "statoids:name", "gn:name"]


def _geos():
    """Django's GEOS bindings, without a project: only the geometry library is needed."""
    from django.conf import settings

    if not settings.configured:
        settings.configure()
    from django.contrib.gis import geos

    return geos


def _names(props):
    names = [props.get("wof:name", "")]
    for key in NAME_PROPERTIES:
        value = props.get(key) or []
        names.extend(value if isinstance(value, list) else [value])
    for key in EXTRA_NAME_PROPERTIES:
        if isinstance(props.get(key), str):
            names.append(props[key])
    wikipedia = (props.get("wof:concordances") or {}).get("wk:page")
    if isinstance(wikipedia, str):
        names.append(wikipedia)
    return list(dict.fromkeys(name.strip() for name in names if isinstance(name, str) and name.strip()))


def _first(props, key):
    value = props.get(key) or []
    return (value[0] if isinstance(value, list) else value) if value else ""


def _geonames_id(props):
    value = props.get("gn:geonameid") or (props.get("wof:concordances") or {}).get("gn:id")
    try:
        return int(float(value)) if value else None
    except (TypeError, ValueError):
        return None


def _hierarchy(props):
    hierarchy = (props.get("wof:hierarchy") or [{}])[0]
    return hierarchy.get("region_id"), hierarchy.get("county_id")


def _wkt(geos, geometry):
    shape = geos.GEOSGeometry(json.dumps(geometry), srid=4326)
    simple = shape.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
    if simple.geom_type == "Polygon":
        simple = geos.MultiPolygon(simple, srid=4326)
    if not simple.valid:
        simple = simple.buffer(0)
        if simple.geom_type == "Polygon":
            simple = geos.MultiPolygon(simple, srid=4326)
    writer = geos.WKTWriter(dim=2, trim=True, precision=COORDINATE_DECIMALS)
    return writer.write(simple).decode()


def _is_live(props):
    return not props.get("wof:superseded_by") and not props.get("edtf:deprecated")


def records(archive_paths):
    """Every current WOF feature (properties, geometry) in the archives, alternate geometries left out."""
    for archive_path in archive_paths:
        with tarfile.open(archive_path) as archive:
            for member in archive:
                if not member.name.endswith(".geojson") or "-alt-" in member.name or "/data/" not in member.name:
                    continue
                feature = json.load(archive.extractfile(member))
                yield feature["properties"], feature["geometry"]


def build(archive_paths):
    geos = _geos()
    areas = {"region": [], "county": []}
    localities = {}
    for props, geometry in records(archive_paths):
        placetype = props.get("wof:placetype")
        if not _is_live(props):
            continue
        if placetype in areas and geometry["type"] in ("Polygon", "MultiPolygon"):
            if props["wof:id"] in SKIPPED_REGIONS:
                continue
            region_id, _county_id = _hierarchy(props)
            areas[placetype].append(
                {
                    "wof_id": props["wof:id"],
                    "country": props.get("iso:country") or props.get("wof:country"),
                    "name": props["wof:name"],
                    "name_en": _first(props, "name:eng_x_preferred") or props["wof:name"],
                    "name_ar": _first(props, "name:ara_x_preferred"),
                    "names": _names(props),
                    "geonames_id": _geonames_id(props),
                    "region_wof_id": region_id if placetype == "county" else None,
                    "wkt": _wkt(geos, geometry),
                }
            )
        elif placetype in POINT_PLACETYPES:
            geonames_id = _geonames_id(props)
            region_id, county_id = _hierarchy(props)
            row = [
                props["wof:id"],
                geonames_id,
                props.get("iso:country") or props.get("wof:country"),
                _names(props),
                round(float(props.get("lbl:latitude") or props["geom:latitude"]), COORDINATE_DECIMALS),
                round(float(props.get("lbl:longitude") or props["geom:longitude"]), COORDINATE_DECIMALS),
                int(props.get("gn:population") or props.get("wof:population") or 0),
                region_id,
                county_id,
                placetype,
            ]
            # One row per GeoNames id: a current record beats a stale duplicate.
            key = geonames_id or f"wof:{props['wof:id']}"
            if key not in localities or props.get("mz:is_current") == 1:
                localities[key] = row
    for rows in areas.values():
        rows.sort(key=lambda row: row["wof_id"])
    return areas, sorted(localities.values(), key=lambda row: row[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archives", nargs="+", type=Path, help="whosonfirst-data-admin-<cc>.tar.gz files")
    args = parser.parse_args(argv)
    areas, localities = build(args.archives)
    credit = "Who's On First (CC0, https://whosonfirst.org/); GeoNames fields CC BY 4.0 (https://www.geonames.org/)"
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    outputs = {
        "wof-regions.json.gz": {"credit": credit, "regions": areas["region"], "districts": areas["county"]},
        "wof-localities.json.gz": {
            "credit": credit,
            "columns": LOCALITY_COLUMNS,
            "rows": localities,
        },
    }
    for filename, content in outputs.items():
        path = OUTPUT_DIR / filename
        # mtime=0: the same archives give byte-identical files, so a rebuild shows no spurious diff.
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
            packed.write(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())
        print(f"{path}: {path.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    print(
        f"{len(areas['region'])} regions, {len(areas['county'])} districts, {len(localities)} localities",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
