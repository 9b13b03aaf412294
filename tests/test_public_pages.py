"""Where everything else is: the About page, the /api/ reference, the OGC API's HTML pages, the footer and favicon,
and how dates and places read, in English and Arabic."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from incidents.models import DatePrecision
from incidents.templatetags.incident_format import dates_label
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def arabic(name, *args):
    with translation.override("ar"):
        return reverse(name, args=args)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_about_page_credits_the_sources_and_links_to_downloads_and_apis(client, language):
    url = reverse("incidents:about") if language == "en" else arabic("incidents:about")
    html = client.get(url).content.decode()
    assert "UCDP Georeferenced Event Dataset (GED) Global version" in html
    assert "https://creativecommons.org/licenses/by/4.0/" in html
    assert "Armed Conflict Location &amp; Event Data Project (ACLED); acleddata.com" in html
    for link in ("/api/incidents.geojson?download=1", "/api/incidents.csv", "/ogcapi/?f=html", "/api/openapi.json"):
        assert f'href="{link}"' in html
    assert f'href="{url.replace("about/", "api/")}"' in html
    if language == "ar":
        assert 'dir="rtl"' in html and "عن البيانات" in html and "رموز الدقة" in html
    else:
        assert "Precision codes" in html and "Only the region is known" in html


@pytest.mark.parametrize("name", ["incidents:home", "incidents:about", "incidents:api-docs"])
def test_public_pages_have_a_footer_favicon_and_skip_link(client, name):
    html = client.get(reverse(name)).content.decode()
    assert '<footer class="site-footer">' in html
    assert f'href="{reverse("incidents:about")}"' in html and f'href="{reverse("incidents:api-docs")}"' in html
    assert 'rel="icon" href="/static/incidents/favicon.svg"' in html
    assert 'class="skip-link"' in html


def test_favicon_is_a_static_svg():
    from django.contrib.staticfiles import finders

    icon = finders.find("incidents/favicon.svg")
    assert icon and open(icon, encoding="utf-8").read().startswith("<svg")


def test_api_page_documents_every_operation_from_the_openapi_document(client):
    document = client.get(reverse("incidents:api-openapi")).json()
    response = client.get("/api/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for path, methods in document["paths"].items():
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in html
            assert f"GET {path}" in html
            for parameter in operation.get("parameters", []):
                assert f'<code dir="ltr">{parameter["name"]}</code>' in html
    assert "one of: day, week, month, year" in html  # the timeline's bucket, read from its schema
    assert "<script" not in html.split("</footer>")[0].split("<body")[1]  # no inline or CDN script
    assert "cdn" not in html.lower()


def test_api_page_in_arabic(client):
    html = client.get(arabic("incidents:api-docs")).content.decode()
    assert 'dir="rtl"' in html and "واجهة JSON البرمجية" in html and "معاملات الاستعلام" in html


@pytest.mark.parametrize(
    "name, args, seen",
    [
        ("incidents:ogc-landing", [], "Conformance classes"),
        ("incidents:ogc-conformance", [], "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core</a>"),
        ("incidents:ogc-collections", [], "Spatial extent (west, south, east, north)"),
        ("incidents:ogc-collection", ["incidents"], "Browse the incidents"),
        ("incidents:ogc-openapi", [], "GET /collections/incidents/items"),
    ],
)
def test_ogc_html_pages_are_pages_not_json_dumps(client, name, args, seen):
    response = client.get(reverse(name, args=args), {"f": "html"})
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert seen in html
    assert "<pre>" not in html and '"links": [' not in html


def test_ogc_items_html_is_a_table_linking_each_incident(client):
    incident = IncidentFactory(published=True, title="Clash at the dam", fatalities_best=7)
    IncidentFactory(title="Draft never shown")
    html = client.get(reverse("incidents:ogc-items", args=["incidents"]), {"f": "html"}).content.decode()
    assert "<table>" in html and "Clash at the dam" in html and "Draft never shown" not in html
    assert f'href="{reverse("incidents:ogc-item", args=["incidents", incident.pk])}?f=html"' in html
    item = client.get(reverse("incidents:ogc-item", args=["incidents", incident.pk]), {"f": "html"}).content.decode()
    assert '<dt><code>fatalities_best</code></dt><dd dir="auto">7</dd>' in item


def test_demo_notice_says_demo_data_and_not_the_command(client):
    IncidentFactory(published=True, is_demo=True)
    html = client.get(reverse("incidents:home")).content.decode()
    assert "synthetic demo data" in html and "Do not cite them." in html
    assert "remove_demo" not in html


@pytest.mark.parametrize(
    "start, end, precision, label",
    [
        (datetime.date(2019, 4, 18), datetime.date(2019, 4, 20), DatePrecision.DAY, "18–20 Apr 2019"),
        (datetime.date(2024, 11, 7), datetime.date(2024, 11, 9), DatePrecision.WEEK, "around 7–9 Nov 2024"),
        (datetime.date(2024, 11, 7), None, DatePrecision.WEEK, "around 7 Nov 2024"),
        (datetime.date(2024, 11, 1), datetime.date(2024, 11, 30), DatePrecision.MONTH, "Nov 2024"),
    ],
)
def test_dates_read_naturally(start, end, precision, label):
    assert dates_label(start, end, precision) == label


def test_incident_page_adds_no_precision_note_to_an_exact_day(client):
    exact = IncidentFactory(published=True, start_date=datetime.date(2019, 4, 18), end_date=datetime.date(2019, 4, 20))
    weekly = IncidentFactory(published=True, date_precision=DatePrecision.WEEK)
    assert "(Exact day)" not in client.get(exact.get_absolute_url()).content.decode()
    assert "18–20 Apr 2019" in client.get(exact.get_absolute_url()).content.decode()
    assert "(date known to within a week)" in client.get(weekly.get_absolute_url()).content.decode()


def test_arabic_popup_joins_region_and_country_with_the_arabic_comma(client):
    incident = IncidentFactory(published=True, admin1="Kirkuk", country="IQ")
    assert client.get(reverse("incidents:detail-json", args=[incident.pk])).json()["region"] == "Kirkuk, Iraq"
    body = client.get(arabic("incidents:detail-json", incident.pk)).json()
    assert "، " in body["region"] and ", " not in body["region"]


def test_actors_read_in_arabic_on_arabic_pages_where_they_have_an_arabic_name(client):
    from incidents.models import Side
    from tests.factories import ActorFactory

    daesh = ActorFactory(name="Islamic State", aliases=["IS", "Daesh", "الدولة الإسلامية", "داعش"])
    local = ActorFactory(name="Testland Militia", aliases=["TLM"])
    incident = IncidentFactory(published=True, actors=[(daesh, Side.A), (local, Side.B)])
    english = [
        actor["name"] for actor in client.get(reverse("incidents:detail-json", args=[incident.pk])).json()["actors"]
    ]
    assert english == ["Islamic State", "Testland Militia"]
    arabic_popup = client.get(arabic("incidents:detail-json", incident.pk)).json()["actors"]
    assert [actor["name"] for actor in arabic_popup] == ["الدولة الإسلامية", "Testland Militia"]
    page = client.get(arabic("incidents:detail", incident.pk)).content.decode()
    assert "<bdi>الدولة الإسلامية</bdi>" in page and "<bdi>Testland Militia</bdi>" in page
