"""A bulk writer may check "a published incident cites a source" once for all its incidents, in one query, instead of
the deferred constraint triggers of 0004 checking each incident at commit (a million-row import queued a million
checks: two index probes and a PL/pgSQL call each).

The writer sets `conflictmap.sources_checked` for its transaction (SET LOCAL), writes, runs its own set-based check
and sets it off again (incidents/importing/loading.py). The triggers' WHEN conditions are evaluated when a row is
written, not at commit, so rows written while it is on queue no check; every other write is checked as before.
"""

from django.db import migrations

TRIGGERS = """
DROP TRIGGER IF EXISTS incident_published_has_source ON incidents_incident;
CREATE CONSTRAINT TRIGGER incident_published_has_source
    AFTER INSERT OR UPDATE OF status ON incidents_incident
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'published' {unchecked})
    EXECUTE FUNCTION incidents_incident_source_check();

DROP TRIGGER IF EXISTS incident_source_kept_for_published ON incidents_incidentsource;
CREATE CONSTRAINT TRIGGER incident_source_kept_for_published
    AFTER DELETE OR UPDATE OF incident_id ON incidents_incidentsource
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW {when}
    EXECUTE FUNCTION incidents_incident_source_check();
"""
UNCHECKED = "current_setting('conflictmap.sources_checked', true) IS DISTINCT FROM 'on'"


class Migration(migrations.Migration):
    dependencies = [("incidents", "0029_import_batch_job")]

    operations = [
        migrations.RunSQL(
            TRIGGERS.format(unchecked=f"AND {UNCHECKED}", when=f"WHEN ({UNCHECKED})"),
            TRIGGERS.format(unchecked="", when=""),
        )
    ]
