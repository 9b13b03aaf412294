"""What conflict researchers record about an incident: when, where, what, who, how many, and from which sources.

The vocabulary follows ACLED (event types, time and geo precision codes, actor kinds) and UCDP (fatality ranges
with low / best / high estimates) so that our data maps onto theirs column by column.
"""

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.validators import URLValidator
from django.db import router, transaction
from django.db.models import Case, F, FloatField, Func, Q, TextField, Value, When
from django.db.models.functions import Coalesce, Concat, Lower, Upper
from django.db.models.lookups import Range
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from places.models import District, LocationPrecision, Place, PlaceKind, place_arabic_names  # noqa: F401 -- re-exported: incidents' vocabulary
from places.regions import admin_area_label

from .media import EXTENSIONS as MEDIA_EXTENSIONS

http_url_validator = URLValidator(
    schemes=["http", "https"], message=_("Enter a web address starting with http:// or https://.")
)


class DatePrecision(models.IntegerChoices):
    """ACLED's time_precision codes."""

    DAY = 1, _("Exact day")
    WEEK = 2, _("Within a week")
    MONTH = 3, _("Within a month")


class EventClarity(models.IntegerChoices):
    """UCDP GED's event_clarity: whether the reports let the event be told apart from others."""

    CLEAR = 1, _("Clear")
    LOWER = 2, _("Lower clarity")


class ActorKind(models.TextChoices):
    STATE_FORCES = "state_forces", _("State forces")
    REBEL_GROUP = "rebel_group", _("Rebel group")
    JIHADIST_GROUP = "jihadist_group", _("Jihadist group")
    POLITICAL_MILITIA = "political_militia", _("Political militia")
    IDENTITY_MILITIA = "identity_militia", _("Identity militia")
    FOREIGN_FORCES = "foreign_forces", _("Foreign forces")
    FOREIGN_GOVERNMENT = "foreign_government", _("Foreign government")
    PROTESTERS = "protesters", _("Protesters")
    RIOTERS = "rioters", _("Rioters")
    CIVILIANS = "civilians", _("Civilians")
    OTHER = "other", _("Other")


class Side(models.TextChoices):
    """ACLED's actor1 / actor2: the side that acted and the side acted upon."""

    A = "a", _("Side A (perpetrator / initiator)")
    B = "b", _("Side B (target / other side)")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETRACTED = "retracted", _("Retracted")


class EditConflict(Exception):
    """The row was saved by someone else since this copy of it was read: saving would overwrite their work."""

    def __init__(self, instance, read_version):
        self.instance, self.read_version = instance, read_version
        super().__init__(f"{type(instance).__name__} {instance.pk} changed since version {read_version} was read")


class VersionedModel(models.Model):
    """Optimistic locking: every save of an existing row moves `version` on by one, and only succeeds when the row
    still has the version this copy was read at. Two editors who opened the same record cannot silently overwrite
    each other; the second save raises EditConflict (forms turn it into an error showing what changed)."""

    version = models.PositiveIntegerField(
        _("edit version"), default=1, db_default=1, editable=False, help_text=_("Goes up by one on every save.")
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            return super().save(*args, **kwargs)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        read_version = self.version
        with transaction.atomic(using=using):
            # The conditional UPDATE both checks the version and locks the row until the save below commits.
            claimed = (
                type(self)
                ._base_manager.using(using)
                .filter(pk=self.pk, version=read_version)
                .update(version=read_version + 1)
            )
            if not claimed:
                raise EditConflict(self, read_version)
            self.version = read_version + 1
            try:
                return super().save(*args, **kwargs)
            except BaseException:
                self.version = read_version
                raise


class ContentLanguage(models.TextChoices):
    """The languages an incident's own words (title, description) are written in; the interface's languages."""

    ENGLISH = "en", _("English")
    ARABIC = "ar", _("Arabic")


# What a reader is told beside text shown in the other language because theirs is missing.
ORIGINAL_MARK = {ContentLanguage.ENGLISH: _("English original"), ContentLanguage.ARABIC: _("Arabic original")}


@dataclass(frozen=True)
class ShownText:
    """An incident's text as a reader of one language sees it: the text, the language it is in, and the mark to show
    beside it when it is not the reader's language (empty when it is)."""

    text: str
    language: str
    mark: str

    @classmethod
    def of(cls, *, english, arabic, language=None):
        """The reader's language when there is text in it, else the other, marked. `language`: the active one."""
        wanted = ContentLanguage.ARABIC if (language or get_language()) == "ar" else ContentLanguage.ENGLISH
        other = ContentLanguage.ENGLISH if wanted == ContentLanguage.ARABIC else ContentLanguage.ARABIC
        texts = {ContentLanguage.ENGLISH: english or "", ContentLanguage.ARABIC: arabic or ""}
        if texts[wanted] or not texts[other]:
            return cls(texts[wanted], str(wanted), "")
        return cls(texts[other], str(other), str(ORIGINAL_MARK[other]))


class Dataset(models.TextChoices):
    """Published event datasets we import; an incident's (dataset, event_id) is its key in the publisher's file."""

    ACLED = "acled", _("ACLED")
    UCDP_GED = "ucdp-ged", _("UCDP GED")


class EventType(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    color = models.CharField(
        _("colour"),
        max_length=7,
        default="#666666",
        help_text=_("Marker colour on the map, as #rrggbb."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("event type")
        verbose_name_plural = _("event types")

    def __str__(self):
        # Stored in English and marked for translation where the taxonomy is seeded: menus read in the user's language.
        return gettext(self.name)


class SubEventType(models.Model):
    event_type = models.ForeignKey(
        EventType, on_delete=models.PROTECT, related_name="sub_types", verbose_name=_("event type")
    )
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["event_type__order", "order", "name"]
        verbose_name = _("sub-event type")
        verbose_name_plural = _("sub-event types")
        constraints = [
            models.UniqueConstraint(fields=["event_type", "name"], name="sub_event_type_unique_name"),
        ]

    def __str__(self):
        return f"{gettext(self.event_type.name)} › {gettext(self.name)}"


class ActorQuerySet(models.QuerySet):
    def matching(self, text):
        """Actors whose name or any alias contains the text ("daesh" finds Islamic State)."""
        text = text.strip()
        aliases = Func(F("aliases"), Value(" | "), function="array_to_string", output_field=TextField())
        return self.alias(alias_text=aliases).filter(Q(name__icontains=text) | Q(alias_text__icontains=text))


ARABIC_LETTERS = re.compile("[\u0600-\u06ff]")


class Actor(VersionedModel):
    name = models.CharField(_("name"), max_length=200)
    aliases = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("aliases"),
        blank=True,
        default=list,
        help_text=_("Other names the actor goes by, comma-separated (e.g. IS, ISIS, ISIL, Daesh)."),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=ActorKind.choices)
    country = CountryField(_("country"), blank=True, help_text=_("Where the actor is based, if it is national."))
    description = models.TextField(_("description"), blank=True)

    history = HistoricalRecords()
    objects = ActorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("actor")
        verbose_name_plural = _("actors")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="actor_unique_name_ci"),
        ]

    def __str__(self):
        return self.name

    @property
    def display_name(self):
        """The name a reader of the active language knows: on Arabic pages the first alias in Arabic script
        ("الدولة الإسلامية"), when the actor has one; the stored name otherwise."""
        if get_language() == "ar":
            for alias in self.aliases:
                if ARABIC_LETTERS.search(alias):
                    return alias
        return self.name


class ActorNameMapping(models.Model):
    """A name a dataset writes for one of our actors, chosen by a Publisher in an import preview; every later import
    of that dataset links the name to the actor instead of creating a new one."""

    dataset = models.CharField(_("dataset"), max_length=20, choices=Dataset.choices)
    name = models.CharField(_("name in the file"), max_length=300, help_text=_("As the publisher writes it."))
    # actor_name_key(name): the same name in another case or without its diacritics is the same name
    name_key = models.CharField(max_length=300, editable=False)
    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="name_mappings", verbose_name=_("actor"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("mapped by"),
    )
    created_at = models.DateTimeField(_("mapped at"), auto_now_add=True)

    class Meta:
        ordering = ["dataset", "name"]
        verbose_name = _("actor name in a dataset")
        verbose_name_plural = _("actor names in datasets")
        constraints = [models.UniqueConstraint(fields=["dataset", "name_key"], name="actor_name_mapping_once")]

    def __str__(self):
        return f"{self.get_dataset_display()}: {self.name} → {self.actor}"


class SourceQuerySet(models.QuerySet):
    def archivable(self):
        """Sources whose URL is a report to keep a copy of: not the datasets an import cites (their home pages)."""
        return self.exclude(url="").exclude(url__in=DATASET_URL.values())


class Source(VersionedModel):
    """A report an incident is based on; one report often covers several incidents."""

    publisher = models.CharField(_("publisher"), max_length=200, help_text=_("Who published it, e.g. DW."))
    title = models.CharField(_("title"), max_length=500)
    url = models.URLField(
        _("URL"), max_length=1000, blank=True, validators=[http_url_validator], help_text=_("http or https only.")
    )
    published_on = models.DateField(_("publication date"), null=True, blank=True)
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        db_default=False,
        help_text=_(
            "Tick when naming this source could endanger someone (a witness's own post, a local page that identifies "
            "the place): the public sees only its publisher, never its title or link, and every incident citing it "
            "is shown at a generalised location."
        ),
    )
    text_checksum = models.CharField(
        _("text checksum"),
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
        help_text=_("SHA-256 of the report text the editors' assistant read, so that it is not entered twice."),
    )

    history = HistoricalRecords()
    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "publisher"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.CheckConstraint(
                condition=Q(url="") | Q(url__regex=r"^[hH][tT][tT][pP][sS]?://"),
                name="source_url_http",
                violation_error_message=_("A source URL must start with http:// or https://."),
            ),
        ]

    def __str__(self):
        when = f", {self.published_on:%d %b %Y}" if self.published_on else ""
        return f"{self.publisher}: {self.title}{when}"

    @property
    def public_title(self):
        """What the public sees of the title: nothing when the source is sensitive (public.py says the same)."""
        return "" if self.sensitive else self.title

    @property
    def public_url(self):
        return "" if self.sensitive else self.url


