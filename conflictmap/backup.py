"""Backups with PostgreSQL's own tools: pg_dump's custom format (everything, history tables included), pg_restore."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from django.db import connections

# Rate-limit counters are worth nothing in a restore.
SKIPPED_TABLE_DATA = ["conflictmap_ratelimitcounter"]


def postgres_tool(name):
    """The cluster's own version of the tool when Debian's layout has it, else the one on PATH."""
    debian = Path("/usr/lib/postgresql/15/bin") / name
    tool = os.environ.get("PG_BINDIR") and Path(os.environ["PG_BINDIR"]) / name
    for candidate in (tool, debian):
        if candidate and candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not installed (Debian package postgresql-client-15).")
    return found


def libpq_environment(*, alias="default", dbname=None):
    """PGHOST, PGPORT, … for the Django database (a Unix socket folder works as PGHOST), password never on argv."""
    settings = connections[alias].settings_dict
    variables = {
        "PGHOST": settings.get("HOST") or "",
        "PGPORT": str(settings.get("PORT") or ""),
        "PGUSER": settings.get("USER") or "",
        "PGPASSWORD": settings.get("PASSWORD") or "",
        "PGDATABASE": dbname or settings["NAME"],
    }
    return {**os.environ, **{name: value for name, value in variables.items() if value}}


def database_dump(*, output, alias="default"):
    """Write a custom-format dump of the whole database to `output`; the file appears only once it is complete."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    command = [postgres_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}"]
    command += [f"--exclude-table-data={table}" for table in SKIPPED_TABLE_DATA]
    try:
        subprocess.run(command, env=libpq_environment(alias=alias), check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as failed:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"pg_dump failed: {failed.stderr.strip()}") from None
    partial.rename(output)
    return output


def database_restore(*, dump, alias="default", dbname=None):
    """Restore `dump` into `dbname` (created when missing) or the configured database, in one transaction:
    a restore that fails leaves the database as it was."""
    if dbname and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", dbname):
        raise RuntimeError(f"{dbname!r} is not a plain database name (letters, digits, underscores).")
    environment = libpq_environment(alias=alias, dbname=dbname)
    if dbname:
        exists = subprocess.run(
            [postgres_tool("psql"), "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'", "postgres"],
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )
        if not exists.stdout.strip():
            subprocess.run([postgres_tool("createdb"), dbname], env=environment, check=True, capture_output=True)
    command = [postgres_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    command += ["--exit-on-error", f"--dbname={environment['PGDATABASE']}", str(dump)]
    try:
        subprocess.run(command, env=environment, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as failed:
        raise RuntimeError(f"pg_restore failed: {failed.stderr.strip()}") from None
