"""The admin's "New incidents from a report": review with evidence, drafts through services, refusals."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents.admin_report import CandidateFormSet
from incidents.models import Incident, IncidentActor, IncidentSource, Source, Status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gazetteer", "seed_actors")]

# Our own text carrying the facts of DW's report of 20 April 2019 (tests/data/README.md).
SEED_TEXT = (Path(__file__).parent / "data" / "seed_report_rewritten.txt").read_text(encoding="utf-8")
URL = reverse("admin:incidents_incident_from_report")
DW = "https://www.dw.com/en/islamic-state-kills-35-syrian-fighters-in-comeback-attack/a-48412337"


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def read(client, text="", **fields):
    data = {"step": "read", "text": text, "publisher": "DW", "url": DW, "published_on": "2019-04-20", **fields}
    return client.post(URL, data)


def create_data(response, keep):
    """The review page's form as the browser would post it, with only the candidates in `keep` ticked."""
    formset = response.context["formset"]
    source = response.context["source_form"]
    data = {"step": "create", **{name: source.initial.get(name, "") for name in source.fields}}
    data["candidate-TOTAL_FORMS"] = str(len(formset.forms))
    data["candidate-INITIAL_FORMS"] = str(len(formset.forms))
    for number, form in enumerate(formset.forms):
        for name in form.fields:
            value = form.initial.get(name)
            if name == "keep":
                if number in keep:
                    data[f"candidate-{number}-keep"] = "on"
                continue
            if isinstance(value, list):
                data[f"candidate-{number}-{name}"] = [str(item) for item in value]
            elif value is not None:
                data[f"candidate-{number}-{name}"] = str(value)
    return data


def test_the_changelist_links_to_the_assistant_for_editors(editor_client):
    page = editor_client.get(reverse("admin:incidents_incident_changelist")).content.decode()
    assert f'href="{URL}"' in page and "New incidents from a report" in page


def test_people_without_the_add_permission_are_refused(client, django_user_model):
    assert client.get(URL).status_code == 302  # to the sign-in page
    client.force_login(django_user_model.objects.create_user("reader", password="x", is_staff=True))
    assert client.get(URL).status_code == 403


def test_the_seed_report_gives_four_candidates_with_highlighted_evidence(editor_client):
    response = read(editor_client, SEED_TEXT)
    assert response.status_code == 200
    forms = response.context["formset"].forms
    assert [form.initial["place_reported"] for form in forms] == [
        "north of the town of Palmyra",
        "Deir Ezzor province",
        "Aleppo",
        "Damascus",
    ]
    page = response.content.decode()
    assert '<mark title="fatalities">at least 35</mark>' in page
    assert '<mark title="place">Palmyra</mark>' in page
    assert forms[0].initial["fatalities_low"] == 35 and forms[0].initial["start_date"].isoformat() == "2019-04-18"
    assert (
        response.context["source_form"].initial["title"]
        == "Deadliest IS strike on Syria's army since the fall of its 'caliphate'"
    )


def test_text_shown_back_is_escaped(editor_client):
    response = read(
        editor_client, "Gunmen <img src=x onerror=alert(1)> attacked regime forces in Homs on Thursday, killing seven."
    )
    page = response.content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_ticked_candidates_become_drafts_citing_the_report_and_nothing_is_published(editor_client, editor):
    published_before = Incident.objects.published().count()
    response = read(editor_client, SEED_TEXT)
    created = editor_client.post(URL, create_data(response, keep={0, 2}))
    assert created.status_code == 302 and created["Location"].endswith("?status=draft")
    drafts = Incident.objects.filter(created_by=editor).order_by("start_date")
    assert [(incident.place_reported, incident.status) for incident in drafts] == [
        ("north of the town of Palmyra", Status.DRAFT),
        ("Aleppo", Status.DRAFT),
    ]
    palmyra = drafts[0]
    assert (palmyra.fatalities_low, palmyra.fatalities_best, palmyra.fatalities_high) == (35, 35, None)
    assert palmyra.location_precision == 2 and palmyra.admin1 == "Homs"
    assert {(role.actor.name, role.side) for role in IncidentActor.objects.filter(incident=palmyra)} == {
        ("Islamic State", "a"),
        ("Syrian Arab Army", "b"),
        ("Pro-government militias (Syria)", "b"),
    }
    source = IncidentSource.objects.get(incident=palmyra).source
    assert (source.publisher, source.url, source.published_on.isoformat()) == ("DW", DW, "2019-04-20")
    assert IncidentSource.objects.filter(source=source).count() == 2
    assert palmyra.history.count() == 1 and palmyra.history.first().history_user == editor
    assert Incident.objects.published().count() == published_before


