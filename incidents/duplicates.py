"""Possible duplicates (staff only): for an incident, saved or proposed (an import row, an assistant's candidate),
the incidents that may report the same event, each with its reasons, best first.

A candidate is a draft or published incident whose dates meet the probe's, each widened by its own date precision
(DATE_SLACK_DAYS), and whose point lies within a reach that grows with both location precisions (REACH_METRES),
and which also shares something: its event type, an actor, or most of its words. When either has no point, only
words or an actor and the type together make it a candidate. One SQL statement answers any number of probes: the
dates read the (status, start date) index, the distance the location's GiST index (a box) and then ST_DWithin on
geography, so an import preview of thousands of rows is one pass (docs/editors.md, "Possible duplicates").

Hints read the exact location (staff see it); they never reach a public output.
"""

import json
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import DatePrecision, EventType, Incident, LocationPrecision, Status

# How far each incident's dates stretch for the comparison: a day-precise report is often a day off (the dateline
# against the event), a week or a month is that span either way.
DATE_SLACK_DAYS = {DatePrecision.DAY: 1, DatePrecision.WEEK: 7, DatePrecision.MONTH: 31}
# How far each incident's point may be from the event: an exact point is the village or the block (two outlets
# code the same strike to points a few kilometres apart), "near" within about 25 km (UCDP's where_prec 2), a region
# is its centroid (an Iraqi governorate spans 100-300 km). Two incidents may be as far apart as both reaches.
REACH_METRES = {LocationPrecision.EXACT: 5_000, LocationPrecision.NEAR: 25_000, LocationPrecision.REGION: 150_000}
# "Most words": the share of the shorter text's words the other also has, and at least this many of them.
MOST_WORDS_SHARE = 0.6
MOST_WORDS_MIN = 2
# Hints shown per incident.
HINTS_PER_INCIDENT = 5
# A candidate starting more than this many days before the probe's (widened) start is not one: a months-long siege
# is not a duplicate of one day's strike, and the start date's index then reads a bounded range.
LONGEST_LEAD_DAYS = 62

# Words that say nothing of an event: function words in English and Arabic and the articles of transliterated
# names ("al", "ad"); the rest of the title, description and place (the words `q` searches) are compared.
STOP_WORDS = sorted(
    {
        *"a an and are as at be been but by for from had has have he her his in into is it its of on or said she".split(),
        *"that the their they this to was were which who will with after over near".split(),
        *"al el ad ar as an ash at az".split(),
        *"في من على إلى الى عن مع أن ان إن التي الذي هذا هذه بعد قبل بين حيث كما قد لا ما و أو او ثم كان عند خلال ضد".split(),
    }
)


def _case(column, mapping):
    """A CASE over an integer code column returning mapping[code], the first value otherwise."""
    whens = " ".join(f"WHEN {int(code)} THEN {int(value)}" for code, value in mapping.items())
    return f"(CASE {column} {whens} ELSE {int(next(iter(mapping.values())))} END)"


