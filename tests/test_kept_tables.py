"""The kept tables' declaration (incidents/aggregates/registry.py) is what the database runs: the installed SQL is
the registry's, a fill from scratch gives what the triggers kept through random writes, and a new kept map filter
takes the three steps docs/architecture.md lists (here a throwaway one, on the date precision)."""

import datetime
import random
from dataclasses import replace

import django_filters
import pytest
from django.apps import apps
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents.aggregates import registry
from incidents.aggregates.operations import sql_version_text, sql_versions
from incidents.aggregates.registry import KeyColumn
from incidents.aggregates.triggers import kept_tables_sql
from incidents.filters import IncidentFilterSet
from incidents.models import DatePrecision, EventType, Incident, IncidentActor, Side
from tests.factories import ActorFactory, IncidentFactory, SourceFactory
from tests.map_helpers import SYRIA_AND_IRAQ, expected, get_feed
from tests.random_writes import random_write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("map_thresholds")]

# Every table the triggers keep, with the columns that say what a row is (ids aside).
KEPT = [*(table.table for table in registry.CELL_TABLES), *(table.table for table in registry.PUBLIC_TABLES)]
KEPT += ["incidents_publishedactor", "incidents_incidentfeature"]


def test_the_installed_sql_is_the_registrys_newest_version():
    """A change to the registry (or to public.py's feature) without a new version fails here, as an unmade
    migration fails `makemigrations --check`: `manage.py kept_tables_sql --write` makes both."""
    assert kept_tables_sql() == sql_version_text(max(sql_versions()))


def test_each_kept_tables_key_is_its_models_unique_key():
    """The registry's key and the model's unique constraint (the ON CONFLICT target) name the same columns."""
    row_columns = {
        registry.INCIDENT: [],
        registry.ACTOR: ["actor_id", "side"],
        registry.ACTOR_PAIR: ["actor_low_id", "actor_high_id", "side_low", "side_high"],
        registry.TERM: ["term_id"],
    }
    models = {model._meta.db_table: model for model in apps.get_app_config("incidents").get_models()}
    for kept in [*registry.CELL_TABLES, *registry.PUBLIC_TABLES]:
        model = models[kept.table]
        (constraint,) = model._meta.constraints
        columns = [model._meta.get_field(name).column for name in constraint.fields]
        declared = [*row_columns[kept.rows], *kept.columns] if hasattr(kept, "rows") else list(kept.key)
        assert sorted(columns) == sorted(declared), kept.table


def contents():
    """{table: sorted rows without their ids}, the coordinate sums rounded."""
    tables = {}
    with connection.cursor() as cursor:
        for table in KEPT:
            cursor.execute(f"SELECT * FROM {table}")
            names = [column.name for column in cursor.description]
            rows = []
            for row in cursor.fetchall():
                values = dict(zip(names, row, strict=True))
                values.pop("id", None)
                for name in ("sum_x", "sum_y"):
                    if name in values:
                        values[name] = round(values[name], 6)
                rows.append(tuple(sorted(values.items(), key=lambda item: item[0])))
            tables[table] = sorted(rows, key=repr)
    return tables


def refilled():
    """contents() after conflictmap_kept_tables_fill(), in a savepoint that is rolled back."""
    with transaction.atomic():
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            cursor.execute("SELECT conflictmap_kept_tables_fill()")
        filled = contents()
        transaction.savepoint_rollback(sid)
    return filled


def test_a_fill_from_scratch_gives_what_the_triggers_kept_through_random_writes():
    rng = random.Random(22)
    types = list(EventType.objects.all())
    actors = [ActorFactory() for _ in range(4)]

    def random_fields():
        start = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randint(0, 90))
        return {
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice([0, 2, 31])),
            "event_type": rng.choice(types),
            "fatalities_best": rng.choice([None, 0, 4, 30]),
            "fatalities_low": None,
            "fatalities_high": None,
            "location": Point(37.1 + rng.uniform(-0.3, 0.3), 36.2 + rng.uniform(-0.3, 0.3), srid=4326),
        }

    incidents = [
        IncidentFactory(published=rng.random() < 0.7, sources=[SourceFactory()], **random_fields()) for _ in range(20)
    ]
    for incident in incidents:
        for actor in rng.sample(actors, rng.randint(0, 3)):
            IncidentActor.objects.create(incident=incident, actor=actor, side=rng.choice([Side.A, Side.B]))
    for step in range(25):
        incident = rng.choice(incidents)
        incident.refresh_from_db()
        action = rng.choice(
            [
                "edit",
                "move",
                "publish",
                "unpublish",
                "retract",
                "delete",
                "bulk",
                "link",
                "sensitive",
                "sensitive source",
                "merge",
            ]
        )
        if action == "link":
            IncidentActor.objects.filter(incident=incident).delete()
            IncidentActor.objects.create(incident=incident, actor=rng.choice(actors), side=Side.B)
        else:
            random_write(action, incident, incidents, random_fields)
        if step % 8 == 7:
            assert contents() == refilled(), f"after step {step} ({action})"
    assert contents() == refilled()
    assert all(
        contents()[table] for table in ("incidents_mapcell", "incidents_mapactorpaircell", "incidents_timelinecell")
    )


