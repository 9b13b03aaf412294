"""The Arabic catalogue is complete, compiled, and what /ar/ pages actually say."""

import subprocess

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from incidents.models import Incident
from tests.factories import IncidentFactory

ARABIC_PO = settings.BASE_DIR / "locale" / "ar" / "LC_MESSAGES" / "django.po"
ARABIC_NOTICE = "يضم هذا الموقع بيانات تجريبية مصطنعة"
ENGLISH_NOTICE = "This site holds synthetic demo data"


def test_arabic_catalogue_has_no_untranslated_or_fuzzy_entries():
    # msgfmt (gettext, installed by the set-up) also checks that placeholders match their msgid.
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(ARABIC_PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    statistics = result.stderr.strip()
    assert statistics.endswith(" translated messages."), statistics
    assert "untranslated" not in statistics and "fuzzy" not in statistics, statistics


def test_compiled_catalogue_translates_model_fields_and_validation_messages():
    with translation.override("ar"):
        assert str(Incident._meta.get_field("fatalities_low").verbose_name) == "القتلى (الحد الأدنى)"
        assert str(Incident._meta.get_field("notable_casualties").verbose_name) == "ضحايا بارزون"
        assert translation.gettext("The end date cannot be before the start date.") == (
            "لا يمكن أن يسبق تاريخ النهاية تاريخ البداية."
        )
        assert translation.ngettext("%d incident published.", "%d incidents published.", 3) % 3 == "نُشرت 3 حوادث."


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["home", "detail"])
def test_arabic_pages_with_demo_data_show_the_demo_notice_in_arabic(client, page):
    demo = IncidentFactory(published=True, is_demo=True, title="[Synthetic demo data] Clash")
    with translation.override("ar"):
        url = reverse("incidents:home") if page == "home" else reverse("incidents:detail", args=[demo.pk])
    assert url.startswith("/ar/")
    html = client.get(url).content.decode()
    assert 'dir="rtl"' in html
    assert f'<div class="demo-notice" role="note">{ARABIC_NOTICE}' in html
    # Visitors are told not to cite it; how to remove it is for operators, in docs/operations.md.
    assert "لا تستشهد بها.</div>" in html
    assert "remove_demo" not in html
    assert ENGLISH_NOTICE not in html
