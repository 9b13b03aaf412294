"""What the public sees of an incident, once: the GeoJSON feature (FEATURE_TEXT; kept as finished text by the
database in models.IncidentFeature, whose triggers aggregates/triggers.py writes from it; the OGC item is the
feature) and the CSV row (CSV_COLUMNS; api/sql.py runs them), side by side, reading the same country names
(conflictmap_country_names()). A change to the feature changes the generated trigger SQL, which
tests/test_kept_tables.py then asks to install as a new version; tests/test_public_shape.py checks that the
feature, the OGC item and the CSV row of each incident say the same."""

import json
from functools import cache

from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.utils import translation
from django_countries import countries

from .models import DATASET_URL


@cache
def country_names():
    """{code: English name}: ACLED's `country` column and the feature's `country_name` hold the English name."""
    with translation.override("en"):
        return {code: str(name) for code, name in countries}


@cache
def country_alpha3():
    return {code: countries.alpha3(code) for code, _name in countries}


def country_names_sql():
    """conflictmap_country_names(): COUNTRY_NAMES as a jsonb constant (an inlined function, folded when a query is
    planned), which the kept features and the CSV rows both read: installed with the kept tables' SQL."""
    literal = "'" + json.dumps(country_names()).replace("'", "''") + "'"
    return f"""
CREATE OR REPLACE FUNCTION conflictmap_country_names() RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN {literal}::jsonb;"""


# Each incident's actors and sources, in display order, as JSON array text. Looked up per incident (LATERAL, by the
# link tables' incident_id indexes), so a rebuild costs the same per incident whether PostgreSQL expects one incident
# or a hundred thousand: a table's statistics lag behind an import, and a grouped join planned for one incident
# was re-aggregated for every incident of a 10,000-row import (seconds became minutes).
# The actor and the source of each link are read by primary key from the link (a subquery per link), never joined
# the other way round: with stale statistics PostgreSQL otherwise probed the links once per actor.
# An actor's Arabic name is its first alias in Arabic script (models.Actor.display_name), null when it has none.
FEATURE_ACTORS = """SELECT '[' || string_agg((SELECT '{"name":' || to_json(a.name) || ',"name_ar":'
                                   || COALESCE(to_json((SELECT alias FROM unnest(a.aliases) WITH ORDINALITY AS x(alias, n)
                                                         WHERE alias ~ '[\u0600-\u06ff]' ORDER BY n LIMIT 1))::text,
                                               'null')
                                   FROM incidents_actor a WHERE a.id = ia.actor_id)
                            || ',"side":' || to_json(ia.side)
                            || CASE WHEN ia.is_associated THEN ',"associated":true}' ELSE ',"associated":false}' END,
                            ',' ORDER BY ia.side, ia.is_associated, ia.id) || ']' AS actors
     FROM incidents_incidentactor ia
    WHERE ia.incident_id = i.id"""
# A sensitive source shows its publisher and date only: its title and URL (a witness's own post, a local page) could
# name the place or the person, so they are null. The same pass over the citations counts the incident's independent
# sources (below) for the feature, rather than a second read of them (about 8 s of a million-row import).
FEATURE_SOURCES = """SELECT '[' || string_agg(k.source, ',' ORDER BY k.id) || ']' AS sources,
          {independent} AS independent
     FROM (SELECT cite.id, s.outlet,
                  s.source || ',"original_reporter":'
                  || COALESCE(to_json(NULLIF(cite.original_reporter, ''))::text, 'null') || '}' AS source
             FROM incidents_incidentsource cite
            CROSS JOIN LATERAL (SELECT '{"publisher":' || to_json(s.publisher)
                                       || ',"title":' || CASE WHEN s.sensitive THEN 'null' ELSE to_json(s.title)::text END
                                       || ',"url":' || CASE WHEN s.sensitive THEN 'null'
                                                            ELSE COALESCE(to_json(NULLIF(s.url, ''))::text, 'null') END
                                       || ',"published_on":' || COALESCE(to_json(s.published_on)::text, 'null') AS source,
                                       {outlet} AS outlet
                                  FROM incidents_source s WHERE s.id = cite.source_id OFFSET 0) AS s
            WHERE cite.incident_id = i.id) AS k"""

