"""Incident text in English and Arabic: every public output carries both, pages show the reader's language (or the
other, marked), the admin edits and searches both, and the report assistant writes in the report's language."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation

from incidents.models import ContentLanguage, Incident, ShownText, Status
from places.models import Place
from tests.factories import ActorFactory, IncidentFactory

pytestmark = pytest.mark.django_db

MAARAT_AR = "قصف مدفعي على معرة النعمان"
DRAFT_AR = "مسودة لا يراها أحد"
ARABIC_ONLY = "غارة جوية على سراقب"


@pytest.fixture
def bilingual():
    """One incident in both languages (coded to a gazetteer place with an Arabic name), one in English only, one
    written in Arabic only, and a draft with an Arabic title."""
    maarat = Place.objects.create(
        name="Maarat al-Numan",
        alternate_names=["Ma'arrat an Nu'man", "مەعەڕە", "معرة النعمان"],
        point=Point(36.68, 35.64, srid=4326),
        admin1="Idlib",
        country="SY",
    )
    both = IncidentFactory(
        published=True,
        title="Shelling of Maarat al-Numan",
        title_ar=MAARAT_AR,
        description="Artillery hit the market.",
        description_ar="أصابت المدفعية السوق.",
        place=maarat,
        place_name="Maarat al-Numan",
        place_reported="Maarat al-Numan",
        admin1="Idlib",
        actors=[(ActorFactory(name="Syrian Arab Army", aliases=["SAA", "الجيش العربي السوري"]), "a")],
    )
    english = IncidentFactory(published=True, title="Airstrike on Khan Shaykhun", description="Jets struck.")
    arabic = IncidentFactory(
        published=True, title="", title_ar=ARABIC_ONLY, description_ar="قصفت طائرات البلدة.", original_language="ar"
    )
    draft = IncidentFactory(title="Unpublished draft", title_ar=DRAFT_AR)
    return {"both": both, "english": english, "arabic": arabic, "draft": draft}


def test_shown_text_prefers_the_readers_language_and_marks_the_other():
    assert ShownText.of(english="Clash", arabic="اشتباك", language="ar") == ShownText("اشتباك", "ar", "")
    assert ShownText.of(english="Clash", arabic="اشتباك", language="en") == ShownText("Clash", "en", "")
    with translation.override("ar"):
        assert ShownText.of(english="Clash", arabic="") == ShownText("Clash", "en", "الأصل بالإنجليزية")
    with translation.override("en"):
        assert ShownText.of(english="", arabic="اشتباك") == ShownText("اشتباك", "ar", "Arabic original")
    assert ShownText.of(english="", arabic="", language="ar") == ShownText("", "ar", "")


def test_the_geojson_feature_carries_both_languages_and_the_original(client, bilingual):
    body = json.loads(b"".join(client.get(reverse("incidents:api-geojson")).streaming_content))
    features = {feature["id"]: feature["properties"] for feature in body["features"]}
    both = features[bilingual["both"].pk]
    assert (both["title"], both["title_ar"]) == ("Shelling of Maarat al-Numan", MAARAT_AR)
    assert (both["description"], both["description_ar"]) == ("Artillery hit the market.", "أصابت المدفعية السوق.")
    assert both["original_language"] == "en"
    assert both["actors"][0]["name"] == "Syrian Arab Army"
    assert both["actors"][0]["name_ar"] == "الجيش العربي السوري"
    arabic = features[bilingual["arabic"].pk]
    assert (arabic["title"], arabic["title_ar"], arabic["original_language"]) == ("", ARABIC_ONLY, "ar")
    english = features[bilingual["english"].pk]
    assert (english["title_ar"], english["description_ar"]) == ("", "")
    assert bilingual["draft"].pk not in features
    assert DRAFT_AR not in json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_csv_has_the_arabic_columns_whatever_the_readers_language(client, bilingual, language):
    response = client.get(reverse("incidents:api-csv"), headers={"accept-language": language})
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(text, newline=""))}
    both = rows[bilingual["both"].pk]
    assert (both["title"], both["title_ar"], both["notes"], both["notes_ar"], both["original_language"]) == (
        "Shelling of Maarat al-Numan",
        MAARAT_AR,
        "Artillery hit the market.",
        "أصابت المدفعية السوق.",
        "en",
    )
    arabic = rows[bilingual["arabic"].pk]
    assert (arabic["title"], arabic["title_ar"], arabic["original_language"]) == ("", ARABIC_ONLY, "ar")
    assert bilingual["draft"].pk not in rows and DRAFT_AR not in text


def test_the_popup_json_follows_the_page_language(client, bilingual):
    both, english, arabic = bilingual["both"], bilingual["english"], bilingual["arabic"]
    popup = client.get(f"/ar/incidents/{both.pk}.json").json()
    assert (popup["title"], popup["title_lang"], popup["title_mark"]) == (MAARAT_AR, "ar", "")
    assert popup["place"] == "معرة النعمان"  # the gazetteer's Arabic name, not the Kurdish spelling before it
    assert popup["actors"][0]["name"] == "الجيش العربي السوري"
    assert "،" in popup["region"] and "," not in popup["region"]
    popup = client.get(f"/incidents/{both.pk}.json").json()
    assert (popup["title"], popup["place"], popup["region"]) == (
        "Shelling of Maarat al-Numan",
        "Maarat al-Numan",
        "Idlib, Syria",
    )
    popup = client.get(f"/ar/incidents/{english.pk}.json").json()
    assert (popup["title"], popup["title_lang"], popup["title_mark"]) == (english.title, "en", "الأصل بالإنجليزية")
    popup = client.get(f"/incidents/{arabic.pk}.json").json()
    assert (popup["title"], popup["title_lang"], popup["title_mark"]) == (ARABIC_ONLY, "ar", "Arabic original")
    assert client.get(f"/ar/incidents/{bilingual['draft'].pk}.json").status_code == 404


def test_the_incident_page_shows_the_readers_language(client, bilingual):
    both, english = bilingual["both"], bilingual["english"]
    page = client.get(f"/ar/incidents/{both.pk}/").content.decode()
    assert f'<h1 lang="ar" dir="auto">{MAARAT_AR}</h1>' in page
    assert "أصابت المدفعية السوق." in page and "Artillery hit the market." not in page
    assert f'<meta property="og:title" content="{MAARAT_AR}">' in page
    page = client.get(f"/incidents/{both.pk}/").content.decode()
    assert '<h1 lang="en" dir="auto">Shelling of Maarat al-Numan</h1>' in page and MAARAT_AR not in page
    page = client.get(f"/ar/incidents/{english.pk}/").content.decode()
    assert '<h1 lang="en" dir="auto">Airstrike on Khan Shaykhun</h1>' in page
    assert '<p class="original-mark muted">الأصل بالإنجليزية</p>' in page


def test_the_list_shows_arabic_titles_and_places_on_arabic_pages(client, bilingual):
    query = "?bbox=30,30,45,40&zoom=6"
    rows = {row["id"]: row for row in client.get("/ar/map/list.json" + query).json()["incidents"]}
    assert (rows[bilingual["both"].pk]["title"], rows[bilingual["both"].pk]["place"]) == (MAARAT_AR, "معرة النعمان")
    assert rows[bilingual["english"].pk]["title_mark"] == "الأصل بالإنجليزية"
    assert bilingual["draft"].pk not in rows
    rows = {row["id"]: row for row in client.get("/map/list.json" + query).json()["incidents"]}
    assert rows[bilingual["both"].pk]["title"] == "Shelling of Maarat al-Numan"
    assert rows[bilingual["arabic"].pk]["title_mark"] == "Arabic original"


def test_the_ogc_items_page_shows_an_arabic_only_title_marked(client, bilingual):
    page = client.get(reverse("incidents:ogc-items", args=["incidents"]) + "?f=html").content.decode()
    assert f'<td lang="ar" dir="auto">{ARABIC_ONLY} <small lang="en">(Arabic original)</small></td>' in page
    assert DRAFT_AR not in page


# --- the admin ------------------------------------------------------------------------------------------------------

ADD_URL = reverse("admin:incidents_incident_add")


def test_the_admin_form_shows_both_languages_side_by_side_each_in_its_direction(client, editor):
    client.force_login(editor)
    for prefix in ("", "/ar"):
        page = client.get(prefix + ADD_URL).content.decode()
        # One row of the form holds both titles, another both descriptions: English, then Arabic beside it.
        titles = page.split('class="form-row field-title field-title_ar"')[1].split('class="form-row')[0]
        descriptions = page.split('class="form-row field-description field-description_ar"')[1].split(
            'class="form-row'
        )[0]
        assert re.search(r'<input[^>]*name="title"[^>]*>', titles)
        arabic_title = re.search(r'<input[^>]*name="title_ar"[^>]*>', titles).group()
        assert 'lang="ar"' in arabic_title and 'dir="rtl"' in arabic_title
        english_title = re.search(r'<input[^>]*name="title"[^>]*>', titles).group()
        assert 'lang="en"' in english_title and 'dir="ltr"' in english_title
        arabic_description = re.search(r'<textarea[^>]*name="description_ar"[^>]*>', descriptions).group()
        assert 'lang="ar"' in arabic_description and 'dir="rtl"' in arabic_description


def test_the_admin_search_finds_either_language(client, editor, bilingual):
    client.force_login(editor)
    changelist = reverse("admin:incidents_incident_changelist")
    found = client.get(changelist, {"q": "معرة"}).context["cl"].result_list
    assert list(found) == [bilingual["both"]]
    found = client.get(changelist, {"q": "سراقب"}).context["cl"].result_list
    assert list(found) == [bilingual["arabic"]]
    found = client.get(changelist, {"q": "Khan Shaykhun"}).context["cl"].result_list
    assert list(found) == [bilingual["english"]]


def test_an_arabic_original_needs_its_arabic_title(client, editor):
    incident = IncidentFactory(title="Clash", original_language=ContentLanguage.ENGLISH)
    client.force_login(editor)
    from tests.test_admin import incident_form

    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    refused = client.post(url, incident_form(title="Clash", title_ar="", original_language="ar", edit_version=1))
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["title_ar"] == [
        "Give the incident a title in its original language."
    ]
    saved = client.post(url, incident_form(title="", title_ar="اشتباك", original_language="ar", edit_version=1))
    assert saved.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.title_ar, incident.original_language, str(incident)) == (
        "",
        "اشتباك",
        "ar",
        "اشتباك",
    )


def test_the_database_refuses_an_original_without_its_title(bilingual):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=bilingual["arabic"].pk).update(title_ar="")


# --- the report assistant -----------------------------------------------------------------------------------------

REPORTS = Path(__file__).parent / "data" / "reports"
REPORT_URL = reverse("admin:incidents_incident_from_report")


@pytest.mark.usefixtures("gazetteer", "seed_actors")
@pytest.mark.parametrize(
    ("report", "language", "title_field", "empty_field"),
    [("ar_01_palmyra.txt", "ar", "title_ar", "title"), ("en_01_idlib_shelling.txt", "en", "title", "title_ar")],
)
def test_the_assistant_writes_in_the_reports_language(client, editor, report, language, title_field, empty_field):
    client.force_login(editor)
    text = (REPORTS / report).read_text(encoding="utf-8")
    response = client.post(
        REPORT_URL, {"step": "read", "text": text, "publisher": "Test", "url": "", "published_on": "2019-04-20"}
    )
    forms = response.context["formset"].forms
    assert forms
    for form in forms:
        assert form.initial["original_language"] == language
        assert form.initial[title_field]
        assert not form.initial.get(empty_field)
    if language == "ar":
        assert forms[0].initial["title_ar"] == "اشتباك مسلح قرب تدمر: الدولة الإسلامية – الجيش العربي السوري"
    from tests.test_admin_report import create_data

    data = create_data(response, keep={0})
    client.post(REPORT_URL, data)
    created = Incident.objects.get(status=Status.DRAFT)
    assert created.original_language == language
    assert getattr(created, title_field) == forms[0].initial[title_field]
    assert getattr(created, empty_field) == ""


def test_a_place_coded_by_name_only_is_shown_by_its_arabic_name(client, bilingual):
    """Imports and seeds name the place without linking the gazetteer row: the place of that name in that country
    and region gives the Arabic name; a name the gazetteer does not have stays as written."""
    by_name = IncidentFactory(
        published=True, place_name="Maarat al-Numan", place_reported="Maarat al-Numan", admin1="Idlib"
    )
    unknown = IncidentFactory(published=True, place_name="Nowhere Farm", place_reported="Nowhere Farm")
    rows = {row["id"]: row for row in client.get("/ar/map/list.json?bbox=30,30,45,40&zoom=6").json()["incidents"]}
    assert rows[by_name.pk]["place"] == "معرة النعمان"
    assert rows[unknown.pk]["place"] == "Nowhere Farm"
    assert client.get(f"/ar/incidents/{by_name.pk}.json").json()["place"] == "معرة النعمان"
    assert client.get(f"/incidents/{by_name.pk}.json").json()["place"] == "Maarat al-Numan"
