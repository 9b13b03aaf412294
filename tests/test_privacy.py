"""Public and exact locations: a sensitive incident (or one citing a sensitive source) is shown at a generalised
public location everywhere the public looks, and its exact point is nowhere in any public output, in any rendering;
editors see the exact point in the admin."""

import io
import json
import math
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from incidents import services
from incidents.models import ChangeKind, Incident, IncidentChange, IncidentSource, LocationPrecision, Source
from places.models import District
from tests.factories import IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db

# Distinctive points: one in Ar-Raqqa district (generalised to its centroid), one in Lebanon, where the gazetteer
# has no districts (generalised to a grid cell).
IN_RAQQA = (38.61379, 35.94713)
IN_LEBANON = (35.71937, 34.13917)
HIDDEN_PLACE = "Hamrat al-Sukkar"
HIDDEN_SOURCE_TITLE = "Eyewitness post by a local nurse"
HIDDEN_SOURCE_URL = "https://witness.example.org/posts/7731"


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.DOWNLOAD_CACHE_DIR = tmp_path / "downloads"


def renderings(lon, lat):
    """Every plausible way an output could write the exact point: each coordinate rounded and truncated to 3-7
    decimals, and Python's shortest text; each coordinate alone, so either order (lon/lat swapped) is covered."""
    texts = set()
    for value in (lon, lat):
        texts.add(repr(value))
        for decimals in range(3, 8):
            texts.add(f"{value:.{decimals}f}")
            texts.add(f"{math.trunc(value * 10**decimals) / 10**decimals:.{decimals}f}")
    return texts


def body(response):
    assert response.status_code == 200, (response.status_code, response.content[:300])
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()


@pytest.fixture
def sensitive(db):
    """(incident marked sensitive, incident citing a sensitive source), both published, with telling place names."""
    marked = IncidentFactory(
        published=True,
        sensitive=True,
        title="Shelling of a village school",
        location=Point(*IN_RAQQA, srid=4326),
        place_reported=f"the school of {HIDDEN_PLACE}",
        place_name=HIDDEN_PLACE,
        admin1="Ar-Raqqa",
        admin2="Ar-Raqqa",
        country="SY",
        fatalities_best=3,
    )
    cited = IncidentFactory(
        published=True,
        title="Raid on a clinic",
        location=Point(*IN_LEBANON, srid=4326),
        place_reported=f"clinic near {HIDDEN_PLACE}",
        place_name=HIDDEN_PLACE,
        admin1="",
        country="LB",
        sources=[SourceFactory(sensitive=True, title=HIDDEN_SOURCE_TITLE, url=HIDDEN_SOURCE_URL, publisher="Witness")],
    )
    return marked, cited


