"""An editor's flow on one incident's own admin page: the add form, Publish / Back to draft / Retract buttons, the
staff preview of drafts, search by the dataset's event id, and an import batch's link to its incidents."""

import pytest
from django.urls import reverse

from incidents.models import Dataset, ImportBatch, ImportChange, ImportChangeAction, ImportStatus, Incident, Status
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def change_url(incident):
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def action_url(name, incident):
    return reverse(f"admin:incidents_incident_{name}", args=[incident.pk])


def test_add_form_shows_empty_dataset_fields_not_a_database_default_marker(client, editor):
    client.force_login(editor)
    page = client.get(reverse("admin:incidents_incident_add")).content.decode()
    assert "Event id in the dataset" in page
    assert "DatabaseDefault" not in page
    assert "object at 0x" not in page


def test_publisher_publishes_from_the_incident_page(client, publisher):
    draft = IncidentFactory(sources=[])
    from tests.factories import SourceFactory

    draft.incident_sources.create(source=SourceFactory())
    client.force_login(publisher)
    page = client.get(change_url(draft)).content.decode()
    assert f'action="{action_url("publish", draft)}"' in page
    assert action_url("unpublish", draft) not in page  # a draft is already a draft
    response = client.post(action_url("publish", draft), follow=True)
    assert response.redirect_chain[-1][0] == change_url(draft)
    assert "is published" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert draft.history.first().history_user == publisher


def test_publishing_an_incident_without_a_source_is_refused_with_the_reason(client, publisher):
    draft = IncidentFactory()
    client.force_login(publisher)
    response = client.post(action_url("publish", draft), follow=True)
    assert "cannot be published: it cites no source" in response.content.decode()
    assert Incident.objects.get(pk=draft.pk).status == Status.DRAFT


def test_editor_sees_no_publish_button_and_cannot_post_one(client, editor):
    draft = IncidentFactory()
    client.force_login(editor)
    page = client.get(change_url(draft)).content.decode()
    assert action_url("publish", draft) not in page
    assert action_url("retract", draft) not in page
    response = client.post(action_url("publish", draft), follow=True)
    assert "You do not have permission to do that." in response.content.decode()
    assert Incident.objects.get(pk=draft.pk).status == Status.DRAFT


def test_publish_by_get_changes_nothing(client, publisher):
    draft = IncidentFactory()
    client.force_login(publisher)
    assert client.get(action_url("publish", draft)).status_code == 302
    assert Incident.objects.get(pk=draft.pk).status == Status.DRAFT


def test_retract_asks_for_the_reason_then_retracts(client, publisher):
    incident = IncidentFactory(published=True)
    client.force_login(publisher)
    page = client.get(change_url(incident)).content.decode()
    assert action_url("retract", incident) in page and action_url("unpublish", incident) in page
    form = client.get(action_url("retract", incident)).content.decode()
    assert 'name="reason"' in form and 'name="action"' not in form
    refused = client.post(action_url("retract", incident), {"reason": "  "})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert Incident.objects.get(pk=incident.pk).status == Status.PUBLISHED
    client.post(action_url("retract", incident), {"reason": "Duplicate of another report"})
    incident.refresh_from_db()
    assert (incident.status, incident.retraction_reason) == (Status.RETRACTED, "Duplicate of another report")


def test_unpublish_from_the_incident_page(client, publisher):
    incident = IncidentFactory(published=True)
    client.force_login(publisher)
    client.post(action_url("unpublish", incident))
    assert Incident.objects.get(pk=incident.pk).status == Status.DRAFT


def test_staff_preview_of_a_draft_is_private_and_uncached(client, editor):
    draft = IncidentFactory(title="Draft clash near Tadmur")
    assert client.get(draft.get_absolute_url()).status_code == 404  # the public page stays a 404
    preview = action_url("preview", draft)
    anonymous = client.get(preview)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    client.force_login(editor)
    page = client.get(change_url(draft)).content.decode()
    assert f'href="{preview}"' in page  # "View on site" and "Preview" open the preview, not a 404
    response = client.get(preview)
    assert response.status_code == 200
    assert "Draft clash near Tadmur" in response.content.decode()
    assert "Preview for editors" in response.content.decode()
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_view_on_site_of_a_published_incident_is_its_public_page(client, editor):
    incident = IncidentFactory(published=True)
    client.force_login(editor)
    page = client.get(change_url(incident)).content.decode()
    assert reverse("admin:view_on_site", args=[_content_type_id(), incident.pk]) in page


def _content_type_id():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Incident).pk


def test_admin_search_finds_an_incident_by_its_dataset_event_id(client, editor):
    imported = IncidentFactory(title="Imported clash", dataset=Dataset.ACLED, event_id="SYR12345")
    IncidentFactory(title="Other clash", dataset=Dataset.ACLED, event_id="SYR123456")
    client.force_login(editor)
    page = client.get(reverse("admin:incidents_incident_changelist"), {"q": "SYR12345"}).content.decode()
    assert "Imported clash" in page and "Other clash" not in page
    assert change_url(imported) in page


def test_finished_batch_links_to_the_incidents_it_created(client, superuser):
    created, updated, other = IncidentFactory(title="New one"), IncidentFactory(title="Changed one"), IncidentFactory()
    batch = ImportBatch.objects.create(file_name="ged.csv", status=ImportStatus.DONE, dry_run=False)
    ImportChange.objects.create(batch=batch, incident_id=created.pk, action=ImportChangeAction.CREATED)
    ImportChange.objects.create(batch=batch, incident_id=updated.pk, action=ImportChangeAction.UPDATED)
    client.force_login(superuser)
    batch_page = client.get(reverse("admin:incidents_importbatch_change", args=[batch.pk])).content.decode()
    listing = f"{reverse('admin:incidents_incident_changelist')}?batch={batch.pk}"
    assert f'href="{listing}"' in batch_page
    page = client.get(listing).content.decode()
    assert "New one" in page and "Changed one" in page and other.title not in page
    assert "2 incidents" in page or "2 results" in page


def test_a_preview_batch_has_no_incidents_link(client, superuser):
    batch = ImportBatch.objects.create(file_name="ged.csv", status=ImportStatus.PREVIEW, dry_run=True)
    client.force_login(superuser)
    page = client.get(reverse("admin:incidents_importbatch_change", args=[batch.pk])).content.decode()
    assert "?batch=" not in page


def test_import_preview_shows_the_first_rows_it_would_create_then_those_unchanged(client, publisher):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    name = "acled_export.csv"
    data = (Path(__file__).parent / "data" / "import" / name).read_bytes()
    client.force_login(publisher)

    def preview():
        form = {"events_file": SimpleUploadedFile(name, data, content_type="text/csv"), "format": "auto"}
        response = client.post(reverse("admin:incidents_importbatch_upload"), {**form, "status": "draft"})
        return client.get(response.url).content.decode(), ImportBatch.objects.order_by("-pk").first()

    page, batch = preview()
    assert batch.status == ImportStatus.PREVIEW
    assert '<table class="import-sample import-sample-created">' in page and "<caption>New</caption>" in page
    assert "TST1001" in page and "import-sample-unchanged" not in page
    assert not Incident.objects.filter(event_id="TST1001").exists()  # a preview, still nothing written
    client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]))
    page, batch = preview()  # the same file again: every row unchanged
    assert "<caption>Unchanged</caption>" in page and "import-sample-created" not in page
    assert page.count("<td><bdi>TST") == 3
