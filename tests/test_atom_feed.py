"""Atom feeds of the map's filters (/map/incidents.atom): valid Atom, the map's own filters, newest change first,
escaped text, drafts and retractions never, and linked from the map page."""

import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from incidents import services
from incidents.models import Incident

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
URL = "/map/incidents.atom"


def atom(client, query=""):
    response = client.get(f"{URL}?{query}" if query else URL)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.content)


def entry_titles(feed):
    return [entry.find(f"{ATOM}title").text for entry in feed.findall(f"{ATOM}entry")]


def test_the_feed_is_atom_with_what_rfc_4287_requires(client, export_incidents):
    feed = atom(client)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}").text
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == f"http://testserver{URL}"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry in entries:
        for required in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{required}").text, required
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href").startswith("http://testserver/incidents/")


def test_the_map_filters_choose_the_entries_and_drafts_never_appear(client, export_incidents):
    palmyra = export_incidents[1]
    assert sorted(entry_titles(atom(client))) == sorted(i.title for i in export_incidents)
    assert entry_titles(atom(client, "country=IQ")) == ["Protest in Mosul"]
    # Repeated and comma-separated values mean the same, as everywhere; the permalink's other keys are ignored.
    both = entry_titles(atom(client, "admin1=Aleppo&admin1=Nineveh&at=36.2/37.1/9&tl_from=2019-01-01"))
    assert both == entry_titles(atom(client, "admin1=Aleppo,Nineveh")) and len(both) == 2
    assert entry_titles(atom(client, "fatalities_min=3&event_type=battles")) == [palmyra.title]
    assert entry_titles(atom(client, "q=Draft")) == []
    assert "Retracted strike in Homs" not in entry_titles(atom(client, "admin1=Homs"))


def test_newest_change_first(client, export_incidents, publisher):
    mosul = export_incidents[2]
    mosul.description = "Corrected: a sit-in, no clashes."
    mosul.save()
    assert entry_titles(atom(client))[0] == mosul.title
    services.incident_retract(incident=mosul, reason="Wrong year.", user=publisher)
    draft = Incident.objects.get(title="Draft near Palmyra")
    draft.title = "Draft near Palmyra, edited"
    draft.save()
    assert mosul.title not in entry_titles(atom(client))
    assert draft.title not in entry_titles(atom(client))


def test_text_is_escaped(client, export_incidents):
    aleppo = export_incidents[0]
    aleppo.title = '<script>alert("x")</script> & co'
    aleppo.description = "<b>bold</b> claim"
    aleppo.save()
    response = client.get(URL)
    assert b"<script>" not in response.content and b"<b>" not in response.content
    entry = next(
        e for e in ET.fromstring(response.content).findall(f"{ATOM}entry") if "alert" in e.find(f"{ATOM}title").text
    )
    assert entry.find(f"{ATOM}title").text == '<script>alert("x")</script> & co'
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    # The summary is HTML, with the description's markup escaped in it: a reader shows the text, runs nothing.
    assert "&lt;b&gt;bold&lt;/b&gt; claim" in summary.text and "<b>" not in summary.text


def test_a_bad_filter_is_a_400_naming_it(client, db):
    response = client.get(f"{URL}?start=not-a-date&fatalities_min=-")
    assert response.status_code == 400
    assert {"start", "fatalities_min"} <= set(response.json()["errors"])


def test_the_map_page_links_the_feed_of_its_filters(client, export_incidents):
    page = client.get("/?country=SY&event_type=battles").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Atom feed of these incidents" '
        'href="/map/incidents.atom?country=SY&amp;event_type=battles">'
    ) in page
    assert 'id="atom-feed" href="/map/incidents.atom?country=SY&amp;event_type=battles"' in page
    with translation.override("ar"):
        arabic = client.get("/ar/?country=IQ")
    assert 'href="/ar/map/incidents.atom?country=IQ"' in arabic.content.decode()
    feed = atom(client, "country=IQ")
    assert entry_titles(feed) == ["Protest in Mosul"]
    assert entry_titles(ET.fromstring(client.get("/ar/map/incidents.atom?country=IQ").content)) == ["Protest in Mosul"]
