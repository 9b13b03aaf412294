"""Two people editing the same record: the second save is refused with what the first one changed, never a silent
overwrite (optimistic locking on incidents, sources and actors)."""

import re

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import EditConflict, Incident
from tests.factories import ActorFactory, IncidentFactory, SourceFactory, UserFactory
from tests.test_admin import incident_form
from tests.test_editorial_routes import CHANGELIST

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_editor(db):
    return UserFactory(username="amal", group="Editors")


def opened_version(client, url):
    """The edit version the change page hands the browser (a hidden input), as an editor opening it would get it."""
    page = client.get(url).content.decode()
    found = re.search(r'<input type="hidden" name="edit_version" value="(\d+)"', page)
    assert found, "the change form carries no edit version"
    return int(found.group(1))


def test_second_editor_is_told_what_the_first_changed(client, editor, second_editor):
    incident = IncidentFactory(title="Clash north of Palmyra", fatalities_best=35)
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    client.force_login(editor)
    first_opened = opened_version(client, url)
    client.force_login(second_editor)
    second_opened = opened_version(client, url)
    assert first_opened == second_opened == 1

    client.force_login(editor)
    saved = client.post(url, incident_form(title="IS assault north of Palmyra", edit_version=first_opened))
    assert saved.status_code == 302

    client.force_login(second_editor)
    refused = client.post(url, incident_form(fatalities_best="40", edit_version=second_opened))
    assert refused.status_code == 200
    errors = " ".join(refused.context["adminform"].form.non_field_errors())
    assert "ed saved this incident while you were editing it." in errors
    assert "title (English): “IS assault north of Palmyra”" in errors
    assert "Your edits were not saved" in errors
    assert (
        "title (English): “IS assault north of Palmyra”" in refused.content.decode()
    )  # shown on the page, not only kept
    incident.refresh_from_db()
    assert (incident.title, incident.fatalities_best, incident.version) == ("IS assault north of Palmyra", 35, 2)


def test_a_form_without_the_edit_version_is_refused(client, editor):
    incident = IncidentFactory(title="Clash north of Palmyra")
    client.force_login(editor)
    response = client.post(reverse("admin:incidents_incident_change", args=[incident.pk]), incident_form())
    assert response.status_code == 200
    assert "reload the page" in " ".join(response.context["adminform"].form.non_field_errors())
    incident.refresh_from_db()
    assert incident.title == "Clash north of Palmyra"


def test_bulk_publish_moves_the_version_on_so_an_open_form_goes_stale(client, editor, publisher):
    incident = IncidentFactory(title="Clash north of Palmyra", sources=[SourceFactory()])
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    client.force_login(publisher)
    opened = opened_version(client, url)
    client.post(CHANGELIST, {"action": "publish", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.version == opened + 1
    response = client.post(url, incident_form(title="Retitled", edit_version=opened))
    assert response.status_code == 200
    assert "status: “Published”" in " ".join(response.context["adminform"].form.non_field_errors())
    incident.refresh_from_db()
    assert incident.title == "Clash north of Palmyra"


def test_retract_action_moves_the_version_on(client, publisher):
    incident = IncidentFactory(published=True)
    before = incident.version
    client.force_login(publisher)
    client.post(
        CHANGELIST, {"action": "retract", "_selected_action": [incident.pk], "apply": "1", "reason": "Duplicate"}
    )
    incident.refresh_from_db()
    assert incident.version == before + 1


def test_second_source_editor_is_refused(client, editor, second_editor):
    source = SourceFactory(title="IS kills 35 Syrian soldiers")
    url = reverse("admin:incidents_source_change", args=[source.pk])
    client.force_login(editor)
    opened = opened_version(client, url)
    data = {"publisher": source.publisher, "url": source.url, "published_on": "2019-04-20", "edit_version": opened}
    assert client.post(url, {**data, "title": "IS kills 35 soldiers in Palmyra"}).status_code == 302
    client.force_login(second_editor)
    refused = client.post(url, {**data, "title": "Something else"})
    assert refused.status_code == 200
    assert "title: “IS kills 35 soldiers in Palmyra”" in " ".join(refused.context["adminform"].form.non_field_errors())
    source.refresh_from_db()
    assert source.title == "IS kills 35 soldiers in Palmyra"


def test_second_actor_editor_is_refused(client, editor, second_editor):
    actor = ActorFactory(name="Islamic State")
    url = reverse("admin:incidents_actor_change", args=[actor.pk])
    client.force_login(editor)
    opened = opened_version(client, url)
    data = {"name": "Islamic State", "kind": actor.kind, "country": "", "edit_version": opened}
    assert client.post(url, {**data, "aliases": "IS,Daesh", "description": ""}).status_code == 302
    client.force_login(second_editor)
    refused = client.post(url, {**data, "aliases": "", "description": "Jihadist group"})
    assert refused.status_code == 200
    assert "aliases: “IS, Daesh”" in " ".join(refused.context["adminform"].form.non_field_errors())
    actor.refresh_from_db()
    assert (actor.aliases, actor.description) == (["IS", "Daesh"], "")


def test_a_stale_copy_cannot_be_saved_from_code_either(publisher):
    incident = IncidentFactory(title="Original")
    first, second = Incident.objects.get(pk=incident.pk), Incident.objects.get(pk=incident.pk)
    first.title = "First"
    first.save()
    second.title = "Second"
    with pytest.raises(EditConflict):
        second.save()
    assert Incident.objects.get(pk=incident.pk).title == "First"
    services.incident_unpublish(incident=first, user=publisher)  # services reload, so never stale
    assert Incident.objects.get(pk=incident.pk).version == 3