_LARGEST_REACH = max(REACH_METRES.values())
# The probe `p` (a FROM item: key, own_id, start_date, end_date, date_precision, geom, location_precision,
# event_type_id, fatalities_best, actor_names (lower case), words (tsvector)) against the incidents `i`.
HINTS_SQL = f"""
SELECT p.key, c.id, c.title, c.title_ar, c.status, c.start_date, c.end_date, c.distance, c.reach, c.dates_meet,
       c.same_type, c.shared_actors, c.common_words, c.fewer_words, c.score
  FROM (SELECT probe.*, tsvector_to_array(ts_delete(probe.words, %(stop_words)s::text[])) AS word_list,
               {_case("probe.date_precision", DATE_SLACK_DAYS)} AS slack,
               {_case("probe.location_precision", REACH_METRES)} AS probe_reach
          FROM ({{probes}}) AS probe
        -- OFFSET 0: each probe's words and names computed once, not again for every candidate it is compared with
        OFFSET 0) AS p
 CROSS JOIN LATERAL (
   SELECT m.*,
          (CASE WHEN m.dates_meet THEN 2 ELSE 1 END
           + CASE WHEN m.distance IS NULL THEN 0 ELSE 2 * (1 - m.distance / m.reach) END
           + CASE WHEN m.same_type THEN 1 ELSE 0 END
           + least(cardinality(m.shared_actors), 2)
           + CASE WHEN m.fewer_words > 0 THEN 3.0 * m.common_words / m.fewer_words ELSE 0 END
           -- what tells apart the same dyad's several events of one day and place: the same dates, the same toll
           + CASE WHEN m.same_dates THEN 0.5 ELSE 0 END
           + CASE WHEN m.same_toll THEN 0.5 ELSE 0 END)::float8 AS score
     FROM (SELECT i.id, i.title, i.title_ar, i.status, i.start_date, i.end_date,
                  CASE WHEN p.geom IS NOT NULL AND i.location IS NOT NULL
                       THEN ST_Distance(i.location::geography, p.geom::geography) END AS distance,
                  p.probe_reach + {_case("i.location_precision", REACH_METRES)} AS reach,
                  (i.start_date <= p.end_date AND i.end_date >= p.start_date) AS dates_meet,
                  (i.start_date = p.start_date AND i.end_date = p.end_date) AS same_dates,
                  COALESCE(i.fatalities_best = p.fatalities_best, false) AS same_toll,
                  i.event_type_id = p.event_type_id AS same_type,
                  ARRAY(SELECT a.name FROM incidents_incidentactor ia JOIN incidents_actor a ON a.id = ia.actor_id
                         WHERE ia.incident_id = i.id
                           AND (lower(a.name) = ANY(p.actor_names)
                                OR EXISTS (SELECT 1 FROM unnest(a.aliases) AS alias WHERE lower(alias) = ANY(p.actor_names))
                                OR EXISTS (SELECT 1 FROM incidents_actornamemapping n
                                            WHERE n.actor_id = a.id AND lower(n.name) = ANY(p.actor_names)))
                         ORDER BY a.name) AS shared_actors,
                  (SELECT count(*) FROM unnest(tsvector_to_array(i.search_words)) AS word
                    WHERE word = ANY(p.word_list))::int AS common_words,
                  least(cardinality(p.word_list), length(ts_delete(i.search_words, %(stop_words)s::text[]))) AS fewer_words
             FROM incidents_incident i
            WHERE i.status IN ('draft', 'published')
              AND i.start_date BETWEEN p.start_date - (p.slack + 31 + {LONGEST_LEAD_DAYS})
                                   AND p.end_date + (p.slack + 31)
              AND i.start_date - {_case("i.date_precision", DATE_SLACK_DAYS)} <= p.end_date + p.slack
              AND i.end_date + {_case("i.date_precision", DATE_SLACK_DAYS)} >= p.start_date - p.slack
              AND i.id IS DISTINCT FROM p.own_id
              AND (p.geom IS NULL OR i.location IS NULL
                   OR (i.location && ST_Expand(p.geom,
                                               (p.probe_reach + {_LARGEST_REACH}) / 111000.0
                                                 / greatest(cos(radians(ST_Y(p.geom))), 0.01),
                                               (p.probe_reach + {_LARGEST_REACH}) / 111000.0)
                       AND ST_DWithin(i.location::geography, p.geom::geography,
                                      p.probe_reach + {_case("i.location_precision", REACH_METRES)})))) AS m
    WHERE (m.common_words >= {MOST_WORDS_MIN} AND m.common_words >= {MOST_WORDS_SHARE} * m.fewer_words)
       OR (m.distance IS NOT NULL AND (m.same_type OR cardinality(m.shared_actors) > 0))
       OR (m.same_type AND cardinality(m.shared_actors) > 0)
    ORDER BY score DESC, m.id DESC
    LIMIT %(limit)s) AS c
 ORDER BY p.key, c.score DESC, c.id DESC"""

# Probes given as JSON (proposed incidents: an assistant's candidates, an unsaved form).
_VALUE_PROBES = """
SELECT r.key, r.own_id, r.start_date, COALESCE(r.end_date, r.start_date) AS end_date, r.date_precision,
       CASE WHEN r.lon IS NOT NULL AND r.lat IS NOT NULL THEN ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326) END AS geom,
       r.location_precision, r.event_type_id, r.fatalities_best,
       ARRAY(SELECT lower(name) FROM jsonb_array_elements_text(r.actor_names) AS name) AS actor_names,
       to_tsvector('simple', r.text) AS words
  FROM jsonb_to_recordset(%(probes)s::jsonb) AS r (key int, own_id bigint, start_date date, end_date date,
        date_precision int, lon float8, lat float8, location_precision int, event_type_id bigint, fatalities_best int,
        actor_names jsonb, text text)"""