def public_outputs(client, incidents):
    """{name: text} of every public output that could show the incidents."""
    outputs = {}
    boxes = {"syria": "35,32,43,38", "lebanon": "34,33,37,35", "world": "-180,-85,180,85"}
    for zoom in (3, 6, 9, 11, 12, 15):
        for name, bbox in boxes.items():
            outputs[f"feed z{zoom} {name}"] = body(client.get("/map/incidents.json", {"bbox": bbox, "zoom": zoom}))
    outputs["list"] = body(client.get("/map/list.json", {"bbox": boxes["world"]}))
    outputs["geojson"] = body(client.get("/api/incidents.geojson"))
    outputs["geojson download"] = body(client.get("/api/incidents.geojson?download=1"))
    outputs["csv"] = body(client.get("/api/incidents.csv"))
    outputs["csv hxl"] = body(client.get("/api/incidents.csv?hxl=1"))
    outputs["ogc items"] = body(client.get("/ogcapi/collections/incidents/items"))
    outputs["ogc items html"] = body(client.get("/ogcapi/collections/incidents/items?f=html"))
    outputs["ogc collection"] = body(client.get("/ogcapi/collections/incidents"))
    outputs["atom"] = body(client.get("/map/incidents.atom"))
    outputs["changes"] = body(client.get("/api/changes"))
    outputs["timeline"] = body(client.get("/api/timeline"))
    outputs["timeline by region"] = body(client.get("/api/timeline", {"admin1": "Ar-Raqqa", "country": "SY"}))
    outputs["home"] = body(client.get("/"))
    for incident in incidents:
        outputs[f"ogc item {incident.pk}"] = body(client.get(f"/ogcapi/collections/incidents/items/{incident.pk}"))
        for prefix in ("", "/ar"):
            outputs[f"page {prefix} {incident.pk}"] = body(client.get(f"{prefix}/incidents/{incident.pk}/"))
            outputs[f"popup {prefix} {incident.pk}"] = body(client.get(f"{prefix}/incidents/{incident.pk}.json"))
    for prefix in ("/ar",):
        outputs[f"feed {prefix}"] = body(
            client.get(f"{prefix}/map/incidents.json", {"bbox": boxes["world"], "zoom": 14})
        )
        outputs[f"list {prefix}"] = body(client.get(f"{prefix}/map/list.json", {"bbox": boxes["world"]}))
        outputs[f"atom {prefix}"] = body(client.get(f"{prefix}/map/incidents.atom"))
    call_command("release", "privacy", stdout=io.StringIO())
    outputs["release geojson"] = body(client.get("/api/incidents.geojson?release=privacy"))
    outputs["release csv"] = body(client.get("/api/incidents.csv?release=privacy"))
    outputs["release file geojson"] = body(client.get("/api/incidents.geojson?release=privacy&download=1"))
    outputs["release ogc items"] = body(client.get("/ogcapi/collections/incidents/items?release=privacy"))
    outputs["release bbox"] = body(client.get("/api/incidents.geojson", {"release": "privacy", "bbox": boxes["world"]}))
    for incident in incidents:
        item = f"/ogcapi/collections/incidents/items/{incident.pk}?release=privacy"
        outputs[f"release ogc item {incident.pk}"] = body(client.get(item))
    for level in ("admin1", "admin2"):
        outputs[f"regions {level}"] = body(client.get("/api/regions.json", {"level": level}))
        outputs[f"aggregated {level}"] = body(client.get("/api/aggregated.json", {"level": level}))
    outputs["trends"] = body(client.get("/api/trends.json"))
    outputs["tilejson"] = body(client.get("/tiles/tiles.json"))
    outputs["releases.json"] = body(client.get("/api/releases.json"))
    from django.conf import settings

    for path in Path(settings.RELEASES_DIR).rglob("*"):
        if path.is_file():
            outputs[f"release file {path.name}"] = path.read_text(errors="replace")
    return outputs


def test_no_public_output_shows_a_sensitive_incidents_exact_point_and_every_one_shows_its_public_point(
    client, sensitive
):
    marked, cited = sensitive
    for incident in sensitive:
        incident.refresh_from_db()
        assert incident.public_location_precision == LocationPrecision.REGION
        assert incident.public_location.distance(incident.location) > 0.05  # not a rounding of the exact point
    raqqa = District.objects.get(country="SY", name="Ar-Raqqa")
    assert marked.public_location.equals_exact(raqqa.boundary.centroid, tolerance=1e-9)

    outputs = public_outputs(client, sensitive)
    hidden = renderings(*IN_RAQQA) | renderings(*IN_LEBANON) | {HIDDEN_PLACE, HIDDEN_SOURCE_TITLE, HIDDEN_SOURCE_URL}
    found = {(name, text) for name, output in outputs.items() for text in hidden if text in output}
    assert not found

    # ...while the public location is there: in the features, the CSV, the popup, the page and the map's markers.
    for incident in sensitive:
        geojson = json.loads(outputs["geojson"])
        (feature,) = [f for f in geojson["features"] if f["id"] == incident.pk]
        assert feature["geometry"]["coordinates"] == [
            round(incident.public_location.x, 6),
            round(incident.public_location.y, 6),
        ]
        assert feature["properties"]["location_precision"] == 3
        assert feature["properties"]["place_name"] == feature["properties"]["place_reported"] == ""
        popup = json.loads(outputs[f"popup  {incident.pk}"])
        assert (popup["lon"], popup["lat"], popup["precision"]) == (*incident.public_location.coords, 3)
        page = outputs[f"page  {incident.pk}"]
        assert f'data-lat="{incident.public_location.y:f}" data-lon="{incident.public_location.x:f}"' in page
        assert str(incident.public_location.y) in outputs["csv"]
    points = json.loads(outputs["feed z15 world"])
    assert {(row["lon"], row["lat"]) for row in points["incidents"]} >= {
        (round(i.public_location.x, 5), round(i.public_location.y, 5)) for i in sensitive
    }
    # The sensitive source shows its publisher only.
    cited_feature = next(f for f in json.loads(outputs["geojson"])["features"] if f["id"] == cited.pk)
    assert cited_feature["properties"]["sources"][0] | {"published_on": None} == {
        "publisher": "Witness",
        "title": None,
        "url": None,
        "published_on": None,
        "original_reporter": None,
    }


