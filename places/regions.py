"""Which region (governorate) and district contain a point, and which region a name means.

Containment runs on the boundaries' GiST indexes (ST_Covers, so a point on a line counts as inside). A point in no
polygon (at sea, or in a country without regions) gives no region: the caller keeps the country only.
"""

from dataclasses import dataclass

from django.contrib.gis.geos import Point

from .models import District, Region
from .names import name_key, skeleton_key

# Regions carved out of another since older files were coded: such files place the new region's places in the old
# one (UCDP codes Khurmal, Halabja since 2014, in As Sulaymaniyah province).
FORMER_PARTS = {("IQ", "Sulaymaniyah"): ("Halabja",)}


@dataclass(frozen=True)
class AdminAreas:
    region: Region | None
    district: District | None

    @property
    def admin1(self):
        return self.region.name if self.region else ""

    @property
    def admin2(self):
        return self.district.name if self.district else ""


def _as_point(point):
    if point.srid in (None, 4326):
        return Point(point.x, point.y, srid=4326)
    return point.transform(4326, clone=True)


def admin_areas_at(point):
    """The region and district whose boundaries cover `point` (a GEOS Point, SRID 4326 assumed if none)."""
    if point is None:
        return AdminAreas(None, None)
    point = _as_point(point)
    # Districts tile their regions, so the covering district names the region too: one index probe on the smaller
    # polygons, and neither boundary is sent back (a governorate's runs to thousands of vertices).
    district = (
        District.objects.select_related("region")
        .defer("boundary", "region__boundary")
        .filter(boundary__covers=point)
        .order_by("wof_id")
        .first()
    )
    if district is not None:
        return AdminAreas(district.region, district)
    return AdminAreas(Region.objects.defer("boundary").filter(boundary__covers=point).order_by("wof_id").first(), None)


def country_has_regions(country):
    """Whether governorate polygons are loaded for `country` (ISO code or django-countries Country)."""
    return bool(country) and Region.objects.filter(country=str(country)).exists()


def admin_area_labels(pairs, *, model=Region):
    """{(country, name): the name in the active language} for the regions (or districts) among `pairs`; a name
    that is not a region's (another country's admin1, an old text) is its own label."""
    pairs = {(str(country), name) for country, name in pairs if name}
    labels = {pair: pair[1] for pair in pairs}
    names = {name for _country, name in pairs}
    for area in model.objects.filter(name__in=names).only("country", "name", "name_ar"):
        if (str(area.country), area.name) in labels:
            labels[(str(area.country), area.name)] = area.display_name
    return labels


def admin_area_label(name, *, country, model=Region):
    return admin_area_labels([(country, name)], model=model).get((str(country), name), name) if name else ""


def region_named(text, *, country=None):
    """The region `text` names in any spelling ("Deir-ez-Zor", "Dayr az Zawr governorate", "دير الزور"), or None.

    A trailing "governorate" / "province" is ignored; a name two countries' regions share needs `country`.
    """
    return _area_named(Region, text, country=country)


def district_named(text, *, country=None, region=None):
    queryset = District.objects.filter(region=region) if region is not None else District.objects.all()
    return _area_named(queryset, text, country=country)


def _area_named(model_or_queryset, text, *, country=None):
    key = name_key(text)
    if not key:
        return None
    queryset = model_or_queryset.objects.all() if hasattr(model_or_queryset, "objects") else model_or_queryset
    if country:
        queryset = queryset.filter(country=str(country))
    for candidate_key in dict.fromkeys([key, _without_area_word(key)]):
        found = list(queryset.filter(name_keys__contains=[candidate_key])[:2])
        if len(found) == 1:
            return found[0]
    return None


AREA_WORDS = (
    "governorate", "province", "muhafazah", "muhafazat", "district", "qada", "qadaa", "qadha", "kaza", "mintaqat",
    "محافظه", "قضاء", "منطقه",
)  # fmt: skip


def _without_area_word(key):
    words = key.split()
    words = [word for word in words if word not in AREA_WORDS and word != "of"]
    return " ".join(words) or key


def area_loosely_named(model_or_queryset, text, *, country=None):
    """The region (or district) `text` names, as _area_named, or else the one area of the country whose spelling has
    the same consonants once area words are dropped ("Ninawa", "Nineveh"; "Al-Hasakeh"; "Qaḑā’ al Mawşil"): a few
    dozen areas a country, so a consonant match is safe where it would not be among thousands of villages."""
    area = _area_named(model_or_queryset, text, country=country)
    if area is not None or not text:
        return area
    wanted = skeleton_key(_without_area_word(name_key(text))).replace(" ", "")
    if len(wanted) < 3:
        return None
    queryset = model_or_queryset.objects.all() if hasattr(model_or_queryset, "objects") else model_or_queryset
    if country:
        queryset = queryset.filter(country=str(country))
    found = [
        area
        for area in queryset.defer("boundary")
        if wanted in {skeleton_key(_without_area_word(key)).replace(" ", "") for key in area.name_keys}
    ]
    return found[0] if len(found) == 1 else None