# Saved incidents as probes, by id.
_SAVED_PROBES = """
SELECT i.id AS key, i.id AS own_id, i.start_date, i.end_date, i.date_precision, i.location AS geom,
       i.location_precision, i.event_type_id, i.fatalities_best,
       ARRAY(SELECT lower(a.name) FROM incidents_incidentactor ia JOIN incidents_actor a ON a.id = ia.actor_id
              WHERE ia.incident_id = i.id) AS actor_names,
       i.search_words AS words
  FROM incidents_incident i WHERE i.id = ANY(%(ids)s)"""

# An import's staging table (importing/loading.py) as probes: the rows that would create an incident, keyed by line.
STAGING_PROBES = """
SELECT s.line AS key, NULL::bigint AS own_id, s.start_date, s.end_date, s.date_precision,
       ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326) AS geom, s.location_precision, s.event_type_id,
       s.fatalities_best,
       ARRAY(SELECT lower(name) FROM unnest(s.side_a || s.side_a_associated || s.side_b || s.side_b_associated)
                                     AS name) AS actor_names,
       to_tsvector('simple', concat_ws(' ', s.title, s.description, s.place_reported, s.place_name)) AS words
  FROM {table} s WHERE s.state = 'created'"""


@dataclass
class DuplicateHint:
    """A possible duplicate of one probe, with what it shares: the admin, the import preview and the assistant show
    `reasons()`."""

    incident_id: int
    title: str
    status: str
    start_date: object
    end_date: object
    distance_metres: float | None
    reach_metres: int
    dates_meet: bool
    same_event_type: bool
    shared_actors: list = field(default_factory=list)
    common_words: int = 0
    fewer_words: int = 0
    score: float = 0.0

    def reasons(self):
        """Why the incident may be the same event, one sentence each, in the active language."""
        reasons = [
            _("dates overlap")
            if self.dates_meet
            else _("dates overlap within their precision (%(first)s to %(last)s)")
            % {"first": self.start_date, "last": self.end_date}
        ]
        if self.distance_metres is not None:
            reasons.append(
                _("%(distance)s km apart (within %(reach)s km for their location precisions)")
                % {"distance": f"{self.distance_metres / 1000:.1f}", "reach": f"{self.reach_metres / 1000:g}"}
            )
        if self.same_event_type:
            reasons.append(_("same event type"))
        if self.shared_actors:
            reasons.append(_("shares actors: %(names)s") % {"names": ", ".join(self.shared_actors)})
        if (
            self.fewer_words
            and self.common_words >= MOST_WORDS_MIN
            and self.common_words >= MOST_WORDS_SHARE * self.fewer_words
        ):
            reasons.append(
                ngettext(
                    "shares %(common)d of %(fewer)d word",
                    "shares %(common)d of %(fewer)d words",
                    self.fewer_words,
                )
                % {"common": self.common_words, "fewer": self.fewer_words}
            )
        return reasons

    def get_status_display(self):
        return Status(self.status).label

    def as_dict(self):
        """JSON-safe, for an import batch's report."""
        return {
            "id": self.incident_id,
            "title": self.title,
            "status": self.status,
            "start_date": str(self.start_date),
            "end_date": str(self.end_date),
            "distance_metres": None if self.distance_metres is None else round(self.distance_metres),
            "reach_metres": self.reach_metres,
            "dates_meet": self.dates_meet,
            "same_event_type": self.same_event_type,
            "shared_actors": self.shared_actors,
            "common_words": self.common_words,
            "fewer_words": self.fewer_words,
            "score": round(self.score, 3),
        }

    @classmethod
    def from_dict(cls, values):
        return cls(
            incident_id=values["id"],
            title=values["title"],
            status=values["status"],
            start_date=values["start_date"],
            end_date=values["end_date"],
            distance_metres=values["distance_metres"],
            reach_metres=values["reach_metres"],
            dates_meet=values["dates_meet"],
            same_event_type=values["same_event_type"],
            shared_actors=values["shared_actors"],
            common_words=values["common_words"],
            fewer_words=values["fewer_words"],
            score=values["score"],
        )


