"""Sources and actors show on every incident that uses them: once a published or retracted incident uses one, only a
Publisher may change or delete it. Editors change the ones only drafts use, and add new ones."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from incidents import services
from incidents.models import Actor, Side, Source
from tests.factories import ActorFactory, IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db


def source_form(source, **overrides):
    return {
        "publisher": source.publisher,
        "title": source.title,
        "url": source.url,
        "published_on": "2019-04-20",
        "edit_version": source.version,
        **overrides,
    }


def actor_form(actor, **overrides):
    return {"name": actor.name, "aliases": "", "kind": actor.kind, "country": "", "description": "", **overrides}


@pytest.fixture
def cited_source(publisher):
    source = SourceFactory(url="https://www.dw.com/a-48413223")
    IncidentFactory(published=True, sources=[source])
    return source


def test_editor_cannot_point_a_published_incidents_source_elsewhere(client, editor, cited_source):
    client.force_login(editor)
    url = reverse("admin:incidents_source_change", args=[cited_source.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="url"' not in page.content.decode()  # shown read-only
    assert "only a Publisher may change it" in page.content.decode()
    response = client.post(url, source_form(cited_source, url="https://phishing.example/login"))
    assert response.status_code == 403
    cited_source.refresh_from_db()
    assert cited_source.url == "https://www.dw.com/a-48413223"
    popup = client.get(reverse("incidents:detail", args=[cited_source.incidents.get().pk])).content.decode()
    assert "phishing.example" not in popup


def test_a_retracted_incidents_source_is_read_only_too(client, editor, publisher, cited_source):
    services.incident_retract(incident=cited_source.incidents.get(), reason="Wrong date", user=publisher)
    client.force_login(editor)
    url = reverse("admin:incidents_source_change", args=[cited_source.pk])
    assert client.post(url, source_form(cited_source, title="Changed")).status_code == 403


def test_editor_changes_a_source_only_drafts_cite(client, editor):
    source = SourceFactory()
    IncidentFactory(sources=[source])
    client.force_login(editor)
    url = reverse("admin:incidents_source_change", args=[source.pk])
    response = client.post(url, source_form(source, title="Corrected headline"))
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.title == "Corrected headline"


def test_publisher_changes_a_source_in_public_use(client, publisher, cited_source):
    client.force_login(publisher)
    url = reverse("admin:incidents_source_change", args=[cited_source.pk])
    assert client.post(url, source_form(cited_source, title="Corrected headline")).status_code == 302
    cited_source.refresh_from_db()
    assert cited_source.title == "Corrected headline"


def test_nobody_deletes_a_source_in_public_use(client, superuser, editor, cited_source):
    for user in [editor, superuser]:
        client.force_login(user)
        url = reverse("admin:incidents_source_delete", args=[cited_source.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert Source.objects.filter(pk=cited_source.pk).exists()


def test_editor_cannot_change_a_published_incidents_actor_through_the_popup(client, editor):
    actor = ActorFactory(name="Islamic State")
    IncidentFactory(published=True, actors=[(actor, Side.A)])
    client.force_login(editor)
    url = reverse("admin:incidents_actor_change", args=[actor.pk]) + "?_to_field=id&_popup=1"
    response = client.post(url, actor_form(actor, name="Freedom fighters", edit_version=actor.version))
    assert response.status_code == 403
    actor.refresh_from_db()
    assert actor.name == "Islamic State"


def test_editor_adds_an_actor_from_the_incident_forms_popup_and_keeps_it_until_published(client, editor, publisher):
    client.force_login(editor)
    add = reverse("admin:incidents_actor_add") + "?_to_field=id&_popup=1"
    response = client.post(add, actor_form(Actor(name="Liwa al-Quds", kind="political_militia"), _popup="1"))
    assert response.status_code == 200
    assert "popup_response" in response.content.decode()
    actor = Actor.objects.get(name="Liwa al-Quds")

    incident = IncidentFactory(actors=[(actor, Side.B)], sources=[SourceFactory()])
    change = reverse("admin:incidents_actor_change", args=[actor.pk])
    assert client.post(change, actor_form(actor, description="Palestinian militia", edit_version=1)).status_code == 302
    actor.refresh_from_db()
    assert actor.description == "Palestinian militia"

    services.incident_publish(incident=incident, user=publisher)
    response = client.post(change, actor_form(actor, description="Changed", edit_version=actor.version))
    assert response.status_code == 403
    actor.refresh_from_db()
    assert actor.description == "Palestinian militia"


def test_the_save_service_rechecks_public_use(editor, publisher):
    """An incident published between opening the form and saving it still protects its source."""
    source = SourceFactory()
    incident = IncidentFactory(sources=[source])
    source.title = "Edited while the incident was published"
    services.incident_publish(incident=incident, user=publisher)
    with pytest.raises(PermissionDenied):
        services.shared_record_save(record=source, user=editor)
    assert Source.objects.get(pk=source.pk).title != "Edited while the incident was published"


def test_editor_cannot_revert_a_source_in_public_use(client, editor, cited_source, publisher):
    cited_source.title = "Second title"
    cited_source.save()
    client.force_login(editor)
    first = cited_source.history.order_by("history_date").first()
    url = reverse("admin:incidents_source_simple_history", args=[cited_source.pk, first.history_id])
    assert client.post(url, source_form(cited_source)).status_code == 403
    cited_source.refresh_from_db()
    assert cited_source.title == "Second title"