# PostGIS stores any numbers in a geometry; the range check on longitude / latitude is ours.
_point_x = Func("location", function="ST_X", output_field=FloatField())
_point_y = Func("location", function="ST_Y", output_field=FloatField())


def public_place(field):
    """An incident's place name as the public may search it: none when the incident is shown generalised, whose
    place names every output withholds (aggregates/privacy.py) — a search for the village must not find it either.
    Editors search the admin, which reads the names themselves."""
    return Case(When(generalised_location__isnull=True, then=F(field)), default=Value(""), output_field=TextField())


# The text filter (`q`) at a million incidents: the words, kept in a stored column (Incident.search_words), and the
# substring haystack, an expression used verbatim by IncidentFilterSet.filter_text so that PostgreSQL matches it to
# its index's; both are indexed (GIN) under Incident.Meta.indexes.
def incident_text_words():
    """The words of title, description, reported place and gazetteer name ('simple': no stemming, any language); the
    place names only for an incident not shown generalised (public_place).

    What Incident.search_words stores."""
    return SearchVector(
        "title", "description", public_place("place_reported"), public_place("place_name"), config="simple"
    )


# A control character no one types joins the fields, so a substring never matches across two of them (as three
# separate `icontains` did).
_FIELD_SEPARATOR = "\x1f"


def incident_text_haystack():
    """Title, reported place and description in one text: what `q` searches for a substring."""
    return Concat(
        "title",
        Value(_FIELD_SEPARATOR),
        public_place("place_reported"),
        Value(_FIELD_SEPARATOR),
        "description",
        output_field=TextField(),
    )


class IncidentQuerySet(models.QuerySet):
    def published(self):
        """The only incidents the public side may see."""
        return self.filter(status=Status.PUBLISHED)

    def demo(self):
        return self.filter(is_demo=True)

    def between(self, start=None, end=None):
        """Incidents whose date span overlaps [start, end]; either bound may be open."""
        queryset = self
        if start is not None:
            queryset = queryset.filter(end_date__gte=start)
        if end is not None:
            queryset = queryset.filter(start_date__lte=end)
        return queryset

    def in_bbox(self, bbox):
        """bbox: a Polygon (see django.contrib.gis.geos.Polygon.from_bbox). On the public location: a box drawn round a
        sensitive incident's exact point must not find it there."""
        return self.filter(public_location__intersects=bbox)

    def in_view(self, viewport):
        """Incidents in a map view: a MultiPolygon of axis-aligned boxes (filters.parse_viewport). A point lies in a
        box exactly when their bounding boxes overlap (&&), which the GiST index answers with no per-row geometry
        test; one condition per box, as the two halves of a view across the antimeridian have a world-wide envelope."""
        inside = Q()
        for box in viewport:
            inside |= Q(public_location__bboverlaps=box)
        return self.filter(inside)


# The columns the region view, the trends and the aggregated export count, and filter by, over the incidents
# themselves (incidents/regional.py): the index incident_published_counted holds them.
COUNTED_COLUMNS = [
    "country", "admin1", "admin2", "event_type", "sub_event_type", "start_date", "end_date",
    "fatalities_low", "fatalities_best", "fatalities_high", "public_location_precision",
]  # fmt: skip


