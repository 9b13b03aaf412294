import io

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command

from incidents.seeding import actors_load
from tests.factories import UserFactory
from tests.map_helpers import POINTS_MAX


@pytest.fixture
def editor(db):
    return UserFactory(username="ed", group="Editors")


@pytest.fixture
def publisher(db):
    return UserFactory(username="pub", group="Publishers")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "pw")


@pytest.fixture
def export_incidents(db):
    """Three published incidents (actors on both sides, two sources, ranges) and a draft and a retraction that no
    export may show. Returned newest first, the order every export uses."""
    return make_export_incidents()


def make_export_incidents():
    """export_incidents' rows (a module that only reads them makes them once: tests/shared_rows.py)."""
    import datetime

    from django.contrib.gis.geos import Point
    from django.db import transaction

    from incidents.models import ActorKind, EventType, IncidentActor, IncidentSource, Side, Status, SubEventType
    from tests.factories import ActorFactory, IncidentFactory, SourceFactory

    # One transaction: under transactional_db the deferred "a published incident cites a source" check
    # would otherwise run before the factory has attached the source.
    with transaction.atomic():
        islamic_state = ActorFactory(name="Islamic State", kind=ActorKind.JIHADIST_GROUP, aliases=["IS", "Daesh"])
        army = ActorFactory(name="Syrian Arab Army", kind=ActorKind.STATE_FORCES)
        militia = ActorFactory(name="Liwa al-Quds", kind=ActorKind.POLITICAL_MILITIA)
        dw = SourceFactory(publisher="DW", title="IS kills 35 Syrian soldiers", url="https://www.dw.com/a-48413223")
        sana = SourceFactory(publisher="SANA", title="Army repels attack", url="", published_on=None)
        palmyra = IncidentFactory(
            published=True,
            title="IS assault north of Palmyra",
            description="Fighters attacked army positions, “at least 35” killed.",
            start_date=datetime.date(2019, 4, 18),
            end_date=datetime.date(2019, 4, 19),
            date_precision=2,
            location=Point(38.2673, 34.556, srid=4326),
            place_reported="desert north of Palmyra",
            place_name="Palmyra",
            admin1="Homs",
            admin2="Tadmur",
            location_precision=2,
            sub_event_type=SubEventType.objects.get(slug="battles-armed-clash"),
            fatalities_low=35,
            fatalities_best=35,
            external_id="dw-2019-04-20-1",
            sources=[dw, sana],
        )
        IncidentActor.objects.create(incident=palmyra, actor=islamic_state, side=Side.A)
        IncidentActor.objects.create(incident=palmyra, actor=army, side=Side.B)
        IncidentActor.objects.create(incident=palmyra, actor=militia, side=Side.B, is_associated=True)
        IncidentSource.objects.filter(incident=palmyra, source=dw).update(
            original_reporter="Syrian Observatory for Human Rights"
        )
        aleppo = IncidentFactory(
            published=True,
            title="Shelling of al-Hamdaniya, Aleppo",
            start_date=datetime.date(2019, 4, 20),
            location=Point(37.1293, 36.1823, srid=4326),
            admin1="Aleppo",
            place_name="Aleppo",
            event_type=EventType.objects.get(slug="explosions-remote-violence"),
            fatalities_best=2,
            fatalities_high=4,
            actors=[(army, Side.B)],
        )
        mosul = IncidentFactory(
            published=True,
            title="Protest in Mosul",
            start_date=datetime.date(2018, 11, 2),
            location=Point(43.1189, 36.34, srid=4326),
            country="IQ",
            admin1="Nineveh",
            event_type=EventType.objects.get(slug="protests"),
            location_precision=1,
        )
        IncidentFactory(title="Draft near Palmyra", start_date=datetime.date(2019, 4, 18), fatalities_best=900)
        IncidentFactory(
            title="Retracted strike in Homs",
            status=Status.RETRACTED,
            retraction_reason="Duplicate report",
            start_date=datetime.date(2019, 4, 19),
        )
    return [aleppo, palmyra, mosul]


@pytest.fixture(scope="session")
def gazetteer(django_db_setup, django_db_blocker):
    """The whole gazetteer (GeoNames and Who's On First), loaded once for the modules that ask for it."""
    with django_db_blocker.unblock():
        call_command("load_gazetteer", stdout=io.StringIO())


