"""Every admin route an Editor could use to change a published or retracted incident, or its status, is refused on
the server; reverting from the history is a Publisher's act that goes through the publishing services."""

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import EventType, Incident, IncidentActor, IncidentSource, Side, Status
from tests.factories import ActorFactory, IncidentFactory, SourceFactory
from tests.test_admin import ADD_URL, incident_form

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:incidents_incident_changelist")


def change_url(incident):
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def revert_url(incident, record):
    return reverse("admin:incidents_incident_simple_history", args=[incident.pk, record.history_id])


def version_titled(incident, title):
    return incident.history.filter(title=title).order_by("history_date").first()


@pytest.fixture
def published(publisher):
    """Written as a draft ("Clash as first reported"), corrected, then published by a publisher."""
    incident = IncidentFactory(title="Clash as first reported", sources=[SourceFactory()])
    incident.title = "Clash as corrected"
    incident.save()
    return services.incident_publish(incident=incident, user=publisher)


@pytest.fixture
def retracted(published, publisher):
    return services.incident_retract(incident=published, reason="Fabricated report", user=publisher)


def test_editor_cannot_revert_a_published_incident_to_its_draft_version(client, editor, published):
    client.force_login(editor)
    draft_version = version_titled(published, "Clash as first reported")
    response = client.post(revert_url(published, draft_version), incident_form(title="Hijacked"))
    assert response.status_code == 403
    published.refresh_from_db()
    assert (published.status, published.title) == (Status.PUBLISHED, "Clash as corrected")


def test_editor_cannot_bring_a_retracted_incident_back_through_the_history(client, editor, retracted):
    client.force_login(editor)
    published_version = retracted.history.filter(status=Status.PUBLISHED).first()
    response = client.post(revert_url(retracted, published_version), incident_form())
    assert response.status_code == 403
    retracted.refresh_from_db()
    assert retracted.status == Status.RETRACTED
    assert Incident.objects.published().count() == 0


def test_the_history_page_offers_editors_no_revert_on_a_published_incident(client, editor, published):
    client.force_login(editor)
    page = client.get(revert_url(published, version_titled(published, "Clash as first reported")))
    assert page.status_code == 200
    assert "<title>View Clash as first reported" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()


def test_editor_cannot_publish_a_draft_by_reverting_to_a_published_version(client, editor, published, publisher):
    services.incident_unpublish(incident=published, user=publisher)
    client.force_login(editor)
    published_version = published.history.filter(status=Status.PUBLISHED).first()
    response = client.post(revert_url(published, published_version), incident_form())
    assert response.status_code == 302
    messages = [str(message) for message in response.wsgi_request._messages]
    assert "You do not have permission to do that." in messages
    published.refresh_from_db()
    assert published.status == Status.DRAFT
    assert Incident.objects.published().count() == 0


