"""The nginx configuration `make serve` runs in front of gunicorn, from conflictmap/nginx.conf.template and the
settings (static files, the full downloads), so the proxy and the app cannot disagree on a path."""

import grp
import os
import pwd
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Engine

TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def nginx_config(*, listen, upstream, run_dir, worker_processes="auto", access_log=None, forwarded_proto="$scheme"):
    """The nginx.conf text. `listen` is nginx's address ("127.0.0.1:8000"), `upstream` gunicorn's ("unix:/path" or
    "127.0.0.1:8001"), `run_dir` where nginx keeps its pid, logs and temporary files."""
    run_dir = Path(run_dir)
    if not settings.DOWNLOAD_ACCEL_REDIRECT:
        raise ImproperlyConfigured(
            "Behind nginx, set DOWNLOAD_ACCEL_REDIRECT (e.g. /_downloads/): nginx sends the files."
        )
    context = {
        # Started as root, the workers run as the project's owner (who can read the files and the socket).
        "user": _project_owner() if os.geteuid() == 0 else "",
        "worker_processes": worker_processes,
        "worker_connections": 4096,
        "run_dir": run_dir,
        "access_log": access_log or f"{run_dir}/access.log",
        "client_max_body_size": os.environ.get("NGINX_CLIENT_MAX_BODY_SIZE", "1g"),
        "upstream": upstream,
        "listen": listen,
        "static_root": Path(settings.STATIC_ROOT),
        "accel_prefix": settings.DOWNLOAD_ACCEL_REDIRECT.rstrip("/") + "/",
        "download_dir": Path(settings.DOWNLOAD_CACHE_DIR),
        "forwarded_proto": forwarded_proto,
        # The largest answer nginx holds for a slow reader (a filtered GeoJSON export at 1 M incidents is ~600 MB).
        "proxy_max_temp_file_size": os.environ.get("NGINX_PROXY_MAX_TEMP_FILE_SIZE", "4096m"),
        "proxy_read_timeout": "300s",
    }
    return Engine(autoescape=False).from_string(TEMPLATE.read_text()).render(Context(context))


def _project_owner():
    stat = settings.BASE_DIR.stat()
    return f"{pwd.getpwuid(stat.st_uid).pw_name} {grp.getgrgid(stat.st_gid).gr_name}"


def write_nginx_config(*, path, **options):
    """Write the config and make the folders it names (nginx creates none of them itself)."""
    path = Path(path)
    run_dir = Path(options["run_dir"])
    for folder in (run_dir, *(run_dir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))):
        folder.mkdir(parents=True, exist_ok=True)
    Path(settings.DOWNLOAD_CACHE_DIR).mkdir(parents=True, exist_ok=True)
    path.write_text(nginx_config(**options))
    return path