# Each incident's media that previews may carry, as JSON array text: neither graphic nor identifying (those are shown
# blurred on the incident page only, never in any feed, download or API), with a public copy made (an image's without
# its metadata; a video's once staff cleared it). `url` is the path of views.MediaFileView (MEDIA_URL_PATH + id),
# site-relative like the page links: the same text whatever host or language the feature is read through.
MEDIA_URL_PATH = "/media/"
FEATURE_MEDIA = f"""SELECT '[' || string_agg('{{"url":' || to_json('{MEDIA_URL_PATH}' || m.id)
                            || ',"type":' || to_json(m.content_type)
                            || ',"caption":' || to_json(m.caption) || ',"caption_ar":' || to_json(m.caption_ar)
                            || ',"credit":' || to_json(m.credit) || '}}',
                            ',' ORDER BY m.id) || ']' AS media
     FROM incidents_incidentmedia m
    WHERE m.incident_id = i.id AND NOT m.graphic AND NOT m.identifying AND m.public_copy <> ''"""

# How many independent sources support an incident (docs/editors.md, "Confidence"): its citations counted once per
# outlet, where an outlet is the original reporter when the citation names one (SOHR relayed by DW and by Reuters is
# one witness), else the web site of the source's URL (two articles on dw.com are one), else the publisher's name up
# to its first comma (UCDP cites an article as "outlet,date,headline"). A dataset's own citation (ACLED, UCDP GED:
# compilations of those same reports) adds nothing beside an outlet, and all of them together count as one when they
# are all the incident cites. Each link's source is read by primary key (see FEATURE_ACTORS for why): OFFSET 0
# keeps the look-up a subquery run per citation rather than a join PostgreSQL may plan the other way round.
_DATASET_URLS = "ARRAY[" + ", ".join(f"'{url}'" for url in DATASET_URL.values()) + "]"
# The outlet of citation `cite` of source `s` ('' for a dataset's own).
_OUTLET = f"""CASE WHEN s.url = ANY({_DATASET_URLS}) THEN ''
                             WHEN btrim(cite.original_reporter) <> '' THEN 'reporter:' || lower(btrim(cite.original_reporter))
                             WHEN s.url <> '' THEN 'site:' || regexp_replace(
                                  lower(substring(s.url FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/:?#]+)')),
                                  '^www[.]', '')
                             ELSE 'outlet:' || lower(btrim(split_part(btrim(s.publisher, '" '), ',', 1))) END"""
# The count over the outlets `k.outlet` of one incident's citations.
_INDEPENDENT_COUNT = "GREATEST(count(DISTINCT NULLIF(k.outlet, '')), max(CASE WHEN k.outlet = '' THEN 1 END))"
INDEPENDENT_SOURCES = f"""(SELECT {_INDEPENDENT_COUNT}
   FROM (SELECT s.outlet FROM incidents_incidentsource cite
          CROSS JOIN LATERAL (SELECT {_OUTLET} AS outlet
                                FROM incidents_source s WHERE s.id = cite.source_id OFFSET 0) AS s
          WHERE cite.incident_id = {{incident}}) AS k)"""
FEATURE_SOURCES = FEATURE_SOURCES.replace("{independent}", _INDEPENDENT_COUNT).replace("{outlet}", _OUTLET)


def independent_sources_sql(incident):
    """INDEPENDENT_SOURCES for the incident whose id is the SQL expression `incident`."""
    return INDEPENDENT_SOURCES.format(incident=incident)


def independent_sources():
    """INDEPENDENT_SOURCES as an expression over a queryset of incidents (the filter, the incident page)."""
    return RawSQL(independent_sources_sql('"incidents_incident"."id"'), [], output_field=IntegerField())


