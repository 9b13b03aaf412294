"""Production settings fail fast, and `check --deploy` is clean apart from the warnings docs/operations.md explains."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management.utils import get_random_secret_key

ROOT = settings.BASE_DIR
PROD_ENV = {
    "SECRET_KEY": get_random_secret_key(),
    "ALLOWED_HOSTS": "conflictmap.example.org",
    "DATABASE_URL": "postgis://user:password@db.example.org:5432/conflictmap",
}


def manage(*args, **env):
    clean = {key: value for key, value in os.environ.items() if key not in PROD_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args, "--settings=conflictmap.settings.prod"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without(missing):
    env = {key: value for key, value in PROD_ENV.items() if key != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_deploy_check_is_clean_but_for_the_documented_warning():
    result = manage("check", "--deploy", **PROD_ENV)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    reported = {line.split(")")[0].split("(")[-1] for line in output.splitlines() if line.startswith("?:")}
    # HSTS preload is a one-way commitment a deployment opts into (docs/operations.md, "check --deploy").
    assert reported == {"security.W021"}, output
    assert "security.W021" in (ROOT / "docs" / "operations.md").read_text()


def test_dev_settings_find_the_local_database_by_themselves():
    if os.environ.get("DATABASE_URL"):
        pytest.skip("an external DATABASE_URL is in use")
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from incidents.models import EventType; print(EventType.objects.count())",
        ],
        cwd=ROOT,
        env={key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "6"


def test_production_takes_a_secret_key_that_starts_with_a_dollar_sign():
    # Django's get_random_secret_key() draws from an alphabet with "$"; django-environ would read such a key as
    # the name of another variable and report it missing.
    result = manage("check", **{**PROD_ENV, "SECRET_KEY": "$" + PROD_ENV["SECRET_KEY"][1:]})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "weak_key",
    ["x", "a" * 60, "django-insecure-" + "k3y5-0f-f1ft33n-ch4r5-4nd-m0r3-l3tt3rs-h3r3!", "short-but-varied-key-42"],
)
def test_production_refuses_a_weak_secret_key(weak_key):
    result = manage("check", **{**PROD_ENV, "SECRET_KEY": weak_key})
    assert result.returncode != 0
    assert "Production needs a SECRET_KEY of at least 50 characters" in result.stderr