def test_editor_reverts_a_draft_from_the_history_not_from_the_posted_form(client, editor):
    client.force_login(editor)
    draft = IncidentFactory(title="First wording", fatalities_best=3)
    draft.title, draft.fatalities_best = "Second wording", 5
    draft.save()
    first = version_titled(draft, "First wording")
    response = client.post(revert_url(draft, first), incident_form(title="Injected", fatalities_best="999"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.fatalities_best, draft.status) == ("First wording", 3, Status.DRAFT)
    assert draft.updated_by == editor
    assert draft.history.first().history_change_reason == f"reverted to version {first.version}"


def test_publisher_reverting_a_retraction_goes_through_publishing(client, publisher, retracted):
    client.force_login(publisher)
    published_version = retracted.history.filter(status=Status.PUBLISHED).first()
    response = client.post(revert_url(retracted, published_version), {})
    assert response.status_code == 302
    retracted.refresh_from_db()
    assert retracted.status == Status.PUBLISHED
    assert retracted.retraction_reason == ""
    assert retracted.updated_by == publisher
    assert [record.status for record in retracted.history.all()[:2]] == [Status.PUBLISHED, Status.RETRACTED]
    assert retracted.history.first().history_change_reason == "status → published"


def test_publisher_cannot_revert_to_a_version_that_cannot_be_published(client, publisher):
    """Publishing checks (a source, a location) hold for reverts too: the whole revert is refused."""
    incident = IncidentFactory(title="Uncited", sources=[SourceFactory()])
    services.incident_publish(incident=incident, user=publisher)
    incident = services.incident_unpublish(incident=incident, user=publisher)
    IncidentSource.objects.filter(incident=incident).delete()
    incident.title = "Rewritten"
    incident.save()
    client.force_login(publisher)
    response = client.post(revert_url(incident, incident.history.filter(status=Status.PUBLISHED).first()), {})
    assert response.status_code == 302
    messages = " ".join(str(message) for message in response.wsgi_request._messages)
    assert "cannot be published: it cites no source" in messages
    incident.refresh_from_db()
    assert (incident.status, incident.title) == (Status.DRAFT, "Rewritten")


@pytest.mark.parametrize("state", ["published", "retracted"])
def test_editor_cannot_post_the_change_form_or_its_inlines(client, editor, request, state):
    incident = request.getfixturevalue(state)
    client.force_login(editor)
    actor = ActorFactory()
    data = incident_form(
        title="Hijacked",
        edit_version=incident.version,
        **{
            "incident_actors-TOTAL_FORMS": "1",
            "incident_actors-0-actor": actor.pk,
            "incident_actors-0-side": Side.A,
            "incident_sources-TOTAL_FORMS": "1",
            "incident_sources-0-source": SourceFactory().pk,
        },
    )
    assert client.post(change_url(incident), data).status_code == 403
    incident.refresh_from_db()
    assert incident.title == "Clash as corrected"
    assert incident.status == Status[state.upper()]
    assert not IncidentActor.objects.filter(incident=incident).exists()
    assert incident.incident_sources.count() == 1


def test_editor_cannot_delete_a_citation_of_a_published_incident(client, editor, published):
    client.force_login(editor)
    citation = published.incident_sources.get()
    data = incident_form(
        edit_version=published.version,
        **{
            "incident_sources-TOTAL_FORMS": "1",
            "incident_sources-INITIAL_FORMS": "1",
            "incident_sources-0-id": citation.pk,
            "incident_sources-0-incident": published.pk,
            "incident_sources-0-source": citation.source_id,
            "incident_sources-0-DELETE": "on",
        },
    )
    assert client.post(change_url(published), data).status_code == 403
    assert published.incident_sources.count() == 1


def test_a_crafted_status_on_the_add_or_change_form_is_ignored(client, editor):
    client.force_login(editor)
    client.post(ADD_URL, incident_form(status="published", published_at="2020-01-01T00:00:00Z", is_demo="on"))
    incident = Incident.objects.get()
    assert (incident.status, incident.published_at, incident.is_demo) == (Status.DRAFT, None, False)
    response = client.post(
        change_url(incident),
        incident_form(status="published", retraction_reason="x", edit_version=incident.version),
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT
    assert Incident.objects.published().count() == 0


@pytest.mark.parametrize("name", ["publish", "unpublish", "retract"])
def test_editor_cannot_run_status_actions(client, editor, published, name):
    draft = IncidentFactory(sources=[SourceFactory()])
    client.force_login(editor)
    client.post(
        CHANGELIST,
        {"action": name, "_selected_action": [published.pk, draft.pk], "apply": "1", "reason": "Because"},
    )
    assert dict(Incident.objects.values_list("pk", "status")) == {
        published.pk: Status.PUBLISHED,
        draft.pk: Status.DRAFT,
    }


def test_the_changelist_has_no_bulk_edit(client, editor, published):
    client.force_login(editor)
    client.post(
        CHANGELIST,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": published.pk,
            "form-0-title": "Hijacked",
            "form-0-status": "draft",
            "_save": "Save",
        },
    )
    published.refresh_from_db()
    assert (published.title, published.status) == ("Clash as corrected", Status.PUBLISHED)


def test_editors_cannot_change_the_taxonomy(client, editor):
    client.force_login(editor)
    battles = EventType.objects.get(name="Battles")
    url = reverse("admin:incidents_eventtype_change", args=[battles.pk])
    response = client.post(url, {"name": "Skirmishes", "slug": "battles", "color": "#000000", "order": 0})
    assert response.status_code == 403
    client.post(
        reverse("admin:incidents_eventtype_changelist"),
        {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": battles.pk, "form-0-order": "99"},
    )
    battles.refresh_from_db()
    assert (battles.name, battles.order) != ("Skirmishes", 99)
    assert battles.name == "Battles"