@pytest.fixture
def seed_actors(db):
    """The seed actors with their aliases: what the report assistant recognises."""
    actors_load()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (no browser download), headless and quiet."""
    from conflictmap.localserver import CHROMIUM_LAUNCH

    return {**browser_type_launch_args, **CHROMIUM_LAUNCH}


@pytest.fixture(scope="session")
def playwright(django_db_setup, playwright):
    """Playwright's sync API starts an event loop in the main thread, and the ORM refuses plain sync calls from a
    thread with a running loop: create the test database first, so it never happens under that loop (whether the
    browser tests run alone, with -k, or after the rest of the suite), and drop it only after the loop has stopped."""
    return playwright


def pytest_collection_modifyitems(items):
    """Browser tests last: from the first one on, Playwright's loop runs in the main thread until the session ends
    (so every later ORM call would need DJANGO_ALLOW_ASYNC_UNSAFE), and their transactional flushes empty the
    tables, taking the taxonomy the migrations load, which later non-transactional tests expect.
    Otherwise pytest-django's order stands (transactional tests after the others). Within each run of one module's
    tests, those reading rows made once for the module (tests/shared_rows.py) come after the others, which must not
    see those rows (and those reading two layers of such rows after those reading one)."""
    runs = dict(zip(items, run_numbers(item.module for item in items), strict=True))
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None,
            runs[item],
            # pytest-django's order within the run too: run alone, a module is one run, and its transactional tests
            # (which ask for no module rows) would otherwise flush the database before those that do.
            is_transactional(item),
            uses_module_rows(item),
        )
    )


def run_numbers(modules):
    """For each of a sequence of module keys, the number of its run: consecutive equal keys are one run."""
    run, previous, numbers = 0, object(), []
    for module in modules:
        run += module != previous
        previous = module
        numbers.append(run)
    return numbers


def is_transactional(item):
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(fixtures)
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """In parallel (`make test`: pytest-xdist), each worker must run its tests in the order above, a part of it, not
    whole files in an order of their own: a file's transactional tests flush the worker's database and a browser test
    leaves Playwright's loop running, so neither may run before another file's plain tests. Work goes out as runs of
    one module's consecutive tests (in that order, to whichever worker is free)."""
    from xdist.scheduler import LoadScopeScheduling

    class RunScheduling(LoadScopeScheduling):
        runs = None

        def _split_scope(self, nodeid):
            if self.runs is None:
                modules = [each.split("::", 1)[0] for each in self.collection]
                numbers = run_numbers(modules)
                self.runs = {
                    each: f"{module} #{number}"
                    for each, module, number in zip(self.collection, modules, numbers, strict=True)
                }
            return self.runs[nodeid]

    config.option.loadscopereorder = False  # the runs' order is the point
    return RunScheduling(config, log)


def uses_module_rows(item):
    """How many module-scoped fixtures that write rows the test asks for (directly or through other fixtures): rows
    made once for the module on top of other such rows (tests/test_map_clusters.py's actor links on its incidents)
    stay until the module ends, so the tests that read only the first come before them."""
    return sum(
        definitions[-1].scope == "module" and "django_db_blocker" in definitions[-1].argnames
        for definitions in item._fixtureinfo.name2fixturedefs.values()
    )


@pytest.fixture
def map_thresholds(settings):
    """The map tests' thresholds: markers for up to POINTS_MAX incidents in view, clusters above, 50 a list page."""
    settings.MAP_POINTS_MAX = POINTS_MAX
    settings.MAP_LIST_PAGE_SIZE = 50


@pytest.fixture(scope="session", autouse=True)
def serialized_rollback_in_bulk(django_db_setup):
    """Transactional tests (live servers, gunicorn, replicas, backups, browsers) flush every table afterwards, and
    Django then puts back what the migrations wrote (taxonomy, regions, groups) one row per save: some 500 saves,
    seconds a test. The same rows in one bulk insert per model, a row already there (or made meanwhile by a
    trigger) overwritten, as Django's saves do (raw: no model code, no signals)."""
    from django.core import serializers
    from django.db import connection, transaction

    def deserialize_db_from_string(data):
        objects = list(serializers.deserialize("json", data, using=connection.alias))
        with transaction.atomic(using=connection.alias), connection.constraint_checks_disabled():
            by_model = {}
            for deserialized in objects:
                by_model.setdefault(type(deserialized.object), []).append(deserialized)
            for model, rows in by_model.items():
                fields = [field.name for field in model._meta.concrete_fields if not field.primary_key]
                model._base_manager.using(connection.alias).bulk_create(
                    [row.object for row in rows],
                    update_conflicts=bool(fields),
                    ignore_conflicts=not fields,
                    unique_fields=[model._meta.pk.name] if fields else None,
                    update_fields=fields or None,
                )
                for row in rows:
                    for accessor_name, related in (row.m2m_data or {}).items():
                        getattr(row.object, accessor_name).set(related)
            connection.check_constraints(table_names={model._meta.db_table for model in by_model})

    django_style = connection.creation.deserialize_db_from_string
    connection.creation.deserialize_db_from_string = deserialize_db_from_string
    yield
    connection.creation.deserialize_db_from_string = django_style


@pytest.fixture(autouse=True)
def browser_quiet_before_flush(request):
    """A browser test's page may still have requests in flight (a map move, the timeline) when the test ends, and
    the transactional flush that follows would deadlock with their queries: leave the page and let them finish."""
    yield
    if request.node.get_closest_marker("browser") is None:
        return
    page = getattr(request.node, "funcargs", {}).get("page")
    if page is not None and not page.is_closed():
        page.goto("about:blank")
        page.wait_for_timeout(300)


@pytest.fixture(autouse=True)
def default_language_after_each_test():
    """A request under /ar/ leaves Arabic active in this thread, and a later test's reverse() would then give /ar/
    URLs: every test starts from the site's default language."""
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)
