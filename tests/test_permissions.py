import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from incidents import services
from incidents.models import Incident, Status
from tests.factories import IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:incidents_incident_changelist")


def action(client, name, *incidents, **extra):
    return client.post(
        CHANGELIST, {"action": name, "_selected_action": [incident.pk for incident in incidents], **extra}
    )


def test_anonymous_visitors_are_sent_to_sign_in(client):
    incident = IncidentFactory()
    for url in [CHANGELIST, reverse("admin:incidents_incident_change", args=[incident.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]
    assert action(client, "publish", incident).status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT


def test_editors_see_no_publish_or_retract_actions(client, editor):
    client.force_login(editor)
    incident = IncidentFactory()
    page = client.get(CHANGELIST).content.decode()
    assert incident.title in page
    for label in ["Publish selected", "Unpublish selected", "Retract selected"]:
        assert label not in page


def test_editors_cannot_publish_even_by_posting_the_action(client, editor):
    client.force_login(editor)
    incident = IncidentFactory(sources=[SourceFactory()])
    action(client, "publish", incident)
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT


def test_editors_edit_drafts_but_not_published_incidents(client, editor):
    client.force_login(editor)
    draft = IncidentFactory()
    published = IncidentFactory(published=True)
    draft_page = client.get(reverse("admin:incidents_incident_change", args=[draft.pk])).content.decode()
    assert 'name="title"' in draft_page
    published_page = client.get(reverse("admin:incidents_incident_change", args=[published.pk]))
    assert published_page.status_code == 200
    assert 'name="title"' not in published_page.content.decode()  # read-only view
    response = client.post(reverse("admin:incidents_incident_change", args=[published.pk]), {"title": "Hijacked"})
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.title != "Hijacked"


def test_editors_cannot_delete_incidents(client, editor):
    client.force_login(editor)
    incident = IncidentFactory()
    assert client.get(reverse("admin:incidents_incident_delete", args=[incident.pk])).status_code == 403


def test_publishers_publish_unpublish_and_retract(client, publisher):
    client.force_login(publisher)
    incident = IncidentFactory(sources=[SourceFactory()])
    page = client.get(CHANGELIST).content.decode()
    for label in ["Publish selected", "Unpublish selected", "Retract selected"]:
        assert label in page
    action(client, "publish", incident)
    incident.refresh_from_db()
    assert incident.status == Status.PUBLISHED
    assert incident.published_at is not None
    assert incident.updated_by == publisher

    action(client, "unpublish", incident)
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT

    confirm = action(client, "retract", incident)
    assert confirm.status_code == 200
    assert "Reason for retraction" in confirm.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT  # nothing happens until a reason is given

    action(client, "retract", incident, apply="1", reason="Duplicate of an earlier report")
    incident.refresh_from_db()
    assert incident.status == Status.RETRACTED
    assert incident.retraction_reason == "Duplicate of an earlier report"
    assert [h.status for h in incident.history.all()[:3]] == ["retracted", "draft", "published"]


def test_publishing_without_source_or_location_is_refused_with_a_reason(client, publisher):
    client.force_login(publisher)
    incident = IncidentFactory(location=None)
    response = action(client, "publish", incident)
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any("it has no location and it cites no source" in message for message in messages), messages
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT


def test_services_check_permissions(editor, publisher):
    incident = IncidentFactory(sources=[SourceFactory()])
    with pytest.raises(PermissionDenied):
        services.incident_publish(incident=incident, user=editor)
    services.incident_publish(incident=incident, user=publisher)
    with pytest.raises(ValidationError):
        services.incident_retract(incident=incident, reason="  ", user=publisher)
    assert Incident.objects.get(pk=incident.pk).status == Status.PUBLISHED


def test_superusers_can_do_everything(client, superuser):
    client.force_login(superuser)
    incident = IncidentFactory(sources=[SourceFactory()])
    action(client, "publish", incident)
    incident.refresh_from_db()
    assert incident.status == Status.PUBLISHED
