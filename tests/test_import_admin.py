"""The admin's import pages: Publishers upload, preview, confirm and revert; Editors are refused."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents.models import ImportBatch, ImportStatus, Incident

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "import"
UPLOAD_URL = reverse("admin:incidents_importbatch_upload")


def upload(client, name, **fields):
    events_file = SimpleUploadedFile(name, (DATA / name).read_bytes(), content_type="text/csv")
    form = {"events_file": events_file, "format": "auto", "status": "draft", **fields}
    return client.post(UPLOAD_URL, form)


def test_editors_are_refused(client, editor):
    client.force_login(editor)
    assert client.get(UPLOAD_URL).status_code == 403
    assert upload(client, "acled_export.csv").status_code == 403
    assert client.get(reverse("admin:incidents_importbatch_changelist")).status_code == 403
    assert not ImportBatch.objects.exists()


def test_preview_writes_nothing_then_confirm_imports(client, publisher):
    client.force_login(publisher)
    assert "Import an ACLED or UCDP GED file" in client.get(UPLOAD_URL).content.decode()

    response = upload(client, "acled_export.csv", status="published")

    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "admin:incidents_importbatch_change", args=[batch.pk]
    )
    assert (batch.status, batch.created, batch.file_name, batch.created_by) == (
        ImportStatus.PREVIEW,
        3,
        "acled_export.csv",
        publisher,
    )
    assert not Incident.objects.filter(dataset="acled").exists()
    page = client.get(response.url).content.decode()
    assert "nothing has been written yet" in page
    assert '<td class="import-count-created">3</td>' in page
    assert "Import these events" in page

    confirmed = client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]))

    batch.refresh_from_db()
    assert confirmed.status_code == 302
    assert (batch.status, batch.dry_run, batch.created) == (ImportStatus.DONE, False, 3)
    assert Incident.objects.published().filter(dataset="acled").count() == 3
    assert not Path(batch.upload_path).exists()  # the upload is gone once imported
    page = client.get(confirmed.url).content.decode()
    assert "Imported" in page and "Import these events" not in page and "Revert this import" in page
    # a second confirmation does nothing
    client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]))
    assert Incident.objects.filter(dataset="acled").count() == 3

    # the incident's admin page shows where it came from, extra columns included
    clash = Incident.objects.get(event_id="TST1001")
    incident_page = client.get(reverse("admin:incidents_incident_change", args=[clash.pk])).content.decode()
    assert "TST1001" in incident_page and "checked twice" in incident_page
    history_page = client.get(reverse("admin:incidents_incident_history", args=[clash.pk])).content.decode()
    assert f"import batch {batch.pk} (acled_export.csv)" in history_page

    client.post(reverse("admin:incidents_importbatch_revert", args=[batch.pk]))
    assert not Incident.objects.filter(dataset="acled").exists()


def test_bad_file_shows_every_bad_row_and_cannot_be_confirmed(client, publisher):
    client.force_login(publisher)
    response = upload(client, "acled_bad_rows.csv")

    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.REJECTED
    page = client.get(response.url).content.decode()
    assert "6 rows are invalid, so nothing was imported" in page
    assert "<td>4</td><td>latitude</td><td><bdi>95.5</bdi></td><td>must be between -90 and 90</td>" in page
    assert "<td>13</td><td>event_id_cnty</td>" in page
    assert "Import these events" not in page
    client.post(reverse("admin:incidents_importbatch_confirm", args=[batch.pk]))
    assert not Incident.objects.filter(dataset="acled").exists()


def test_wrong_file_gets_a_message_not_an_error_page(client, publisher):
    client.force_login(publisher)
    response = upload(client, "not_events.csv")
    page = client.get(response.url)
    assert page.status_code == 200
    assert "This is neither an ACLED export nor a UCDP GED file" in page.content.decode()


def test_batch_list_keeps_the_reports(client, publisher):
    client.force_login(publisher)
    upload(client, "acled_bad_rows.csv")
    upload(client, "GEDEvent_v24_1.csv")
    page = client.get(reverse("admin:incidents_importbatch_changelist")).content.decode()
    assert "acled_bad_rows.csv" in page and "GEDEvent_v24_1.csv" in page and "Import a file" in page