def test_a_box_round_the_exact_point_finds_nothing_and_one_round_the_public_point_finds_it(client, sensitive):
    marked, _cited = sensitive
    marked.refresh_from_db()
    lon, lat = IN_RAQQA
    exact_box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    public = marked.public_location
    public_box = f"{public.x - 0.01},{public.y - 0.01},{public.x + 0.01},{public.y + 0.01}"

    def ids(url, params):
        return {feature["id"] for feature in json.loads(body(client.get(url, params)))["features"]}

    for url in ("/api/incidents.geojson", "/ogcapi/collections/incidents/items"):
        assert marked.pk not in ids(url, {"bbox": exact_box})
        assert marked.pk in ids(url, {"bbox": public_box})
    cql = f"S_INTERSECTS(geometry,POINT({lon} {lat}))"
    assert marked.pk not in ids("/ogcapi/collections/incidents/items", {"filter": cql, "filter-lang": "cql2-text"})
    for zoom in (11, 16):
        feed = json.loads(body(client.get("/map/incidents.json", {"bbox": exact_box, "zoom": zoom})))
        assert feed["total"] == 0
    assert json.loads(body(client.get("/map/list.json", {"bbox": exact_box})))["total"] == 0
    # Nor does the precision filter tell it apart: it is "region" to the public.
    assert marked.pk not in ids("/api/incidents.geojson", {"precision": "1"})
    assert marked.pk in ids("/api/incidents.geojson", {"precision": "3"})


def test_a_map_cluster_counts_it_at_its_public_point(client, sensitive, settings):
    settings.MAP_POINTS_MAX = 0  # clusters at every zoom, read from the kept tables up to zoom 11
    marked, _cited = sensitive
    marked.refresh_from_db()
    for zoom in (4, 8, 11, 13):
        feed = json.loads(body(client.get("/map/incidents.json", {"bbox": "38,35,40,37", "zoom": zoom})))
        assert feed["mode"] == "clusters"
        (cluster,) = feed["clusters"]
        assert (cluster["lon"], cluster["lat"]) == (
            round(marked.public_location.x, 5),
            round(marked.public_location.y, 5),
        )


def test_turning_sensitive_and_moving_the_exact_point_show_only_as_public_location_updates(client, publisher):
    incident = IncidentFactory(published=True, location=Point(*IN_RAQQA, srid=4326), admin1="Ar-Raqqa")
    last = IncidentChange.objects.order_by("id").last().pk

    incident.sensitive = True
    incident.save()
    (change,) = IncidentChange.objects.filter(pk__gt=last)
    assert change.kind == ChangeKind.UPDATED
    public_location = ["geometry", "location_precision", "location_precision_label", "place_reported", "updated_at"]
    assert change.fields == public_location

    # A move inside the district leaves the public record as it was but for its time of change.
    incident.location = Point(IN_RAQQA[0] + 0.02, IN_RAQQA[1] - 0.03, srid=4326)
    incident.save()
    (move,) = IncidentChange.objects.filter(pk__gt=change.pk)
    assert move.fields == ["updated_at"]
    feed = body(client.get("/api/changes"))
    assert not {text for text in renderings(*IN_RAQQA) if text in feed}

    # Back to exact: the public location is the point again.
    incident.sensitive = False
    incident.save()
    assert incident.public_location.equals_exact(incident.location, tolerance=0)
    assert incident.public_location_precision == incident.location_precision


def test_every_write_path_keeps_the_public_location(publisher):
    """A source turning sensitive, a link to one added or removed, a bulk update and a bulk insert: the database
    computes the public location whoever writes."""
    incident = IncidentFactory(published=True, location=Point(*IN_RAQQA, srid=4326))
    source = incident.sources.get()
    assert incident.public_location.equals_exact(incident.location, tolerance=0)

    Source.objects.filter(pk=source.pk).update(sensitive=True)
    incident.refresh_from_db()
    assert incident.shown_generalised and incident.public_location_precision == LocationPrecision.REGION

    IncidentSource.objects.filter(incident=incident, source=source).delete()
    IncidentSource.objects.create(incident=incident, source=SourceFactory())
    incident.refresh_from_db()
    assert not incident.shown_generalised

    IncidentSource.objects.create(incident=incident, source=source)
    incident.refresh_from_db()
    assert incident.shown_generalised

    Source.objects.filter(pk=source.pk).update(sensitive=False)
    Incident.objects.filter(pk=incident.pk).update(sensitive=True)
    incident.refresh_from_db()
    assert incident.shown_generalised

    (bulk,) = Incident.objects.bulk_create(
        [Incident(title="Bulk", start_date="2019-04-18", end_date="2019-04-18", sensitive=True,
                  location=Point(*IN_LEBANON, srid=4326), event_type=incident.event_type)]
    )  # fmt: skip
    bulk.refresh_from_db()
    assert bulk.public_location_precision == LocationPrecision.REGION
    # A grid cell's centre, SENSITIVE_LOCATION_GRID_KM (25 km) a side: within half a diagonal of the point.
    assert 0.02 < bulk.public_location.distance(bulk.location) < 0.25

    # A stale form writing an old generalised point back is corrected.
    Incident.objects.filter(pk=bulk.pk).update(generalised_location=Point(0, 0, srid=4326))
    bulk.refresh_from_db()
    assert bulk.public_location.distance(bulk.location) < 0.25


