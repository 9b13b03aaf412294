"""The gazetteer: places the geocoder matches report wording against, and how precisely a point locates an event."""

import re
import unicodedata

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords


class LocationPrecision(models.IntegerChoices):
    """ACLED's geo_precision codes."""

    EXACT = 1, _("Exact place")
    NEAR = 2, _("Near a named place")
    REGION = 3, _("Only the region is known")


class PlaceKind(models.TextChoices):
    POPULATED = "populated", _("Populated place")
    ADMIN1 = "admin1", _("Admin region (governorate / province)")
    NATURAL = "natural", _("Natural feature")
    OTHER = "other", _("Other")


# A name in Arabic proper: words of two or more Arabic letters (and vowel marks), a teh marbuta (ة) only at a word's
# end. GeoNames lists Persian and Kurdish spellings among the alternate names with no language tag: their own
# letters (پ چ ژ گ ک ی ە ڵ ۆ ێ ڕ) and a mid-word ة ("كةربالا") tell them apart, as a lone letter tells a typo ("د مشق").
_ARABIC_LETTER = "[\u0621-\u0628\u062a-\u063a\u0640-\u0652\u0670]"  # no ة (U+0629): it only ends a word
_ARABIC_WORD = f"(?:{_ARABIC_LETTER}{{2,}}\u0629?|{_ARABIC_LETTER}\u0629)"
ARABIC_NAME = re.compile(f"{_ARABIC_WORD}(?:[ -]{_ARABIC_WORD})*")
# "محافظة حلب" (Aleppo governorate) names the region, not the place.
_REGION_WORD_AR = "محافظة"


def arabic_name(spellings):
    """A place's Arabic name among its spellings: the first in Arabic proper that names the place itself, or ""."""
    return next(
        (name for name in spellings or () if ARABIC_NAME.fullmatch(name) and not name.startswith(_REGION_WORD_AR)), ""
    )


def place_arabic_names(keys):
    """{(country, admin1, name): Arabic name} for the keys whose `name` is a gazetteer place's own name in that
    country (and region, when admin1 is given), the most populous first; keys with no such place, or none with an
    Arabic name, are left out. For incidents coded by name only (imports, seeds), not to a gazetteer row."""
    keys = {(str(country), admin1 or "", name) for country, admin1, name in keys if name}
    if not keys:
        return {}
    found = {}
    places = Place.objects.filter(
        name__in={name for _country, _admin1, name in keys}, country__in={country for country, _a, _n in keys}
    ).order_by("-population", "pk")
    for country, admin1, name, spellings in places.values_list("country", "admin1", "name", "alternate_names"):
        if arabic := arabic_name(spellings):
            for key in ((country, admin1, name), (country, "", name)):
                if key in keys:
                    found.setdefault(key, arabic)
    return found


class Place(models.Model):
    """A gazetteer entry the geocoder matches report wording against: GeoNames rows, or one an editor added."""

    name = models.CharField(_("name"), max_length=200)
    ascii_name = models.CharField(_("ASCII name"), max_length=200, blank=True)
    alternate_names = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("alternate names"),
        blank=True,
        default=list,
        help_text=_("Other spellings, comma-separated: transliterations and Arabic (e.g. Tadmur, Tadmor, تدمر)."),
    )
    point = models.PointField(_("point"), srid=4326)
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices, default=PlaceKind.POPULATED)
    admin1 = models.CharField(_("admin1 (governorate / province)"), max_length=100, blank=True)
    admin2 = models.CharField(_("admin2 (district)"), max_length=100, blank=True)
    country = CountryField(_("country"))
    population = models.PositiveBigIntegerField(_("population"), default=0)
    wof_id = models.BigIntegerField(_("Who's On First id"), null=True, blank=True, unique=True)
    source = models.CharField(
        _("source"),
        max_length=100,
        blank=True,
        help_text=_("Where the entry comes from, e.g. geonames:170794; empty for places added by an editor."),
    )
    # Derived from the names on save (see names.place_search_keys); what the geocoder's indexes look at.
    name_keys = ArrayField(models.CharField(max_length=200), default=list, editable=False)
    skeleton_keys = ArrayField(models.CharField(max_length=200), default=list, editable=False)
    search_text = models.TextField(default="", editable=False)

    # The table predates the places app (it was incidents.Place); keeping its name kept its rows.
    history = HistoricalRecords(table_name="incidents_historicalplace")

    class Meta:
        db_table = "incidents_place"
        ordering = ["name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        indexes = [
            GinIndex(fields=["name_keys"], name="place_name_keys"),
            GinIndex(fields=["skeleton_keys"], name="place_skeleton_keys"),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="place_search_trgm"),
            models.Index(fields=["country", "kind"], name="place_country_kind"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source"], condition=~Q(source=""), name="place_unique_source"),
        ]

    def __str__(self):
        region = ", ".join(part for part in (self.admin1, str(self.country)) if part)
        return f"{self.name} ({region})" if region else self.name

    @property
    def name_ar(self):
        return arabic_name(self.alternate_names)

    def set_search_keys(self):
        from .names import place_search_keys

        if not self.ascii_name:
            self.ascii_name = unicodedata.normalize("NFKD", self.name).encode("ascii", "ignore").decode()
        self.name_keys, self.skeleton_keys = place_search_keys([self.name, self.ascii_name, *self.alternate_names])
        self.search_text = " | ".join(self.name_keys)

    def save(self, *args, **kwargs):
        self.set_search_keys()
        super().save(*args, **kwargs)


class AdminArea(models.Model):
    """A governorate or district as a record: its boundary and every spelling the sources give it.

    `name` is the one English spelling incidents, downloads and the map filter use; `name_ar` is shown on /ar/.
    """

    wof_id = models.BigIntegerField(_("Who's On First id"), unique=True)
    geonames_id = models.BigIntegerField(_("GeoNames id"), null=True, blank=True)
    country = CountryField(_("country"))
    name = models.CharField(_("name (English)"), max_length=100)
    name_ar = models.CharField(_("name (Arabic)"), max_length=100, blank=True)
    names = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("spellings"),
        default=list,
        blank=True,
        help_text=_("Every spelling the sources use: ACLED, UCDP, GeoNames, Who's On First, Arabic."),
    )
    # name_key of every spelling (see names.name_key): what a text lookup compares against.
    name_keys = ArrayField(models.CharField(max_length=200), default=list, editable=False)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326)  # GiST-indexed (spatial_index defaults to True)

    class Meta:
        abstract = True
        ordering = ["country", "name"]

    def __str__(self):
        return f"{self.name} ({self.country})"

    @property
    def display_name(self):
        """The name in the active language: Arabic on /ar/ when there is one, English otherwise."""
        if translation.get_language() == "ar" and self.name_ar:
            return self.name_ar
        return self.name


class Region(AdminArea):
    """An admin1 area: a governorate (Syria: muhafazah) or province (Iraq)."""

    class Meta(AdminArea.Meta):
        verbose_name = _("region (governorate)")
        verbose_name_plural = _("regions (governorates)")
        indexes = [GinIndex(fields=["name_keys"], name="region_name_keys")]
        constraints = [models.UniqueConstraint(fields=["country", "name"], name="region_unique_name")]


class District(AdminArea):
    """An admin2 area: a district (Syria: mintaqah; Iraq: qada) inside one region."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="districts", verbose_name=_("region"))

    class Meta(AdminArea.Meta):
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        indexes = [GinIndex(fields=["name_keys"], name="district_name_keys")]