# The feature of an incident `i` joined to `et` and `st` (its event type and sub-type as JSON members) and to its
# actors `la`, sources `ls` and media `lm` (above): the keys in this order, values encoded by to_json, no whitespace
# between tokens. Where: the public location and precision only, never the exact point (aggregates/privacy.py); a
# generalised incident's coded place and reported place are empty, as they could name the spot the point no longer
# shows.
FEATURE_TEXT = """'{"type":"Feature","id":' || i.id
  || ',"geometry":' || COALESCE(ST_AsGeoJSON(i.public_location, 6), 'null')
  || ',"properties":{"title":' || to_json(i.title)
  || ',"description":' || to_json(i.description)
  || ',"title_ar":' || to_json(i.title_ar)
  || ',"description_ar":' || to_json(i.description_ar)
  || ',"original_language":' || to_json(i.original_language)
  || ',"start_date":' || to_json(i.start_date)
  || ',"end_date":' || to_json(i.end_date)
  || ',"date_precision":' || i.date_precision
  || CASE i.date_precision WHEN 1 THEN ',"date_precision_label":"day"' WHEN 2 THEN ',"date_precision_label":"week"'
          WHEN 3 THEN ',"date_precision_label":"month"' ELSE ',"date_precision_label":null' END
  || ',"time_of_day":' || COALESCE(to_json(i.time_of_day)::text, 'null')
  || ',"place_reported":' || CASE WHEN i.generalised_location IS NULL THEN to_json(i.place_reported)::text ELSE '""' END
  || ',"place_name":' || CASE WHEN i.generalised_location IS NULL THEN to_json(i.place_name)::text ELSE '""' END
  || ',"admin1":' || to_json(i.admin1)
  || ',"admin2":' || to_json(i.admin2)
  || ',"country":' || COALESCE(to_json(NULLIF(i.country, ''))::text, 'null')
  || ',"country_name":' || COALESCE(to_json(conflictmap_country_names() ->> i.country)::text, 'null')
  || ',"location_precision":' || i.public_location_precision
  || CASE i.public_location_precision WHEN 1 THEN ',"location_precision_label":"exact"'
          WHEN 2 THEN ',"location_precision_label":"near"' WHEN 3 THEN ',"location_precision_label":"region"'
          ELSE ',"location_precision_label":null' END
  || et.members
  || COALESCE(st.members, ',"sub_event_type":null,"sub_event_type_name":null')
  || ',"actors":' || COALESCE(la.actors, '[]')
  || ',"fatalities_low":' || COALESCE(i.fatalities_low::text, 'null')
  || ',"fatalities_best":' || COALESCE(i.fatalities_best::text, 'null')
  || ',"fatalities_high":' || COALESCE(i.fatalities_high::text, 'null')
  || ',"notable_casualties":' || to_json(i.notable_casualties)
  || ',"sources":' || COALESCE(ls.sources, '[]')
  || ',"media":' || COALESCE(lm.media, '[]')
  || ',"independent_sources":' || ls.independent
  || ',"event_clarity":' || COALESCE(i.event_clarity::text, 'null')
  || ',"updated_at":' || to_json(i.updated_at)
  || '}}'"""

# The feature of every incident of `{affected}` (a query of distinct incident ids) that is published.
FEATURE_SQL = """SELECT i.id, {feature}
      FROM {affected}
      JOIN incidents_incident i ON i.id = affected.id
      JOIN (SELECT id, ',"event_type":' || to_json(slug) || ',"event_type_name":' || to_json(name) AS members
              FROM incidents_eventtype) et ON et.id = i.event_type_id
      LEFT JOIN (SELECT id, ',"sub_event_type":' || to_json(slug) || ',"sub_event_type_name":' || to_json(name)
                        AS members
                   FROM incidents_subeventtype) st ON st.id = i.sub_event_type_id
      CROSS JOIN LATERAL ({actors}) AS la
      CROSS JOIN LATERAL ({sources}) AS ls
      CROSS JOIN LATERAL ({media}) AS lm
     WHERE i.status = 'published'"""


def feature_sql(affected):
    """(incident id, feature text) of the published incidents among `affected`, a FROM item named `affected` with
    an `id` column."""
    return FEATURE_SQL.format(
        feature=FEATURE_TEXT, affected=affected, actors=FEATURE_ACTORS, sources=FEATURE_SOURCES, media=FEATURE_MEDIA
    )


# What a spreadsheet may take for the start of a formula (OWASP's list), with the fullwidth and small forms that an
# East Asian input method types and that Excel reads as the plain signs.
FORMULA_FIRST_CHARACTERS = "=+-@\t\r" + "\uff1d\uff0b\uff0d\uff20" + "\ufe66\ufe62\ufe63\ufe6b"


def _text(expression):
    """A text cell that a spreadsheet would run as a formula (FORMULA_FIRST_CHARACTERS first) gets a leading '.

    Only text columns go through this: numbers (a longitude of -3.2) stay numbers.
    """
    signs = ", ".join(f"chr({ord(character)})" for character in FORMULA_FIRST_CHARACTERS)
    return f"CASE WHEN left({expression}, 1) IN ({signs}) THEN '''' || {expression} ELSE {expression} END"