class Incident(VersionedModel):
    # when
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(
        _("end date"), blank=True, help_text=_("Last day of the incident; left empty, it is the start date.")
    )
    date_precision = models.PositiveSmallIntegerField(
        _("date precision"), choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    time_of_day = models.TimeField(_("time of day"), null=True, blank=True, help_text=_("Local time, if reported."))

    # where
    location = models.PointField(
        _("location"),
        srid=4326,
        null=True,
        blank=True,
        help_text=_("Required before publishing. Coded to the named place, never to an invented offset."),
    )
    place_reported = models.CharField(
        _("place as reported"),
        max_length=300,
        blank=True,
        help_text=_("The report's own words, e.g. “desert east of Homs province, north of Palmyra”."),
    )
    place_name = models.CharField(
        _("coded place"), max_length=200, blank=True, help_text=_("The gazetteer place the point is coded to.")
    )
    place = models.ForeignKey(
        Place,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("gazetteer place"),
        help_text=_("The gazetteer place the incident is coded to."),
    )
    admin1 = models.CharField(_("admin1 (governorate / province)"), max_length=100, blank=True)
    admin2 = models.CharField(_("admin2 (district)"), max_length=100, blank=True)
    country = CountryField(_("country"), blank=True)
    location_precision = models.PositiveSmallIntegerField(
        _("location precision"), choices=LocationPrecision.choices, default=LocationPrecision.EXACT
    )
    # Exact and public location (docs/architecture.md, "Public and exact locations"). The public side reads only
    # public_location and public_location_precision; the database computes them on every write, whoever writes (the
    # admin, the services, an import's set-based SQL, the assistant): generalised_* are set by a trigger
    # (aggregates/privacy.py) when the incident is sensitive or cites a sensitive source, and the public columns are
    # generated from them, so a bulk insert of ordinary incidents pays nothing.
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        db_default=False,
        help_text=_(
            "Tick when the exact place could endanger witnesses, victims or sources. The public then sees the "
            "incident at its district's centre (or a coarse grid cell), with precision “only the region is known”; "
            "editors still see the exact point. Also avoid naming the exact place in the title and description."
        ),
    )
    generalised_location = models.PointField(
        _("generalised location"),
        srid=4326,
        # No spatial index: nothing looks incidents up by it (the public reads public_location, which has one), and
        # a GiST index enters every incident, even an empty point, into it on each insert.
        spatial_index=False,
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set by the database: the public point of a sensitive incident, empty otherwise."),
    )
    generalised_precision = models.PositiveSmallIntegerField(
        _("generalised location precision"), choices=LocationPrecision.choices, null=True, blank=True, editable=False
    )
    public_location = models.GeneratedField(
        expression=Coalesce("generalised_location", "location"),
        output_field=models.PointField(srid=4326, null=True),
        db_persist=True,
        verbose_name=_("public location"),
    )
    public_location_precision = models.GeneratedField(
        expression=Coalesce("generalised_precision", "location_precision"),
        output_field=models.PositiveSmallIntegerField(choices=LocationPrecision.choices),
        db_persist=True,
        verbose_name=_("public location precision"),
    )

    # what
    # Our own words in both interface languages: plain columns (not django-modeltranslation's proxied ones), so the
    # database's kept features and downloads read each language by name (docs/architecture.md, "Incident text in
    # two languages"). `title` and `description` are the English ones, as every output has always read them.
    title = models.CharField(_("title (English)"), max_length=300, blank=True)
    title_ar = models.CharField(_("title (Arabic)"), max_length=300, blank=True, db_default="")
    description = models.TextField(_("description (English)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True, db_default="")
    original_language = models.CharField(
        _("original language"),
        max_length=2,
        choices=ContentLanguage.choices,
        default=ContentLanguage.ENGLISH,
        db_default=ContentLanguage.ENGLISH,
        help_text=_(
            "The language the incident was first written in (its report's, usually); the other is a translation. "
            "Its title is required; the other may stay empty, and readers of that language then see this one, marked."
        ),
    )
    event_type = models.ForeignKey(
        EventType, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("event type")
    )
    sub_event_type = models.ForeignKey(
        SubEventType,
        on_delete=models.PROTECT,
        related_name="incidents",
        null=True,
        blank=True,
        verbose_name=_("sub-event type"),
    )

    # who
    actors = models.ManyToManyField(Actor, through="IncidentActor", related_name="incidents", verbose_name=_("actors"))

    # how many
    fatalities_low = models.PositiveIntegerField(
        _("fatalities (low)"), null=True, blank=True, help_text=_("“At least 35” is low 35, best 35, no high.")
    )
    fatalities_best = models.PositiveIntegerField(_("fatalities (best estimate)"), null=True, blank=True)
    fatalities_high = models.PositiveIntegerField(
        _("fatalities (high)"), null=True, blank=True, help_text=_("Leave empty when the report gives no upper bound.")
    )
    notable_casualties = models.TextField(
        _("notable casualties"), blank=True, help_text=_("e.g. “four senior army officers”.")
    )

    # how sure
    event_clarity = models.PositiveSmallIntegerField(
        _("clarity"),
        choices=EventClarity.choices,
        null=True,
        blank=True,
        help_text=_(
            "UCDP's event clarity: clear when the reports describe this event on its own; lower clarity when it is "
            "only known as part of a summary (“clashes across the province this week”). Imported from UCDP; set it "
            "yourself otherwise."
        ),
    )

    # sources
    sources = models.ManyToManyField(
        Source, through="IncidentSource", related_name="incidents", verbose_name=_("sources")
    )

    # editorial
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    retraction_reason = models.TextField(_("retraction reason"), blank=True)
    # Set by incident_merge on the incident merged away (retracted): the change feed's tombstone points to the kept one.
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        db_index=False,  # a partial index (Meta.indexes): almost no incident is a merged duplicate
        related_name="duplicates",
        verbose_name=_("duplicate of"),
        help_text=_("The incident this one was merged into."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    external_id = models.CharField(
        _("external identifier"),
        max_length=100,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Stable key from an import or seed file."),
    )
    is_demo = models.BooleanField(
        _("synthetic demo data"), default=False, editable=False, help_text=_("Generated fiction, never reporting.")
    )
    # Database defaults on the columns Django adds after the first ones: set-based loaders (imports, the benchmark
    # generators) insert incidents in SQL and name only the columns they fill.
    dataset = models.CharField(
        _("dataset"),
        max_length=20,
        choices=Dataset.choices,
        blank=True,
        db_default="",
        editable=False,
        help_text=_("Imported from."),
    )
    event_id = models.CharField(
        _("event id in the dataset"),
        max_length=100,
        blank=True,
        db_default="",
        editable=False,
        help_text=_("e.g. SYR12345."),
    )
    import_record = models.JSONField(
        _("original record"),
        default=dict,
        db_default={},
        blank=True,
        editable=False,
        help_text=_("The row of the publisher's file as it was read, every column, so any figure can be traced back."),
    )
    # An import takes the publisher's figures as they are, out of order or not (UCDP GED ships low > best): the
    # fatality constraints exempt these rows, and an editor who changes a figure makes it ours (the flag goes).
    fatalities_as_published = models.BooleanField(
        _("fatalities as published"),
        default=False,
        db_default=False,
        editable=False,
        help_text=_(
            "The publisher's low / best / high are not in order (low ≤ best ≤ high) and are kept exactly as "
            "published; see the import warnings and the original record."
        ),
    )
    import_warnings = models.JSONField(
        _("import warnings"),
        default=list,
        db_default=[],
        blank=True,
        editable=False,
        help_text=_("The publisher's own inconsistencies in this row: [{column, value, reason}]."),
    )
    # md5 of the imported row as mapped: a re-import compares it to tell unchanged events from updated ones.
    import_fingerprint = models.CharField(max_length=32, blank=True, db_default="", editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("updated by"),
    )

    # The words `q` matches, computed by PostgreSQL on every write. Stored rather than only indexed because `q` ORs
    # the words with a substring (trigram) match, whose candidates are rechecked row by row, and for a common word
    # every match is one: reading a stored vector costs about 0.07 µs a row, parsing the four fields again 6 µs.
    search_words = models.GeneratedField(
        expression=incident_text_words(),
        output_field=SearchVectorField(),
        db_persist=True,
        verbose_name=_("words searched by the text filter"),
    )

    # search_words is derived from the fields the history already keeps. import_record changes only with an import,
    # which keeps the previous one itself (ImportChange.previous_links): a copy per version would double its weight.
    # The public location follows `location` and `sensitive`, which the history keeps.
    history = HistoricalRecords(
        excluded_fields=[
            "updated_at",
            "search_words",
            "import_record",
            "generalised_location",
            "generalised_precision",
            "public_location",
            "public_location_precision",
        ]
    )
    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        permissions = [
            ("publish_incident", _("Can publish and unpublish incidents")),
            ("retract_incident", _("Can retract incidents")),
        ]
        indexes = [
            models.Index(fields=["status", "start_date"], name="incident_status_start"),
            models.Index(fields=["end_date"], name="incident_end"),
            # Every list and export is newest first (start date, then id): the first page reads the index in order
            # instead of sorting all matching incidents.
            models.Index(fields=["-start_date", "-id"], name="incident_newest_first"),
            # "Is demo data loaded?" is asked on every page: a partial index answers it without reading incidents.
            models.Index(fields=["id"], condition=Q(is_demo=True), name="incident_demo"),
            models.Index(
                fields=["duplicate_of"], condition=Q(duplicate_of__isnull=False), name="incident_duplicate_of"
            ),
            # `q`: the word match reads the first, the substring match ("Palmyr" finds Palmyra) the trigram one, upper-
            # cased because `icontains` compares UPPER(haystack) LIKE UPPER('%…%').
            GinIndex(fields=["search_words"], name="incident_search_words"),
            GinIndex(OpClass(Upper(incident_text_haystack()), name="gin_trgm_ops"), name="incident_text_trigrams"),
            # Every public map read and bbox filter is on the public location.
            GistIndex(fields=["public_location"], name="incident_public_location"),
            # What the region view, the trends and the aggregated export count when no kept table answers (a
            # fatality threshold, several actors' incidents): the published incidents' counted columns, read from
            # the index alone (82 MB at 1 M incidents, against 511 MB of rows). At 1 M, `fatalities_min=5` by region
            # took 154 ms reading the rows and 88 ms reading this (bench/RESULTS.md, "Regions, trends ...").
            models.Index(
                fields=["id"],
                include=COUNTED_COLUMNS,
                condition=Q(status="published"),
                name="incident_published_counted",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(original_language=ContentLanguage.ENGLISH, title__gt="")
                | Q(original_language=ContentLanguage.ARABIC, title_ar__gt=""),
                name="incident_original_has_title",
                violation_error_message=_("Give the incident a title in its original language."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="incident_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(fatalities_low__isnull=True)
                | Q(fatalities_best__isnull=True)
                | Q(fatalities_low__lte=F("fatalities_best"))
                | Q(fatalities_as_published=True),
                name="incident_fatalities_low_le_best",
                violation_error_message=_("The low fatality estimate cannot exceed the best estimate."),
            ),
            models.CheckConstraint(
                condition=Q(fatalities_best__isnull=True)
                | Q(fatalities_high__isnull=True)
                | Q(fatalities_best__lte=F("fatalities_high"))
                | Q(fatalities_as_published=True),
                name="incident_fatalities_best_le_high",
                violation_error_message=_("The best fatality estimate cannot exceed the high estimate."),
            ),
            models.CheckConstraint(
                condition=Q(fatalities_low__isnull=True)
                | Q(fatalities_high__isnull=True)
                | Q(fatalities_low__lte=F("fatalities_high"))
                | Q(fatalities_as_published=True),
                name="incident_fatalities_low_le_high",
                violation_error_message=_("The low fatality estimate cannot exceed the high estimate."),
            ),
            models.CheckConstraint(
                condition=Q(location__isnull=True) | Q(Range(_point_y, (-90, 90)), Range(_point_x, (-180, 180))),
                name="incident_location_in_range",
                violation_error_message=_("Latitude must be within ±90 and longitude within ±180."),
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(location__isnull=False),
                name="incident_published_has_location",
                violation_error_message=_("A published incident needs a location."),
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.RETRACTED) | ~Q(retraction_reason=""),
                name="incident_retracted_has_reason",
                violation_error_message=_("A retracted incident needs a retraction reason."),
            ),
            models.UniqueConstraint(
                fields=["dataset", "event_id"], condition=~Q(dataset=""), name="incident_dataset_event_once"
            ),
        ]

    @property
    def admin1_label(self):
        """admin1 as a reader sees it: the governorate's Arabic name on /ar/ (the stored text stays English)."""
        return admin_area_label(self.admin1, country=self.country)

    def __str__(self):
        return self.title or self.title_ar

    @property
    def shown_title(self):
        """The title in the active language, or the other one marked as such (ShownText)."""
        return ShownText.of(english=self.title, arabic=self.title_ar)

    @property
    def shown_description(self):
        return ShownText.of(english=self.description, arabic=self.description_ar)

    @property
    def place_label(self):
        """Where, as a reader of the active language knows it: on /ar/ the coded place's Arabic name when the gazetteer
        has one (the linked place, or the place of that name), else the report's own words (or the coded name)."""
        if get_language() == "ar":
            if self.place_id:
                arabic = self.place.name_ar
            else:
                key = (str(self.country), self.admin1, self.place_name)
                arabic = place_arabic_names([key]).get(key)
            if arabic:
                return arabic
        return self.place_reported or self.place_name

    @property
    def public_place_label(self):
        """Where, as the public may see it: a generalised incident names only its district (or region), never the
        coded or reported place, which could point to the spot its public location hides."""
        if self.shown_generalised:
            return admin_area_label(self.admin2, country=self.country, model=District) or self.admin1_label
        return self.place_label

    @property
    def public_place_reported(self):
        return "" if self.shown_generalised else self.place_reported

    @property
    def dataset_attribution(self):
        """The wording the dataset's publisher requires wherever its events are shown, with the version cited."""
        if not self.dataset:
            return ""
        cited = self.sources.filter(url=DATASET_URL[self.dataset]).order_by("-id").first()
        return cited.publisher if cited else DATASET_ATTRIBUTION[self.dataset]

    def get_absolute_url(self):
        return reverse("incidents:detail", args=[self.pk])

    # Computed by the database on every write (aggregates/privacy.py): a saved incident reads them again when asked.
    DATABASE_COMPUTED = (
        "generalised_location",
        "generalised_precision",
        "public_location",
        "public_location_precision",
    )

    def save(self, *args, **kwargs):
        if self.end_date is None:
            self.end_date = self.start_date
        super().save(*args, **kwargs)
        for name in self.DATABASE_COMPUTED:
            self.__dict__.pop(name, None)

    def clean(self):
        """The same invariants as the database constraints, in the same words, on the fields an editor must fix."""
        if self.end_date is None:
            self.end_date = self.start_date
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date cannot be before the start date.")
        errors.update(self._fatality_order_errors())
        original_title = "title_ar" if self.original_language == ContentLanguage.ARABIC else "title"
        if not getattr(self, original_title):
            errors[original_title] = _("Give the incident a title in its original language.")
        if self.location is not None and not (-90 <= self.location.y <= 90 and -180 <= self.location.x <= 180):
            errors["location"] = _("Latitude must be within ±90 and longitude within ±180.")
        if self.status == Status.PUBLISHED and self.location is None:
            errors["location"] = _("A published incident needs a location.")
        if self.status == Status.RETRACTED and not self.retraction_reason.strip():
            errors["retraction_reason"] = _("A retracted incident needs a retraction reason.")
        if self.sub_event_type_id and self.event_type_id and self.sub_event_type.event_type_id != self.event_type_id:
            errors["sub_event_type"] = _("“%(sub)s” is not a sub-type of “%(type)s”.") % {
                "sub": self.sub_event_type.name,
                "type": self.event_type.name,
            }
        if errors:
            raise ValidationError(errors)

    def _fatality_order_errors(self):
        """low ≤ best ≤ high, unless the figures are a publisher's, kept as published (see the flag)."""
        if self.fatalities_as_published:
            return {}
        errors = {}
        low, best, high = self.fatalities_low, self.fatalities_best, self.fatalities_high
        if low is not None and best is not None and best < low:
            errors["fatalities_best"] = _("The low fatality estimate cannot exceed the best estimate.")
        if best is not None and high is not None and high < best:
            errors["fatalities_high"] = _("The best fatality estimate cannot exceed the high estimate.")
        elif low is not None and high is not None and high < low:
            errors["fatalities_high"] = _("The low fatality estimate cannot exceed the high estimate.")
        return errors

    @property
    def latitude(self):
        return self.location.y if self.location else None

    @property
    def longitude(self):
        return self.location.x if self.location else None

    @property
    def public_latitude(self):
        return self.public_location.y if self.public_location else None

    @property
    def public_longitude(self):
        return self.public_location.x if self.public_location else None

    @property
    def public_precision_label(self):
        return LocationPrecision(self.public_location_precision).label if self.public_location_precision else ""

    @property
    def shown_generalised(self):
        """Whether the public sees this incident at a generalised location (it, or a source it cites, is sensitive)."""
        return self.generalised_location is not None


class IncidentActor(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="incident_actors", verbose_name=_("incident")
    )
    # Indexed with the incident and side under Meta.indexes.
    actor = models.ForeignKey(
        Actor, on_delete=models.PROTECT, related_name="incident_roles", db_index=False, verbose_name=_("actor")
    )
    side = models.CharField(_("side"), max_length=1, choices=Side.choices)
    is_associated = models.BooleanField(
        _("associated actor"),
        default=False,
        help_text=_("Fought alongside the side's main actor (ACLED's assoc_actor), e.g. allied militias."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["side", "is_associated", "id"]
        verbose_name = _("actor in incident")
        verbose_name_plural = _("actors in incident")
        constraints = [
            models.UniqueConstraint(fields=["incident", "actor"], name="incident_actor_once"),
        ]
        indexes = [
            # An actor's incidents, read from the index alone: the map finds the incidents naming several chosen
            # actors by counting these (map.cells.incident_map_cell_clusters).
            models.Index(fields=["actor", "incident"], include=["side"], name="incident_actor_by_actor"),
        ]

    def __str__(self):
        return f"{self.actor} ({self.get_side_display()})"


class IncidentSource(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="incident_sources", verbose_name=_("incident")
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="cited_by", verbose_name=_("source"))
    # One article often relays several reporters (SOHR for one incident, Interfax for another).
    original_reporter = models.CharField(
        _("original reporter"),
        max_length=200,
        blank=True,
        help_text=_("Who the source relays for this incident, e.g. the Syrian Observatory for Human Rights."),
    )
    note = models.CharField(
        _("note"), max_length=300, blank=True, help_text=_("What this source says about the incident, if it differs.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("source cited")
        verbose_name_plural = _("sources cited")
        constraints = [
            models.UniqueConstraint(fields=["incident", "source"], name="incident_source_once"),
        ]

    def __str__(self):
        return str(self.source)


class SourceArchiveStorage(FileSystemStorage):
    """SOURCE_ARCHIVE_DIR, read when used (tests point it elsewhere), and no URL: captures are never served as plain
    files, only through views that check who may see them (incidents/archive.py)."""

    @property
    def base_location(self):
        return str(settings.SOURCE_ARCHIVE_DIR)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def source_archive_storage():
    return SourceArchiveStorage()


class CaptureStatus(models.TextChoices):
    CAPTURED = "captured", _("captured")
    FAILED = "failed", _("failed")


class SourceCaptureQuerySet(models.QuerySet):
    def captured(self):
        return self.filter(status=CaptureStatus.CAPTURED)

    def public(self):
        """Successful captures of sources that a published incident cites: the only ones the public may read. A
        sensitive source's capture never is: its page would show the URL and the witness the source protects."""
        cited = IncidentSource.objects.filter(source=models.OuterRef("source"), incident__status=Status.PUBLISHED)
        return self.captured().filter(models.Exists(cited), source__sensitive=False)

    def latest_per_source(self):
        """The newest capture of each source (PostgreSQL's DISTINCT ON)."""
        return self.order_by("source_id", "-captured_at", "-id").distinct("source_id")


class SourceCapture(models.Model):
    """One fetch of a source's URL, kept as a WARC file (incidents/archive.py); a source keeps all of its captures,
    and its newest successful one is its archived copy."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="captures", verbose_name=_("source"))
    status = models.CharField(_("status"), max_length=10, choices=CaptureStatus.choices)
    url = models.URLField(_("URL asked for"), max_length=1000, help_text=_("The source's URL when it was fetched."))
    final_url = models.URLField(
        _("final URL"), max_length=2000, blank=True, help_text=_("Where the redirects, if any, ended.")
    )
    captured_at = models.DateTimeField(_("captured at"), db_index=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=200, blank=True)
    size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True, help_text=_("Of the page itself."))
    payload_sha256 = models.CharField(
        _("SHA-256 of the page"),
        max_length=64,
        blank=True,
        help_text=_("Of the page's bytes as the server sent them (the WARC record's payload)."),
    )
    warc = models.FileField(_("WARC file"), storage=source_archive_storage, max_length=300, blank=True)
    warc_sha256 = models.CharField(_("SHA-256 of the WARC file"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True, help_text=_("Why the fetch failed."))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )

    objects = SourceCaptureQuerySet.as_manager()

    class Meta:
        ordering = ["-captured_at", "-id"]
        verbose_name = _("source capture")
        verbose_name_plural = _("source captures")
        indexes = [models.Index(fields=["source", "-captured_at"], name="source_capture_latest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="failed") | (~Q(warc="") & ~Q(payload_sha256="")),
                name="source_capture_has_warc",
                violation_error_message=_("A successful capture has its WARC file and hash."),
            ),
        ]

    def __str__(self):
        return f"{self.source_id} @ {self.captured_at:%Y-%m-%d %H:%M}"


def media_original_storage():
    """Originals of attached media: private (staff read them through the admin), never served as files."""
    return FileSystemStorage(location=settings.MEDIA_ORIGINALS_DIR)


def media_public_storage():
    """Public copies: served only through the media view, which checks that the incident is published."""
    return FileSystemStorage(location=settings.MEDIA_PUBLIC_DIR)


def media_file_name(media, filename):
    # Our own name, never the uploader's (a path, a script name): the original name is kept in `original_name`.
    return f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{MEDIA_EXTENSIONS[media.content_type]}"


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")


class MediaContentType(models.TextChoices):
    JPEG = "image/jpeg", "JPEG"
    PNG = "image/png", "PNG"
    WEBP = "image/webp", "WebP"
    MP4 = "video/mp4", "MP4"
    WEBM = "video/webm", "WebM"


class IncidentMediaQuerySet(models.QuerySet):
    def public(self):
        """What a visitor may see: media of published incidents that have a public copy."""
        return self.filter(incident__status=Status.PUBLISHED).exclude(public_copy="")

    def shown_in_previews(self):
        """Neither graphic nor identifying: the only media a popup, list, feed or the public JSON may carry."""
        return self.filter(graphic=False, identifying=False)


class IncidentMedia(models.Model):
    """An image or a video attached to an incident: the original as uploaded (staff only) and a public copy without
    its metadata (incidents/media.py), with the fingerprints that find it again elsewhere."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="media", verbose_name=_("incident"))
    kind = models.CharField(_("kind"), max_length=5, choices=MediaKind.choices, editable=False)
    original = models.FileField(
        _("file"),
        storage=media_original_storage,
        upload_to=media_file_name,
        max_length=200,
        help_text=_("JPEG, PNG, WebP, MP4 or WebM. The original is kept for staff only."),
    )
    original_name = models.CharField(_("uploaded file name"), max_length=255, blank=True, editable=False)
    public_copy = models.FileField(
        _("public copy"), storage=media_public_storage, upload_to=media_file_name, max_length=200, blank=True,
        editable=False,
    )  # fmt: skip
    content_type = models.CharField(
        _("type"),
        max_length=20,
        choices=MediaContentType.choices,
        editable=False,
        help_text=_("Read from the file's content."),
    )
    sha256 = models.CharField(_("SHA-256 of the original"), max_length=64, db_index=True, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"), editable=False)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True, editable=False)
    # imagehash's 64-bit pHash, signed to fit a bigint; near duplicates differ in few bits (MEDIA_NEAR_DUPLICATE_BITS).
    perceptual_hash = models.BigIntegerField(_("perceptual hash"), null=True, blank=True, editable=False)
    caption = models.CharField(_("caption (English)"), max_length=500, blank=True)
    caption_ar = models.CharField(_("caption (Arabic)"), max_length=500, blank=True)
    credit = models.CharField(_("credit"), max_length=200, blank=True, help_text=_("Who made or first published it."))
    graphic = models.BooleanField(
        _("graphic"), default=False, help_text=_("Shows death or injury: blurred behind a warning, never in previews.")
    )
    identifying = models.BooleanField(
        _("identifying"),
        default=False,
        help_text=_("Shows faces or details that identify a person: blurred behind a warning, never in previews."),
    )
    video_cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("video cleared for the public by"),
    )
    video_cleared_at = models.DateTimeField(_("video cleared at"), null=True, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = IncidentMediaQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "id"]
        verbose_name = _("media item")
        verbose_name_plural = _("media")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=MediaKind.VIDEO) | Q(perceptual_hash__isnull=False),
                name="incident_media_image_has_hash",
            ),
            models.CheckConstraint(
                condition=Q(kind=MediaKind.IMAGE, content_type__startswith="image/")
                | Q(kind=MediaKind.VIDEO, content_type__startswith="video/"),
                name="incident_media_kind_matches_type",
            ),
        ]

    def __str__(self):
        return self.original_name or f"{self.get_kind_display()} {self.pk}"

    @property
    def sensitive(self):
        return self.graphic or self.identifying

    @property
    def shown_caption(self):
        return ShownText.of(english=self.caption, arabic=self.caption_ar)

    def get_absolute_url(self):
        return reverse("incidents:media-public", args=[self.pk])


@receiver(post_delete, sender=IncidentMedia)
def media_files_delete(sender, instance, **kwargs):
    """An item's files go once its row is gone for good (removed in the inline, or with its incident): after the
    commit, so a rolled-back delete keeps them. Rows deleted in SQL (an import's revert never has media) skip this."""

    def delete():
        for stored in (instance.original, instance.public_copy):
            if stored:
                stored.storage.delete(stored.name)

    transaction.on_commit(delete, using=kwargs.get("using"))


# --- What the public side reads instead of scanning incidents: kept current by database triggers (declared in
# incidents/aggregates/registry.py), never written by Django. Only published incidents are counted in them.


class DataVersion(models.Model):
    """One row: a number the database bumps on every write that can change a public answer, and when.

    ETags and Last-Modified of every public output come from it, in one primary-key read, whatever the data size.
    """

    version = models.BigIntegerField(_("version"))
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("public data version")
        verbose_name_plural = _("public data version")


def kept_reference(to, verbose_name):
    """A kept table's reference to what it counts by (an event type, an actor, a term): no foreign-key constraint,
    as the triggers write what the incidents name, and no index of its own. The reads go by the key's unique index
    or read a range of months, never by this column alone, while every index is one more entry for each kept row
    written (some 25 million in a million-row import; docs/architecture.md, "Tables PostgreSQL keeps")."""
    return models.ForeignKey(
        to,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=verbose_name,
    )


class TimelineCell(models.Model):
    """Published incidents and their fatalities (best estimates) per start day, end day, event type and region."""

    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    event_type = kept_reference(EventType, _("event type"))
    country = models.CharField(_("country"), max_length=2)
    admin1 = models.CharField(_("admin1 (governorate / province)"), max_length=100)
    incidents = models.IntegerField(_("incidents"))
    fatalities = models.BigIntegerField(_("fatalities"))

    class Meta:
        verbose_name = _("timeline cell")
        verbose_name_plural = _("timeline cells")
        constraints = [
            models.UniqueConstraint(
                fields=["start_date", "end_date", "event_type", "country", "admin1"], name="timeline_cell_key"
            ),
        ]
        indexes = [
            models.Index(fields=["country", "admin1", "start_date"], name="timeline_cell_region"),
            # The triggers delete emptied cells right after each write: this finds them without a scan.
            models.Index(fields=["id"], condition=Q(incidents=0), name="timeline_cell_empty"),
        ]


class TimelineDay(models.Model):
    """TimelineCell summed over regions: what the timeline reads when no country or region is filtered."""

    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    event_type = kept_reference(EventType, _("event type"))
    incidents = models.IntegerField(_("incidents"))
    fatalities = models.BigIntegerField(_("fatalities"))

    class Meta:
        verbose_name = _("timeline day")
        verbose_name_plural = _("timeline days")
        constraints = [
            models.UniqueConstraint(fields=["start_date", "end_date", "event_type"], name="timeline_day_key"),
        ]
        indexes = [models.Index(fields=["id"], condition=Q(incidents=0), name="timeline_day_empty")]


# The map's pre-aggregated grid: 2**12 columns round the world, Web Mercator rows of the same height (about 10 km at
# the equator, 8 km in Syria). The map's cluster cells at zoom <= 11 are whole blocks of these (cells divide 360°
# by powers of two), so their counts are sums of MapCell rows. The SQL functions conflictmap_cell_x/_y (written from
# incidents/map/grid.py) compute a point's cell, for the triggers and for the live queries alike.
MAP_CELL_LEVEL = 12


class MapCellCounts(models.Model):
    """What every map-cell table keeps per key: published incidents in one fine map cell (4,096 columns round the
    world, Web Mercator rows of the same height) with one start month, end month, event type, region and location
    precision, their fatalities and the sums of their coordinates (a cluster sits at their centroid)."""

    cell_x = models.IntegerField(_("map cell column"))
    cell_y = models.IntegerField(_("map cell row"))
    start_month = models.DateField(_("start month"))
    end_month = models.DateField(_("end month"))
    event_type = kept_reference(EventType, _("event type"))
    country = models.CharField(_("country"), max_length=2)
    admin1 = models.CharField(_("admin1 (governorate / province)"), max_length=100)
    location_precision = models.PositiveSmallIntegerField(_("location precision"), choices=LocationPrecision.choices)
    incidents = models.IntegerField(_("incidents"))
    fatalities = models.BigIntegerField(_("fatalities"))
    sum_x = models.FloatField(_("sum of longitudes"))
    sum_y = models.FloatField(_("sum of latitudes"))

    # The key every table shares; each adds its own columns to it.
    KEY = ["cell_x", "cell_y", "start_month", "end_month", "event_type", "country", "admin1", "location_precision"]

    class Meta:
        abstract = True


class MapCell(MapCellCounts):
    """Published incidents per fine map cell, start and end month, event type, region and location precision (kept
    by triggers, incidents/aggregates/registry.py MAP_CELL).

    Months rather than days: a view over years reads one row where days would need thirty; the map feed counts the
    incidents of the partial months at a date filter's edges live (map.cells.incident_map_cell_clusters).
    """

    class Meta:
        verbose_name = _("map cell")
        verbose_name_plural = _("map cells")
        constraints = [models.UniqueConstraint(fields=MapCellCounts.KEY, name="map_cell_key")]
        indexes = [
            # The triggers delete emptied cells right after each write: this finds them without a scan.
            models.Index(fields=["id"], condition=Q(incidents=0), name="map_cell_empty"),
        ]


class MapDetailCounts(MapCellCounts):
    """The map cells split further by what the map's other filters ask of an incident: its sub-type (0 when it has
    none) and its best fatality estimate (-1 when unknown, which no `fatalities_min` reaches, as the filter leaves
    unknown estimates out)."""

    sub_type = models.IntegerField(_("sub-event type id (0 when none)"))
    fatalities_best = models.IntegerField(_("fatalities (best estimate; -1 unknown)"))

    DETAIL_KEY = [*MapCellCounts.KEY, "sub_type", "fatalities_best"]

    class Meta:
        abstract = True


class MapActorCell(MapDetailCounts):
    """The published incidents each actor takes part in, by side, per map cell and detail
    (incidents/aggregates/registry.py MAP_ACTOR_CELL), kept by triggers on incidents and their actor links.

    An incident names an actor once, so the map reads one actor's clusters from here exactly (with any of the other
    kept filters); several actors' rows hold an incident naming m of them m times, and the map subtracts the
    surplus of those few incidents, found from their links.
    """

    actor = kept_reference(Actor, _("actor"))
    side = models.CharField(_("side"), max_length=1, choices=Side.choices)

    class Meta:
        verbose_name = _("map cell of an actor")
        verbose_name_plural = _("map cells of actors")
        # Actor first: the map reads one actor's rows.
        constraints = [
            models.UniqueConstraint(fields=["actor", "side", *MapDetailCounts.DETAIL_KEY], name="map_actor_cell_key")
        ]
        indexes = [models.Index(fields=["id"], condition=Q(incidents=0), name="map_actor_cell_empty")]


class MapActorPairCell(MapDetailCounts):
    """The published incidents that name both of two actors, by their sides, per map cell and detail
    (incidents/aggregates/registry.py MAP_ACTOR_PAIR_CELL), kept by triggers on incidents and their actor links.

    Two actors' clusters are their MapActorCell rows less these (an incident naming both is in each actor's rows):
    a dyad, the usual pair to follow, is read from tables however many incidents its actors share.
    """

    actor_low = kept_reference(Actor, _("actor (lower id)"))
    side_low = models.CharField(_("side of the actor with the lower id"), max_length=1, choices=Side.choices)
    actor_high = kept_reference(Actor, _("actor (higher id)"))
    side_high = models.CharField(_("side of the actor with the higher id"), max_length=1, choices=Side.choices)

    class Meta:
        verbose_name = _("map cell of a pair of actors")
        verbose_name_plural = _("map cells of pairs of actors")
        constraints = [
            models.UniqueConstraint(
                fields=["actor_low", "actor_high", "side_low", "side_high", *MapDetailCounts.DETAIL_KEY],
                name="map_actor_pair_cell_key",
            )
        ]
        indexes = [models.Index(fields=["id"], condition=Q(incidents=0), name="map_actor_pair_cell_empty")]


class MapDetailCell(MapDetailCounts):
    """MapCell split by sub-type and best fatality estimate (incidents/aggregates/registry.py MAP_DETAIL_CELL): the map
    reads a sub-type's or a fatality threshold's clusters from here."""

    class Meta:
        verbose_name = _("map cell by detail")
        verbose_name_plural = _("map cells by detail")
        constraints = [models.UniqueConstraint(fields=MapDetailCounts.DETAIL_KEY, name="map_detail_cell_key")]
        indexes = [models.Index(fields=["id"], condition=Q(incidents=0), name="map_detail_cell_empty")]


class MapTerm(models.Model):
    """A word of the text filter (`q`) common enough that counting its matches live is slow; the map keeps its
    clusters in MapTermCell. Chosen by `manage.py refresh_map_terms`: which words are chosen only decides what is
    read from the table rather than counted live, never a count."""

    term = models.CharField(
        _("term"), max_length=200, unique=True, help_text=_("One word of letters and digits, in lower case.")
    )
    incidents = models.IntegerField(
        _("incidents"), help_text=_("Published incidents on the map that the word matched when it was chosen.")
    )

    class Meta:
        ordering = ["-incidents"]
        verbose_name = _("map search term")
        verbose_name_plural = _("map search terms")
        constraints = [models.CheckConstraint(condition=Q(term=Lower("term")), name="map_term_lower_case")]

    def __str__(self):
        return self.term


class MapTermCell(MapCellCounts):
    """MapCell for the incidents each MapTerm matches as `q` (incidents/aggregates/registry.py MAP_TERM_CELL), kept by
    triggers on the incidents for whatever terms exist, with the text filter's own condition."""

    term = kept_reference(MapTerm, _("term"))

    class Meta:
        verbose_name = _("map cell of a search term")
        verbose_name_plural = _("map cells of search terms")
        # Term first: the map reads one term's rows.
        constraints = [models.UniqueConstraint(fields=["term", *MapCellCounts.KEY], name="map_term_cell_key")]
        indexes = [models.Index(fields=["id"], condition=Q(incidents=0), name="map_term_cell_empty")]


class IncidentFeature(models.Model):
    """A published incident as the GeoJSON Feature text the API pages, OGC items and the full download send (kept by
    triggers, from incidents/public.py's feature).

    Built once per write instead of once per request: a feature joins its actors, sources, event type, sub-type and
    country name. Drafts and retractions have no row.
    """

    incident = models.OneToOneField(
        Incident,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    feature = models.TextField(_("GeoJSON feature"))

    class Meta:
        verbose_name = _("incident feature")
        verbose_name_plural = _("incident features")


class PublishedRegion(models.Model):
    """Countries and regions that published incidents have, with how many: the map's filter choices."""

    country = models.CharField(_("country"), max_length=2)
    admin1 = models.CharField(_("admin1 (governorate / province)"), max_length=100)
    incidents = models.IntegerField(_("incidents"))

    class Meta:
        verbose_name = _("published region")
        verbose_name_plural = _("published regions")
        constraints = [models.UniqueConstraint(fields=["country", "admin1"], name="published_region_key")]


class RegionSums(models.Model):
    """A kept region table's region and sums: incidents and the sums of their three fatality estimates.

    An unknown low or high estimate adds the best one (0 when that is unknown too), so low <= best <= high holds for
    every sum as it does for every incident."""

    country = models.CharField(_("country"), max_length=2)
    admin1 = models.CharField(_("admin1 (governorate / province)"), max_length=100)
    admin2 = models.CharField(_("admin2 (district)"), max_length=100)
    incidents = models.IntegerField(_("incidents"))
    fatalities_low = models.BigIntegerField(_("fatalities (low)"))
    fatalities = models.BigIntegerField(_("fatalities (best estimate)"))
    fatalities_high = models.BigIntegerField(_("fatalities (high)"))

    class Meta:
        abstract = True


class RegionMonth(RegionSums):
    """Published incidents per start month, end month, event type, sub-type, region, district and location precision:
    the region view's, the trends' and the aggregated export's counts (aggregates/registry.py)."""

    start_month = models.DateField(_("start month"))
    end_month = models.DateField(_("end month"))
    event_type = kept_reference(EventType, _("event type"))
    sub_type = models.IntegerField(_("sub-event type (0 none)"))
    location_precision = models.PositiveSmallIntegerField(_("location precision"))

    class Meta:
        verbose_name = _("region month")
        verbose_name_plural = _("region months")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "start_month",
                    "end_month",
                    "event_type",
                    "sub_type",
                    "country",
                    "admin1",
                    "admin2",
                    "location_precision",
                ],
                name="region_month_key",
            )
        ]
        indexes = [models.Index(fields=["id"], condition=Q(incidents=0), name="region_month_empty")]


class RegionWeek(RegionSums):
    """RegionMonth by the ISO week of the start date too: the weekly trends and ACLED's weekly aggregated shape."""

    start_week = models.DateField(_("start week (its Monday)"))
    start_month = models.DateField(_("start month"))
    end_month = models.DateField(_("end month"))
    event_type = kept_reference(EventType, _("event type"))
    sub_type = models.IntegerField(_("sub-event type (0 none)"))
    location_precision = models.PositiveSmallIntegerField(_("location precision"))

    class Meta:
        verbose_name = _("region week")
        verbose_name_plural = _("region weeks")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "start_week",
                    "start_month",
                    "end_month",
                    "event_type",
                    "sub_type",
                    "country",
                    "admin1",
                    "admin2",
                    "location_precision",
                ],
                name="region_week_key",
            )
        ]
        indexes = [models.Index(fields=["id"], condition=Q(incidents=0), name="region_week_empty")]


