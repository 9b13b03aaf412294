"""Rows that a module's tests only read, made once for the module rather than once for each test.

A module-scoped fixture makes them with `rows_for_the_module()`: one transaction around the module's remaining
tests. Each test's own transaction then becomes a savepoint, rolled back after it as usual, so every test sees the
rows exactly as made, whatever the tests before it wrote; the whole is rolled back when the module ends, and the
database is as before. conftest.py runs a module's tests that use such rows after its other tests, which must not
see them.
"""

import copy

from django.db import connection, transaction


def rows_for_the_module(django_db_blocker, make):
    """A module fixture's body: `yield from rows_for_the_module(django_db_blocker, make)`."""
    with django_db_blocker.unblock(), transaction.atomic():
        rows = make()
        # The deferred constraint checks on these rows, once: left pending, they would run again at the end of every
        # test (Django's TestCase checks constraints, and each rolled-back savepoint sets them pending again).
        connection.check_constraints()
        # Statistics of the new rows: never committed, they are invisible to autovacuum, and a later statement's
        # kept-table triggers were planned with whatever the tables held before (a test's 600 actor links took 22 s
        # against 0.6 s, depending on what ran earlier in the process). ANALYZE in the transaction sees them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE incidents_incident, incidents_incidentactor, incidents_incidentsource")
        yield rows
        transaction.set_rollback(True)


def fresh_copy(rows):
    """The module's rows for one test, which may set their fields in Python as it changes the database: dicts and
    lists rebuilt, each instance copied (a deep copy of thousands takes seconds; related instances stay shared)."""
    if isinstance(rows, dict):
        return {key: fresh_copy(value) for key, value in rows.items()}
    if isinstance(rows, list):
        return [fresh_copy(row) for row in rows]
    return copy.copy(rows)