def test_the_grid_comes_from_the_setting(settings):
    """SENSITIVE_LOCATION_GRID_KM reaches the database through the connection's options."""
    options = settings.DATABASES["default"]["OPTIONS"]["options"]
    assert f"conflictmap.sensitive_location_grid_km={settings.SENSITIVE_LOCATION_GRID_KM:g}" in options
    latitudes = {}
    with connection.cursor() as cursor:
        for km in (25, 100):
            cursor.execute("SELECT set_config('conflictmap.sensitive_location_grid_km', %s, true)", [str(km)])
            cursor.execute("SELECT ST_Y(conflictmap_generalised_location(ST_SetSRID(ST_MakePoint(%s, %s), 4326)))",
                           IN_LEBANON)  # fmt: skip
            latitudes[km] = cursor.fetchone()[0]
    for km, latitude in latitudes.items():
        step = km / 111.32  # rows `step` degrees high; the point is in the row whose middle it is given
        assert latitude / step - 0.5 == pytest.approx(round(latitude / step - 0.5))
        assert abs(latitude - IN_LEBANON[1]) <= step / 2


def test_editors_see_the_exact_point_and_the_public_one_in_the_admin(client, publisher):
    incident = IncidentFactory(published=True, sensitive=True, location=Point(*IN_RAQQA, srid=4326))
    client.force_login(publisher)
    page = body(client.get(reverse("admin:incidents_incident_change", args=[incident.pk])))
    assert f'value="{IN_RAQQA[1]}"' in page and f'value="{IN_RAQQA[0]}"' in page  # the exact point's fields
    assert f"{incident.public_location.y:.6f}, {incident.public_location.x:.6f}" in page
    assert "generalised: the incident is sensitive" in page
    assert 'name="sensitive"' in page


def test_a_revert_to_a_sensitive_version_generalises_the_public_location_again(publisher):
    incident = IncidentFactory(sensitive=True, location=Point(*IN_RAQQA, srid=4326))
    sensitive_version = incident.history.earliest().history_id
    incident.sensitive = False
    incident.save()
    assert not incident.shown_generalised

    services.record_revert(record=incident, history_id=sensitive_version, user=publisher)
    incident.refresh_from_db()
    assert incident.sensitive and incident.shown_generalised
    assert incident.public_location_precision == LocationPrecision.REGION


def test_searching_for_a_withheld_place_name_finds_no_generalised_incident_but_finds_the_others(
    client, admin_client, sensitive
):
    marked, cited = sensitive
    plain = IncidentFactory(published=True, title="Market fire", place_name=HIDDEN_PLACE, location=Point(37.1, 36.2))
    word = HIDDEN_PLACE.split()[0]  # a word (the stored words) and a substring (the trigram haystack) alike
    for q in (HIDDEN_PLACE, word, "school of Hamrat"):
        for prefix in ("", "/ar"):
            listed = json.loads(body(client.get(f"{prefix}/map/list.json", {"q": q})))
            ids = {incident["id"] for incident in listed["incidents"]}
            assert marked.pk not in ids and cited.pk not in ids, (q, prefix)
            assert q == "school of Hamrat" or plain.pk in ids, (q, prefix)
        found = json.loads(body(client.get("/api/incidents.geojson", {"q": q})))
        ids = {feature["id"] for feature in found["features"]}
        assert marked.pk not in ids and cited.pk not in ids, q
    found = json.loads(body(client.get("/api/incidents.geojson", {"q": HIDDEN_PLACE})))
    assert {feature["id"] for feature in found["features"]} == {plain.pk}
    for cql in (f"place_name = '{HIDDEN_PLACE}'", f"place_reported LIKE '%{word}%'"):
        items = json.loads(body(client.get("/ogcapi/collections/incidents/items", {"filter": cql, "f": "json"})))
        assert marked.pk not in {feature["id"] for feature in items["features"]}, cql
    # Staff still find it by the name they coded.
    page = admin_client.get("/admin/incidents/incident/", {"q": HIDDEN_PLACE}).content.decode()
    assert f"/admin/incidents/incident/{marked.pk}/change/" in page