class RegionActorMonth(RegionSums):
    """Actor links of published incidents per actor, side, start month, end month, event type, region and district:
    the region view and the trends of chosen actors, and the trends by actor."""

    actor = kept_reference(Actor, _("actor"))
    side = models.CharField(_("side"), max_length=1)
    start_month = models.DateField(_("start month"))
    end_month = models.DateField(_("end month"))
    event_type = kept_reference(EventType, _("event type"))

    class Meta:
        verbose_name = _("region actor month")
        verbose_name_plural = _("region actor months")
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "side", "start_month", "end_month", "event_type", "country", "admin1", "admin2"],
                name="region_actor_month_key",
            )
        ]
        indexes = [models.Index(fields=["id"], condition=Q(incidents=0), name="region_actor_month_empty")]


class PublishedActor(models.Model):
    """Actors that published incidents show, with in how many: the map's actor choices."""

    actor = models.OneToOneField(
        Actor, on_delete=models.DO_NOTHING, db_constraint=False, primary_key=True, related_name="+"
    )
    incidents = models.IntegerField(_("incidents"))

    class Meta:
        verbose_name = _("published actor")
        verbose_name_plural = _("published actors")


# The publishers' required attribution (ACLED's terms of use; UCDP's citation guidance); not translated.
DATASET_ATTRIBUTION = {
    Dataset.ACLED: "Armed Conflict Location & Event Data Project (ACLED); acleddata.com",
    Dataset.UCDP_GED: "UCDP Georeferenced Event Dataset (GED) Global version",
}
DATASET_URL = {Dataset.ACLED: "https://acleddata.com/", Dataset.UCDP_GED: "https://ucdp.uu.se/"}


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PREVIEW = "preview", _("Preview ready")
    REJECTED = "rejected", _("Rejected (nothing written)")
    FAILED = "failed", _("Failed (nothing written)")
    DONE = "done", _("Imported")
    REVERTED = "reverted", _("Reverted")