# --- A throwaway kept map filter: `date_precision` (day, week, month), kept in MapDetailCell. ---

DATE_PRECISION = KeyColumn(
    "date_precision",
    "i.date_precision",
    lambda incident: incident.date_precision,
    filter="date_precision",
    condition="date_precision = ANY(%(date_precision)s)",
    value=lambda codes: [int(code) for code in codes],
)


@pytest.fixture
def date_precision_kept(monkeypatch):
    """The three steps of docs/architecture.md, "Adding a kept map filter", done in the test's transaction."""
    # 1. The filter, in the one FilterSet (incidents/filters.py).
    monkeypatch.setitem(
        IncidentFilterSet.base_filters,
        "date_precision",
        django_filters.MultipleChoiceFilter(field_name="date_precision", choices=DatePrecision.choices),
    )
    # 2. Its column in the kept table's model (incidents/models.py), and in the key's unique constraint; here the
    # schema change makemigrations would write.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE incidents_mapdetailcell ADD COLUMN date_precision smallint NOT NULL DEFAULT 0")
        cursor.execute("ALTER TABLE incidents_mapdetailcell DROP CONSTRAINT map_detail_cell_key")
        cursor.execute(
            "ALTER TABLE incidents_mapdetailcell ADD CONSTRAINT map_detail_cell_key "
            f"UNIQUE ({', '.join(registry.MAP_DETAIL_CELL.columns)}, date_precision)"
        )
    # 3. Its KeyColumn in the registry (incidents/aggregates/registry.py).
    detail = replace(registry.MAP_DETAIL_CELL, key=(*registry.MAP_DETAIL_CELL.key, DATE_PRECISION))
    for name in ("CELL_TABLES", "MAP_READ_ORDER"):
        tables = [detail if table is registry.MAP_DETAIL_CELL else table for table in getattr(registry, name)]
        monkeypatch.setattr(registry, name, tables)
    monkeypatch.setattr(registry, "MAP_DETAIL_CELL", detail)
    # Then `manage.py kept_tables_sql --write` and `migrate`: the new version installed and the tables filled.
    with connection.cursor() as cursor:
        cursor.execute(kept_tables_sql())
        cursor.execute("SELECT conflictmap_kept_tables_fill()")
    return detail


def test_a_throwaway_kept_filter_takes_three_steps_and_counts_exactly(client, settings, date_precision_kept):
    rng = random.Random(7)
    types = list(EventType.objects.all())

    def random_fields():
        start = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randint(0, 90))
        return {
            "start_date": start,
            "end_date": start,
            "date_precision": rng.choice(DatePrecision.values),
            "event_type": rng.choice(types),
            "fatalities_best": rng.choice([None, 0, 4]),
            "fatalities_low": None,
            "fatalities_high": None,
            "location": Point(rng.uniform(36, 44), rng.uniform(33, 37), srid=4326),
        }

    incidents = [IncidentFactory(published=True, **random_fields()) for _ in range(150)]

    def stored():
        with connection.cursor() as cursor:
            columns = ", ".join(date_precision_kept.columns)
            cursor.execute(f"SELECT {columns}, incidents FROM incidents_mapdetailcell")
            return {tuple(row[:-1]): row[-1] for row in cursor.fetchall()}

    def live():
        cells = {}
        for incident in Incident.objects.published().exclude(location=None):
            key = tuple(column.python(incident) for column in date_precision_kept.key)
            cells[key] = cells.get(key, 0) + 1
        return cells

    for step in range(12):
        incident = rng.choice(incidents)
        incident.refresh_from_db()
        action = rng.choice(["edit", "move", "unpublish", "publish", "delete", "bulk"])
        random_write(action, incident, incidents, random_fields, date_precision=rng.choice(DatePrecision.values))
        assert stored() == live(), f"after step {step} ({action})"

    settings.MAP_POINTS_MAX = 5  # clusters, so the totals are the table's
    for precision in DatePrecision.values:
        total, fatalities, _chosen = expected(
            Incident.objects.published(), SYRIA_AND_IRAQ, lambda i, p=precision: i.date_precision == p
        )
        with CaptureQueriesContext(connection) as queries:
            body = get_feed(client, SYRIA_AND_IRAQ, 6, date_precision=precision)
        assert any("incidents_mapdetailcell" in query["sql"] for query in queries.captured_queries)
        assert (body["total"], body["total_fatalities"]) == (total, fatalities), precision
