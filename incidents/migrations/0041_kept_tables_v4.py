from django.db import migrations

from incidents.aggregates.operations import InstallKeptTables

# The two new tables counted from the incidents (and their links) as they are: only they, not every kept table as a
# whole fill would (minutes at a million incidents, with every feature rebuilt). Frozen as the v4 script wrote them.
FILL_NEW_TABLES = """
    INSERT INTO incidents_regionweek (start_week, start_month, end_month, event_type_id, sub_type, country, admin1, admin2, location_precision, incidents, fatalities_low, fatalities, fatalities_high)
    SELECT start_week, start_month, end_month, event_type_id, sub_type, country, admin1, admin2, location_precision, sum(n), sum(fl), sum(f), sum(fh) FROM (SELECT i.start_date AS start_date, i.end_date AS end_date, i.event_type_id AS event_type_id, i.country AS country, i.admin1 AS admin1, date_trunc('month', i.start_date)::date AS start_month, date_trunc('month', i.end_date)::date AS end_month, COALESCE(i.sub_event_type_id, 0) AS sub_type, i.admin2 AS admin2, i.public_location_precision AS location_precision, date_trunc('week', i.start_date)::date AS start_week, 1 AS n,
                   1 * COALESCE(i.fatalities_best, 0)::bigint AS f,
                   1 * COALESCE(i.fatalities_low, i.fatalities_best, 0)::bigint AS fl,
                   1 * COALESCE(i.fatalities_high, i.fatalities_best, 0)::bigint AS fh
              FROM incidents_incident i WHERE i.status = 'published') AS rows GROUP BY start_week, start_month, end_month, event_type_id, sub_type, country, admin1, admin2, location_precision;
    INSERT INTO incidents_regionactormonth (actor_id, side, start_month, end_month, event_type_id, country, admin1, admin2, incidents, fatalities_low, fatalities, fatalities_high)
    SELECT actor_id, side, start_month, end_month, event_type_id, country, admin1, admin2, sum(n), sum(fl), sum(f), sum(fh) FROM (SELECT date_trunc('month', i.start_date)::date AS start_month, date_trunc('month', i.end_date)::date AS end_month, i.event_type_id AS event_type_id, i.country AS country, i.admin1 AS admin1, i.admin2 AS admin2, l.actor_id, l.side, 1 AS n,
                   1 * COALESCE(i.fatalities_best, 0)::bigint AS f,
                   1 * COALESCE(i.fatalities_low, i.fatalities_best, 0)::bigint AS fl,
                   1 * COALESCE(i.fatalities_high, i.fatalities_best, 0)::bigint AS fh
              FROM incidents_incident i JOIN incidents_incidentactor l ON l.incident_id = i.id WHERE i.status = 'published') AS rows GROUP BY actor_id, side, start_month, end_month, event_type_id, country, admin1, admin2;
    ANALYZE incidents_regionweek, incidents_regionactormonth;
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0040_region_week_actor_month")]

    operations = [
        InstallKeptTables(version=4, previous=3),
        migrations.RunSQL(FILL_NEW_TABLES, "TRUNCATE incidents_regionweek, incidents_regionactormonth;"),
    ]