class ImportBatch(models.Model):
    """One run of an ACLED / UCDP GED file: what was asked, what happened, and the bad-row report."""

    file_name = models.CharField(_("file name"), max_length=300)
    checksum = models.CharField(_("SHA-256 checksum"), max_length=64, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), default=0)
    # Where an upload waits between the admin's preview and its confirmation; empty for the command line.
    upload_path = models.CharField(max_length=500, blank=True, editable=False)
    dataset = models.CharField(_("format"), max_length=20, choices=Dataset.choices, blank=True)
    dataset_version = models.CharField(_("dataset version or export date"), max_length=100, blank=True)
    requested_status = models.CharField(
        _("status of new incidents"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    retract_missing = models.BooleanField(_("retract events missing from the file"), default=False)
    dry_run = models.BooleanField(_("dry run"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    bytes_read = models.PositiveBigIntegerField(_("bytes read"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected rows"), default=0)
    warnings = models.PositiveIntegerField(
        _("warnings"), default=0, help_text=_("The publisher's own inconsistencies, imported as published.")
    )
    missing = models.PositiveIntegerField(_("missing from the file"), default=0)
    retracted = models.PositiveIntegerField(_("retracted"), default=0)
    message = models.TextField(_("message"), blank=True)
    # {"errors" / "warnings": [{"line", "column", "value", "reason"}], "missing": [event ids],
    #  "new_actors": [{"name", "kind", "rows"}]}
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    reverted_at = models.DateTimeField(_("reverted at"), null=True, blank=True)
    # The queue's job that runs the batch (the last one, after a run again); empty for the command line. No database
    # constraint: the queue's tables are procrastinate's own.
    job = models.ForeignKey(
        "procrastinate.ProcrastinateJob",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("background job"),
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        permissions = [("import_events", _("Can import ACLED and UCDP GED files"))]

    def __str__(self):
        return f"#{self.pk} {self.file_name}"

    @property
    def may_run_again(self):
        """A failed batch whose uploaded file is still there (kept for this) can be queued once more."""
        return self.status == ImportStatus.FAILED and bool(self.upload_path) and Path(self.upload_path).exists()

    @property
    def progress_percent(self):
        return min(100, round(100 * self.bytes_read / self.file_size)) if self.file_size else 0


class ImportChangeAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    RETRACTED = "retracted", _("Retracted as missing")


class ImportChange(models.Model):
    """An incident a batch created or changed, with its links as they were, so that the batch can be reverted."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes", verbose_name=_("batch"))
    # No foreign key: reverting deletes the incidents a batch created, and the record of that stays.
    incident_id = models.BigIntegerField(_("incident id"))
    action = models.CharField(_("action"), max_length=10, choices=ImportChangeAction.choices)
    # {"actors": [{actor_id, side, is_associated}], "sources": [{source_id, original_reporter, note}]} before the batch
    previous_links = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("imported change")
        verbose_name_plural = _("imported changes")
        indexes = [models.Index(fields=["incident_id"], name="import_change_incident")]


class ChangeKind(models.TextChoices):
    """What a change did to the public set (the change feed, /api/changes)."""

    CREATED = "created", _("Created")  # entered the public set: published, or published again
    UPDATED = "updated", _("Updated")  # still public, its public feature changed
    UNPUBLISHED = "unpublished", _("Unpublished")  # back to draft: left the public set
    RETRACTED = "retracted", _("Retracted")  # left the public set with a retraction note
    DELETED = "deleted", _("Deleted")  # removed from the database (an import reverted)


class IncidentChange(models.Model):
    """One change to the public set, in commit order (its id): written by triggers on IncidentFeature
    (aggregates/triggers.py), never by Django. It holds no content: the feed reads the current feature, so a change
    that later left the public set (retracted, unpublished, a location coarsened) is never sent again."""

    incident_id = models.BigIntegerField(_("incident id"))  # no foreign key: a deleted incident keeps its record
    kind = models.CharField(_("kind"), max_length=12, choices=ChangeKind.choices)
    # The public feature's members that changed (properties, or "geometry"), for an update.
    fields = ArrayField(models.TextField(), verbose_name=_("changed fields"), default=list, blank=True)
    note = models.TextField(_("retraction note"), blank=True)
    # A retraction by a merge (services.incident_merge): the incident that now holds this one's sources.
    duplicate_of = models.BigIntegerField(_("duplicate of"), null=True, blank=True)
    data_version = models.BigIntegerField(_("data version"))
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("public change")
        verbose_name_plural = _("public changes")
        # A full download's token names a data version: its last change is found here at once (ids and versions
        # grow together, but one import's 100,000 changes share a version).
        indexes = [models.Index(fields=["data_version", "id"], name="incident_change_version")]


class Release(models.Model):
    """A numbered, frozen copy of the published set (incidents/releases.py writes its files): what a citation names
    and `?release=<name>` answers from, whatever changed since."""

    name = models.SlugField(_("name"), max_length=100, unique=True)
    number = models.PositiveIntegerField(_("number"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    data_version = models.BigIntegerField(_("data version"))
    incidents = models.PositiveIntegerField(_("incidents"))
    # {"files": {name: {"bytes", "sha256"}}, "citation", …}: the manifest.json written beside the files.
    manifest = models.JSONField(_("manifest"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["-number"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")

    def __str__(self):
        return f"{self.number}: {self.name}"


class ReleaseFeature(models.Model):
    """One incident of a release as the public saw it then: its frozen GeoJSON feature and the columns the filters a
    release can apply read (incidents/releases.py writes them in the release's snapshot). `?release=` pages and
    filters these rows, so a release answers as it was whatever is edited, retracted, added or deleted since."""

    # Indexed by the two indexes below, which lead with it.
    release = models.ForeignKey(
        Release, on_delete=models.CASCADE, db_index=False, related_name="+", verbose_name=_("release")
    )
    # Not a foreign key: an incident deleted since is still in its release.
    incident_id = models.BigIntegerField(_("incident id"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    event_type = models.CharField(_("event type"), max_length=100)  # the slug, as the filter names it
    sub_event_type = models.CharField(_("sub-event type"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    admin1 = models.CharField(_("admin1 (governorate / province)"), max_length=100, blank=True)
    fatalities_best = models.PositiveIntegerField(_("fatalities (best estimate)"), null=True, blank=True)
    location_precision = models.PositiveSmallIntegerField(_("location precision"))
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    feature = models.TextField(_("GeoJSON feature"))

    class Meta:
        verbose_name = _("released incident")
        verbose_name_plural = _("released incidents")
        constraints = [
            models.UniqueConstraint(fields=["release", "incident_id"], name="release_feature_incident"),
        ]
        # Pages in export order (newest first, id breaking ties), as the live API's; the bbox filter's GiST index is
        # the PointField's own.
        indexes = [models.Index(F("release"), F("start_date").desc(), F("incident_id").desc(), name="release_order")]