# A generalised incident's place names are empty, as in the feature.
_SHOWN_PLACE = "CASE WHEN i.generalised_location IS NOT NULL THEN '' ELSE "


# The CSV row of an incident `i` (api/sql.py joins `et`, `st`, its actor names, source names and links): (column,
# SQL, HXL hashtag) in file order, ACLED's names where the concept matches, then ours. The country name is the
# feature's (conflictmap_country_names()); %s is the alpha-3 codes as jsonb. The hashtags (the row `?hxl=1` adds
# under the header, for humanitarian tools) are those of HXL's core dictionary that HDX's ACLED and UCDP GED files
# carry (#date, #event+type, #adm1+name, #geo+lat, #affected+killed, …); actors are #group+name (HXL has no #actor),
# +first / +second for ACLED's actor 1 and 2.
CSV_COLUMNS = [
    ("event_id_cnty", "COALESCE(%s::jsonb ->> i.country, 'XXX') || i.id", "#event+code"),
    ("event_date", "to_char(i.start_date, 'YYYY-MM-DD')", "#date"),
    ("year", "extract(year FROM i.start_date)::int", "#date+year"),
    ("time_precision", "i.date_precision", "#date+precision"),
    ("event_type", _text("et.name"), "#event+type"),
    ("sub_event_type", _text("st.name"), "#event+type+sub"),
    ("actor1", _text("actor_names.actor1"), "#group+name+first"),
    ("assoc_actor_1", _text("actor_names.assoc_actor_1"), "#group+name+first+assoc"),
    ("actor2", _text("actor_names.actor2"), "#group+name+second"),
    ("assoc_actor_2", _text("actor_names.assoc_actor_2"), "#group+name+second+assoc"),
    ("country", "conflictmap_country_names() ->> i.country", "#country+name"),
    ("admin1", _text("i.admin1"), "#adm1+name"),
    ("admin2", _text("i.admin2"), "#adm2+name"),
    ("location", _text(f"{_SHOWN_PLACE}COALESCE(NULLIF(i.place_name, ''), i.place_reported) END"), "#loc+name"),
    # The public location (never the exact point): PostgreSQL's shortest round-trip text for a double, so the CSV
    # reads back to the very same coordinates as the GeoJSON.
    ("latitude", "ST_Y(i.public_location)::text", "#geo+lat"),
    ("longitude", "ST_X(i.public_location)::text", "#geo+lon"),
    ("geo_precision", "i.public_location_precision", "#geo+precision"),
    ("source", _text("source_names.source"), "#meta+source"),
    ("notes", _text("i.description"), "#description"),
    ("fatalities", "i.fatalities_best", "#affected+killed"),
    ("timestamp", "floor(extract(epoch FROM i.updated_at))::bigint", "#date+updated"),
    ("id", "i.id", "#event+id"),
    ("external_id", _text("i.external_id"), "#event+code+external"),
    ("title", _text("i.title"), "#event+name"),
    ("end_date", "to_char(i.end_date, 'YYYY-MM-DD')", "#date+end"),
    ("place_reported", _text(f"{_SHOWN_PLACE}i.place_reported END"), "#loc+name+reported"),
    ("fatalities_low", "i.fatalities_low", "#affected+killed+low"),
    ("fatalities_high", "i.fatalities_high", "#affected+killed+high"),
    ("source_urls", _text("source_links.source_urls"), "#meta+url"),
    # Our own words in Arabic beside the English `title` and `notes` (empty when not written), and which of the two
    # is the original: every file carries both, whatever the language of the page it was downloaded from.
    ("title_ar", _text("i.title_ar"), "#event+name+i_ar"),
    ("notes_ar", _text("i.description_ar"), "#description+i_ar"),
    ("original_language", "i.original_language", "#meta+lang"),
    # Confidence (docs/editors.md): UCDP's event_clarity (1 clear, 2 lower clarity, empty when not graded) and how
    # many independent sources the incident cites (INDEPENDENT_SOURCES). HXL has no tag for either: #meta attributes.
    ("event_clarity", "i.event_clarity", "#meta+clarity"),
    ("independent_sources", independent_sources_sql("i.id"), "#meta+sources+num"),
]