def test_the_same_report_twice_is_refused(editor_client):
    response = read(editor_client, SEED_TEXT)
    editor_client.post(URL, create_data(response, keep={0}))
    count, sources = Incident.objects.count(), Source.objects.count()
    # Same URL: refused at once.
    again = read(editor_client, SEED_TEXT)
    assert "already created" in again.content.decode()
    # Same text under another URL: refused too.
    other_url = read(editor_client, SEED_TEXT.replace("\n", "\n\n"), url="https://example.org/copy")
    assert "already created" in other_url.content.decode()
    # Same text uploaded as a file: refused, and only that is said.
    upload = SimpleUploadedFile("report.txt", SEED_TEXT.encode(), "text/plain")
    uploaded = editor_client.post(
        URL, {"step": "read", "publisher": "DW", "published_on": "2019-04-20", "file": upload}
    ).content.decode()
    assert "already created" in uploaded and "The report is empty" not in uploaded
    # And a second submission of the first review page (a double click) creates nothing.
    twice = editor_client.post(URL, create_data(response, keep={1}), follow=True)
    assert "already created" in twice.content.decode()
    assert (Incident.objects.count(), Source.objects.count()) == (count, sources)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("big.txt", b"IS attacked. " * 400_000, "text/plain"), "at most 1,000,000 bytes"),
        (SimpleUploadedFile("junk.txt", bytes(range(256)) * 64, "text/plain"), "not text"),
        (SimpleUploadedFile("latin1.txt", "Homs é".encode("latin-1") * 10, "text/plain"), "not UTF-8"),
        (SimpleUploadedFile("report.pdf", b"%PDF-1.4", "application/pdf"), ".txt or .html"),
    ],
)
def test_bad_files_get_a_clear_message_and_nothing_is_created(editor_client, upload, message):
    count = Incident.objects.count()
    response = editor_client.post(
        URL, {"step": "read", "publisher": "DW", "published_on": "2019-04-20", "file": upload}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Incident.objects.count() == count and not Source.objects.filter(publisher="DW").exists()


def test_empty_text_and_missing_date_get_messages(editor_client):
    assert "The report is empty" in read(editor_client, "   ").content.decode()
    page = read(editor_client, "IS attacked regime forces in Homs on Thursday.", published_on="").content.decode()
    assert "give its publication date" in page


def test_a_dateline_prefills_the_publication_date(editor_client):
    response = read(
        editor_client,
        "DAMASCUS, April 20, 2019 (AFP) - IS attacked regime forces in Homs on Thursday.",
        published_on="",
    )
    assert response.context["source_form"].initial["published_on"].isoformat() == "2019-04-20"
    assert response.context["formset"].forms[0].initial["start_date"].isoformat() == "2019-04-18"
    assert "taken from the report" in response.content.decode()


def test_html_upload_is_reduced_and_its_scripts_dropped(editor_client):
    html = (
        b"<html><head><script>alert('x')</script></head><body><nav>Menu</nav><article>"
        b"<p>IS attacked regime forces in Homs on Thursday, killing seven soldiers.</p>"
        b"<script>steal()</script></article></body></html>"
    )
    response = editor_client.post(
        URL,
        {"step": "read", "publisher": "DW", "published_on": "2019-04-20", "file": SimpleUploadedFile("a.html", html)},
    )
    page = response.content.decode()
    assert "script(s) in the HTML were dropped" in page
    assert "steal()" not in page and "alert(&#x27;x&#x27;)" not in page and "Menu" not in page
    assert response.context["formset"].forms[0].initial["fatalities_best"] == 7


def test_a_ticked_candidate_without_a_date_is_an_error_and_nothing_is_created(editor_client):
    response = read(editor_client, "Regime forces shelled Saraqib, killing two civilians.", url="https://example.org/x")
    data = create_data(response, keep={0})
    data["candidate-0-start_date"] = ""  # the editor cleared the proposed date
    count = Incident.objects.count()
    again = editor_client.post(URL, data)
    assert again.status_code == 200
    assert "Give the start date" in again.content.decode()
    assert Incident.objects.count() == count and not Source.objects.filter(url="https://example.org/x").exists()
    # The evidence is still shown beside the form.
    assert re.search(r"<mark[^>]*>Saraqib</mark>", again.content.decode())


def test_nothing_ticked_is_a_message(editor_client):
    response = read(editor_client, SEED_TEXT)
    page = editor_client.post(URL, create_data(response, keep=set()), follow=True).content.decode()
    assert "Tick at least one candidate" in page
    assert not Source.objects.filter(url=DW).exists()


def test_five_megabytes_of_pasted_text_get_the_forms_message_and_nothing_is_created(editor_client):
    count = Incident.objects.count()
    response = read(editor_client, "IS attacked regime forces in Homs on Thursday. " * 110_000)
    assert response.status_code == 200
    assert "a report may have at most 200,000" in response.content.decode()
    assert Incident.objects.count() == count


def test_as_many_candidates_as_the_page_shows_are_created(editor_client, editor):
    # The seed report 26 times over gives 104 candidates: the page shows the 100 the create step accepts, and says so;
    # posting them all (some 2,300 fields, past Django's default limit of 1,000) creates them all.
    response = read(editor_client, "\n\n".join([SEED_TEXT] * 26))
    most = CandidateFormSet.max_num
    assert len(response.context["formset"].forms) == most
    assert f"The report gave 104 candidates; the first {most} are shown." in response.content.decode()
    created = editor_client.post(URL, create_data(response, keep=set(range(most))))
    assert created.status_code == 302, created.content[:500]
    assert Incident.objects.filter(created_by=editor).count() == most


def test_a_place_that_is_not_in_the_gazetteer_is_a_form_error(editor_client, editor):
    data = create_data(read(editor_client, SEED_TEXT), keep={0})
    data["candidate-0-place_id"] = "987654321"
    response = editor_client.post(URL, data)
    assert response.status_code == 200
    assert "This place is not in the gazetteer (any more): search for it again." in response.content.decode()
    assert not Incident.objects.filter(created_by=editor).exists()


def test_a_report_without_a_headline_gets_its_first_sentence_as_title_without_the_dateline(editor_client):
    response = read(
        editor_client,
        "BEIRUT, April 18 (Reuters) - Turkish drones struck SDF positions near Tal Tamr, killing four fighters, "
        "the monitor said.\nThe SDF said it would respond.",
    )
    assert response.context["source_form"].initial["title"] == (
        "Turkish drones struck SDF positions near Tal Tamr, killing four fighters"
    )


def test_an_undated_incident_says_where_its_date_came_from_and_the_actor_pickers_say_how_to_use_them(editor_client):
    response = read(editor_client, "Regime forces shelled Saraqib, killing seven civilians.")
    [form] = response.context["formset"].forms
    assert form.initial["date_precision"] == 2
    assert (form.initial["start_date"].isoformat(), form.initial["end_date"].isoformat()) == (
        "2019-04-14",
        "2019-04-20",
    )
    page = response.content.decode()
    assert "The report does not say when: proposed as within the week up to 2019-04-20" in page
    assert "Hold Ctrl (⌘ on a Mac) and click to choose several" in page
    civilians = form.fields["actors_b"].queryset.get(name="Civilians (Syria)")
    assert form.initial["actors_b"] == [civilians.pk]
