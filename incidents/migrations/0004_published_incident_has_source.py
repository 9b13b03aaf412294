"""A published incident cites at least one source, checked by the database at commit time.

A CHECK constraint cannot look at another table, so deferred constraint triggers do it: deferred, because the
admin saves an incident before its sources within one transaction.
"""

from django.db import migrations

FUNCTION = """
CREATE FUNCTION incidents_check_published_has_source(checked_id bigint) RETURNS void AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM incidents_incident WHERE id = checked_id AND status = 'published')
       AND NOT EXISTS (SELECT 1 FROM incidents_incidentsource WHERE incident_id = checked_id) THEN
        RAISE EXCEPTION 'published incident % cites no source', checked_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incident_published_has_source';
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION incidents_incident_source_check() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'incidents_incident' THEN
        PERFORM incidents_check_published_has_source(NEW.id);
    ELSE
        PERFORM incidents_check_published_has_source(OLD.incident_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER incident_published_has_source
    AFTER INSERT OR UPDATE OF status ON incidents_incident
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'published')
    EXECUTE FUNCTION incidents_incident_source_check();

CREATE CONSTRAINT TRIGGER incident_source_kept_for_published
    AFTER DELETE OR UPDATE OF incident_id ON incidents_incidentsource
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION incidents_incident_source_check();
"""

REVERSE = """
DROP TRIGGER IF EXISTS incident_source_kept_for_published ON incidents_incidentsource;
DROP TRIGGER IF EXISTS incident_published_has_source ON incidents_incident;
DROP FUNCTION IF EXISTS incidents_incident_source_check();
DROP FUNCTION IF EXISTS incidents_check_published_has_source(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_editorial_groups")]

    operations = [migrations.RunSQL(FUNCTION, REVERSE)]