def duplicate_hints_for_probes(*, probes_sql, params, limit=HINTS_PER_INCIDENT, cursor=None):
    """{probe key: [DuplicateHint], best first} for the probes a SQL FROM item gives (see HINTS_SQL)."""
    sql = HINTS_SQL.replace("{probes}", probes_sql)
    params = {**params, "stop_words": STOP_WORDS, "limit": limit}
    with transaction.atomic(savepoint=False), connection.cursor() as own_cursor:
        cursor = cursor or own_cursor
        # JIT off for this statement: its many expressions per candidate are cheap but estimated as costly, and LLVM
        # spent 5.5 s compiling the statement for 50 incidents that it then answered in 0.2 s.
        cursor.execute("SELECT current_setting('jit')")
        (jit,) = cursor.fetchone()
        cursor.execute("SELECT set_config('jit', 'off', true)")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.execute("SELECT set_config('jit', %s, true)", [jit])
    hints = {}
    for (
        key,
        pk,
        title,
        title_ar,
        status,
        start,
        end,
        distance,
        reach,
        meet,
        same_type,
        actors,
        common,
        fewer,
        score,
    ) in rows:
        hints.setdefault(key, []).append(
            DuplicateHint(
                incident_id=pk,
                title=title or title_ar,
                status=status,
                start_date=start,
                end_date=end,
                distance_metres=distance,
                reach_metres=reach,
                dates_meet=meet,
                same_event_type=same_type,
                shared_actors=list(actors),
                common_words=common,
                fewer_words=fewer or 0,
                score=score,
            )
        )
    return hints


def incident_duplicate_hints(*, incidents, limit=HINTS_PER_INCIDENT):
    """{incident id: [DuplicateHint]} for saved incidents (the admin's change page; the bench)."""
    ids = [incident.pk if isinstance(incident, Incident) else int(incident) for incident in incidents]
    return duplicate_hints_for_probes(probes_sql=_SAVED_PROBES, params={"ids": ids}, limit=limit)


def proposed_duplicate_hints(*, proposals, limit=HINTS_PER_INCIDENT):
    """[[DuplicateHint]] for proposed incidents, in their order: dicts of Incident field values (as the report
    assistant's candidates give them: `event_type` an EventType or its id, `location` a Point or None, `actors`
    [(actor, side)] or names), none saved."""
    probes = []
    for key, values in enumerate(proposals):
        event_type = values.get("event_type")
        location = values.get("location")
        start = values.get("start_date")
        probes.append(
            {
                "key": key,
                "own_id": values.get("id"),
                "start_date": start and str(start),
                "end_date": values.get("end_date") and str(values["end_date"]),
                "date_precision": int(values.get("date_precision") or DatePrecision.DAY),
                "lon": location.x if location is not None else None,
                "lat": location.y if location is not None else None,
                "location_precision": int(values.get("location_precision") or LocationPrecision.EXACT),
                "event_type_id": event_type.pk if isinstance(event_type, EventType) else event_type,
                "fatalities_best": values.get("fatalities_best"),
                "actor_names": [getattr(actor, "name", actor) for actor, *_side in _pairs(values.get("actors"))],
                "text": " ".join(
                    str(values.get(name) or "")
                    for name in ("title", "title_ar", "description", "description_ar", "place_reported", "place_name")
                ),
            }
        )
    dated = [probe for probe in probes if probe["start_date"]]
    hints = duplicate_hints_for_probes(probes_sql=_VALUE_PROBES, params={"probes": json.dumps(dated)}, limit=limit)
    return [hints.get(key, []) for key in range(len(proposals))]


def _pairs(actors):
    return [actor if isinstance(actor, tuple | list) else (actor,) for actor in actors or []]


def staging_duplicate_hints(*, cursor, table, limit=HINTS_PER_INCIDENT):
    """{line: [DuplicateHint]} for an import's new rows (importing/loading.py), against the incidents already there."""
    return duplicate_hints_for_probes(
        probes_sql=STAGING_PROBES.replace("{table}", table), params={}, limit=limit, cursor=cursor
    )


def hints_shown(hints):
    """(hint, its reasons, its admin change page) per hint: what templates/admin/incidents/_duplicate_hints.html
    lists. `hints` are DuplicateHints or their dicts (an import batch's report)."""
    hints = [hint if isinstance(hint, DuplicateHint) else DuplicateHint.from_dict(hint) for hint in hints]
    return [
        (hint, hint.reasons(), reverse("admin:incidents_incident_change", args=[hint.incident_id])) for hint in hints
    ]
