"""Settings shared by every environment; everything that varies is read from the environment."""

import datetime
import os
from pathlib import Path

import environ
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOCAL_DIR = BASE_DIR / ".local"

env = environ.Env()


def database_url():
    """DATABASE_URL wins; otherwise the project-local cluster that scripts/localdb.sh wrote down."""
    if env("DATABASE_URL", default=""):
        return env("DATABASE_URL")
    local = LOCAL_DIR / "database_url"
    if local.exists():
        return local.read_text().strip()
    return ""


SECRET_KEY = os.environ.get("SECRET_KEY", "")  # as is: see prod.py
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Above Django's 2.5 MB, so that a 5 MB report pasted into the editors' assistant reaches its form and gets the
# form's message ("at most 200,000 characters") instead of a bare 400 page.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=6 * 1024 * 1024)

# The editors' assistant posts about 21 fields per candidate and shows up to 100 (CandidateFormSet.max_num), plus
# the actors chosen: Django's 1,000 would refuse its create step from about 48 candidates with a bare 400.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=4000)

# REMOTE_ADDR values of reverse proxies whose X-Forwarded-For names the client (conflictmap/middleware.py);
# "unix" is gunicorn's Unix socket behind nginx (`make serve`). Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "django_filters",
    "django_countries",
    "leaflet",
    "simple_history",
    "csp",
    "places",
    "axes",
    # Before the apps whose tasks.py it discovers (conflictmap/jobs.py).
    "procrastinate.contrib.django",
    "conflictmap",
    "incidents",
    "webhooks",
]

MIDDLEWARE = [
    # First: everything after it (the rate limit, the sign-in lockout, the logs) sees the client's own address.
    "conflictmap.middleware.ProxyClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything that queries: an outage becomes a 503, and over-eager clients are turned away cheaply.
    "conflictmap.middleware.DatabaseUnavailableMiddleware",
    "conflictmap.middleware.RateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "conflictmap.routers.PublicReadMiddleware",
    "conflictmap.middleware.LockoutRetryAfterMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# When SECURE_SSL_REDIRECT is on (production): a load balancer probes over plain http inside the network, and a
# redirect would read as a failed check.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

ROOT_URLCONF = "conflictmap.urls"
WSGI_APPLICATION = "conflictmap.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "incidents.context_processors.site_notices",
            ],
        },
    },
]


# A sensitive incident with no district polygon round its point is shown at the centre of a grid cell this many km
# a side (docs/architecture.md, "Public and exact locations"). 25 km: UCDP's where_prec 2 ("within 25 km") at most.
SENSITIVE_LOCATION_GRID_KM = env.float("SENSITIVE_LOCATION_GRID_KM", default=25.0)


def database_config(url):
    config = env.db_url_config(url)
    config["ENGINE"] = "django.contrib.gis.db.backends.postgis"
    # postgis://user@/name?host=/socket/dir&port=5433 names a Unix socket folder.
    options = config.setdefault("OPTIONS", {})
    for key in ("host", "port"):
        if key in options:
            config[key.upper()] = options.pop(key)
    # The trigger that generalises sensitive incidents (incidents/aggregates/privacy.py) reads the grid from the
    # session, so every writer that connects through Django uses the setting.
    grid = f"-c conflictmap.sensitive_location_grid_km={SENSITIVE_LOCATION_GRID_KM:g}"
    options["options"] = f"{options['options']} {grid}" if options.get("options") else grid
    config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
    # A kept connection is pinged before reuse, so the site recovers by itself after the database restarts.
    config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


DATABASES = {"default": database_config(database_url()) if database_url() else {}}

# PostgreSQL streaming replicas for public reads (conflictmap/routers.py): comma-separated URLs, each becoming the
# alias replica_1, replica_2, … Writes, the admin, sessions and users always use the primary (DATABASE_URL).
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    DATABASES[f"replica_{_number}"] = {
        **database_config(_url),
        # A replica that does not answer within 2 s is skipped rather than holding the request.
        "OPTIONS": {**database_config(_url).get("OPTIONS", {}), "connect_timeout": 2},
        # Tests run against the primary's test database; a replica test starts its own replica.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["conflictmap.routers.PrimaryReplicaRouter"]
DATABASE_REPLICA_APPS = ["incidents", "places"]  # the public data; sessions and users stay on the primary
DATABASE_REPLICA_MAX_LAG = env.float("DATABASE_REPLICA_MAX_LAG", default=5.0)  # seconds behind: skipped
DATABASE_REPLICA_CHECK_INTERVAL = env.float("DATABASE_REPLICA_CHECK_INTERVAL", default=3.0)  # seconds
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "admin:login"

# Sign-in: django-axes locks out an account, and separately an address, after repeated wrong passwords.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# Each element is its own lockout: too many failures for one username, or from one address, whatever the other.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
# Editors' sessions end after a working day (an absolute limit from sign-in); optionally also when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)

# Rate limits per client address, as "requests/seconds", counted in one PostgreSQL table shared by every worker
# (conflictmap/middleware.py). Full downloads are big, so they get far fewer than the paged API and the map feed.
RATE_LIMITS = {
    "api": env("RATE_LIMIT_API", default="600/60"),
    "download": env("RATE_LIMIT_DOWNLOAD", default="30/600"),
    # A vector-tile map asks for a dozen or two tiles per view.
    "tiles": env("RATE_LIMIT_TILES", default="3000/60"),
}
# Seconds a client may reuse a vector tile or TileJSON before revalidating it (ETag).
TILES_MAX_AGE = env.int("TILES_MAX_AGE", default=60)
# Seconds a client is told to wait (Retry-After) when the database is unreachable.
DATABASE_UNAVAILABLE_RETRY_AFTER = env.int("DATABASE_UNAVAILABLE_RETRY_AFTER", default=30)

# Full-dataset downloads are written here once per data version and then served as files (resumable with Range).
DOWNLOAD_CACHE_DIR = Path(env("DOWNLOAD_CACHE_DIR", default=str(LOCAL_DIR / "downloads")))
# Behind nginx, the internal location that serves DOWNLOAD_CACHE_DIR (X-Accel-Redirect): the proxy sends the file,
# Range included, and no app thread waits on a slow reader. Empty: the app sends the file itself.
DOWNLOAD_ACCEL_REDIRECT = env("DOWNLOAD_ACCEL_REDIRECT", default="")

# Synthetic demo incidents may be generated and loaded (never in production).
DEMO_DATA_ALLOWED = env.bool("DEMO_DATA_ALLOWED", default=False)

# The admin and public maps: no tile server is reachable in tests, so tiles are a setting.
MAP_TILES_URL = env("MAP_TILES_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILES_ATTRIBUTION = env(
    "MAP_TILES_ATTRIBUTION",
    default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (34.8, 38.9),
    "DEFAULT_ZOOM": 6,
    "MIN_ZOOM": 2,
    "MAX_ZOOM": 18,
    "RESET_VIEW": False,
    "TILES": [(_("OpenStreetMap"), MAP_TILES_URL, {"attribution": MAP_TILES_ATTRIBUTION})] if MAP_TILES_URL else [],
    # Shown even without tiles: the places, governorates and districts come from these gazetteers (CC0 / CC BY 4.0).
    "ATTRIBUTION_PREFIX": (
        '<a href="https://leafletjs.com">Leaflet</a> | Places: <a href="https://whosonfirst.org/">Who’s On First</a>, '
        '<a href="https://www.geonames.org/">GeoNames</a>'
    ),
}

# A strict policy: no inline scripts except those carrying the per-request nonce
# (django-leaflet's widget template emits one and is given the nonce).
_tile_origin = "https://*.openstreetmap.org" if "openstreetmap.org" in MAP_TILES_URL else ""
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *([_tile_origin] if _tile_origin else [])],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    }
}

# Who may frame the embeddable map (/embed/, CSP frame-ancestors): any site by default, as journalists embed it in
# articles; a list of origins ("https://news.example") to restrict it. Every other page refuses to be framed.
EMBED_FRAME_ANCESTORS = env.list("EMBED_FRAME_ANCESTORS", default=["*"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

# Debian 12 ships GDAL 3.6, which cannot sandbox file access while parsing spatial reference strings.
# We never pass user-supplied SRS text to GDAL (points are typed or drawn, SRID 4326 is fixed); see docs/operations.md.
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=["gis.W001"])

# Browser libraries installed from npm at pinned versions (package.json) and served as static files, never a CDN.
STATICFILES_DIRS += [
    ("vendor/markercluster", BASE_DIR / "node_modules/leaflet.markercluster/dist"),
    ("vendor/topojson-client", BASE_DIR / "node_modules/topojson-client/dist"),
    ("vendor/world-atlas", BASE_DIR / "node_modules/world-atlas"),
]

# Geocoding (places/geocoding.py): the offline GeoNames gazetteer first, then an optional online geopy provider.
# Countries whose GeoNames places `manage.py load_gazetteer` loads (ISO 3166-1 alpha-2).
GAZETTEER_COUNTRIES = env.list("GAZETTEER_COUNTRIES", default=["SY", "IQ", "TR", "LB", "JO"])
# Among equally good matches, places in these countries win ("Tal Abyad" the Syrian town, not a Turkish namesake).
GEOCODER_COUNTRY_BIAS = env.list("GEOCODER_COUNTRY_BIAS", default=["SY", "IQ"])
# A geopy service name ("nominatim", "photon", …) or a dotted path to a geopy Geocoder class; empty: offline only.
GEOCODER_ONLINE_PROVIDER = env("GEOCODER_ONLINE_PROVIDER", default="")
# Keyword arguments for the provider, as JSON, e.g. {"user_agent": "conflictmap (ops@example.org)"}.
GEOCODER_ONLINE_OPTIONS = env.json("GEOCODER_ONLINE_OPTIONS", default={"user_agent": "conflictmap"})
GEOCODER_ONLINE_TIMEOUT = env.float("GEOCODER_ONLINE_TIMEOUT", default=5.0)
# Nominatim's usage policy allows one request a second; geopy's RateLimiter keeps us to it.
GEOCODER_ONLINE_MIN_DELAY_SECONDS = env.float("GEOCODER_ONLINE_MIN_DELAY_SECONDS", default=1.0)

# The public map: markers for up to this many incidents in view, PostGIS grid clusters above (1,000 markers are
# about 100 KB of JSON); the list's page size.
MAP_POINTS_MAX = env.int("MAP_POINTS_MAX", default=1000)
MAP_LIST_PAGE_SIZE = env.int("MAP_LIST_PAGE_SIZE", default=50)
# `manage.py refresh_map_terms` keeps the map's clusters for every word at least this many published incidents carry
# (MapTerm). Any other word is counted live: at 1 M incidents one in 50,000 (q=Homs) took 53 ms median, 81 ms p95,
# one in 97,000 (q=Aleppo) 105 ms and 175 ms; kept, 25 ms and 41 ms.
MAP_TERM_MIN_INCIDENTS = env.int("MAP_TERM_MIN_INCIDENTS", default=50_000)
# And at most this many of them, the most common first: each costs up to a MapCell's worth of rows and some work on
# every incident write (at 1 M generated incidents, 18 words: 106 MB).
MAP_TERM_MAX_TERMS = env.int("MAP_TERM_MAX_TERMS", default=24)

# Data API (/api/incidents.geojson, OGC API items): features per page by default and at most.
API_DEFAULT_LIMIT = env.int("API_DEFAULT_LIMIT", default=100)
API_MAX_LIMIT = env.int("API_MAX_LIMIT", default=10000)
# Where `manage.py release` writes each release's files (GeoJSON, CSV, manifest, citation); keep it backed up.
RELEASES_DIR = Path(env("RELEASES_DIR", default=str(LOCAL_DIR / "releases")))
# Entries of an Atom feed of the map's filters (/map/incidents.atom).
ATOM_FEED_ENTRIES = env.int("ATOM_FEED_ENTRIES", default=50)

# Imports (manage.py import_events, admin "Import batches"): where an uploaded file waits between the preview and
# the confirmation (the admin runs imports as background jobs, below).
IMPORT_UPLOAD_DIR = Path(env("IMPORT_UPLOAD_DIR", default=str(LOCAL_DIR / "imports")))
# Rows of a file that one write statement carries (all in the import's one transaction): the kept tables' triggers
# then see at most this many incidents at once, so the import's cost grows with the file's rows, not faster. Each
# chunk's upserts walk the kept tables' indexes once, in key order: a million rows in five chunks took 549–576 s, in
# ten of 100,000 603–616 s, with the importing backend at about 0.75–0.86 GB (bench/RESULTS.md, "Import at scale").
IMPORT_WRITE_CHUNK_ROWS = env.int("IMPORT_WRITE_CHUNK_ROWS", default=200_000)

# Background jobs (conflictmap/jobs.py, docs/operations.md): procrastinate's queue in this database, run by
# `manage.py procrastinate worker`. JOBS_RUN_AT_ONCE runs a job in the process that asks for it instead (the tests
# of the pages around a job, debugging); tests/test_jobs.py runs real workers.
JOBS_RUN_AT_ONCE = env.bool("JOBS_RUN_AT_ONCE", default=False)
# A worker notes it is alive this often; one silent for JOBS_STALLED_AFTER_SECONDS is taken for dead, and the sweep
# (every JOBS_SWEEP_CRON: cron, a 6th field for seconds) runs its jobs again, at most JOBS_STALLED_RETRIES times
# before marking them failed.
JOBS_HEARTBEAT_SECONDS = env.float("JOBS_HEARTBEAT_SECONDS", default=10.0)
JOBS_STALLED_AFTER_SECONDS = env.float("JOBS_STALLED_AFTER_SECONDS", default=30.0)
JOBS_STALLED_RETRIES = env.int("JOBS_STALLED_RETRIES", default=2)
JOBS_SWEEP_CRON = env("JOBS_SWEEP_CRON", default="* * * * *")
# Finished jobs of the periodic kind are deleted after this many days; an import's job stays as long as its batch.
JOBS_KEEP_DAYS = env.int("JOBS_KEEP_DAYS", default=7)
PROCRASTINATE_WORKER_DEFAULTS = {
    # Jobs at once per worker: an import and a download file do not wait for each other.
    "concurrency": env.int("JOBS_WORKER_CONCURRENCY", default=2),
    "update_heartbeat_interval": JOBS_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": JOBS_STALLED_AFTER_SECONDS,
}
PROCRASTINATE_ON_APP_READY = "conflictmap.jobs.on_app_ready"  # adds the workers' task middleware
# A new version of the public data gets its full-download files from a job: after every import, and at most this
# long after an edit (cron).
FULL_DOWNLOAD_REFRESH_CRON = env("FULL_DOWNLOAD_REFRESH_CRON", default="* * * * *")

# Webhooks (webhooks/, docs/api.md#webhooks): every WEBHOOKS_CRON a worker picks up new public changes and sends them;
# a failed send is tried again after WEBHOOKS_RETRY_FIRST_SECONDS, doubling up to WEBHOOKS_RETRY_MAX_SECONDS (then the
# webhook is marked failing, and still tried at that pace). Private, loopback and reserved targets are refused unless
# WEBHOOKS_ALLOW_PRIVATE (the tests' loopback receiver).
WEBHOOKS_CRON = env("WEBHOOKS_CRON", default="*/15 * * * * *")
WEBHOOKS_RETRY_FIRST_SECONDS = env.float("WEBHOOKS_RETRY_FIRST_SECONDS", default=60.0)
WEBHOOKS_RETRY_MAX_SECONDS = env.float("WEBHOOKS_RETRY_MAX_SECONDS", default=86_400.0)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
WEBHOOKS_RESPONSE_MAX_BYTES = env.int("WEBHOOKS_RESPONSE_MAX_BYTES", default=65_536)
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
WEBHOOKS_KEEP_DAYS = env.int("WEBHOOKS_KEEP_DAYS", default=30)  # delivered ones leave the delivery log after this
# Certificates that https receivers may present: the system's store unless a PEM bundle is named (an internal CA).
WEBHOOKS_CA_FILE = env("WEBHOOKS_CA_FILE", default=None)

# Archived sources (incidents/archive.py, docs/evidence.md): when SOURCE_ARCHIVING is on, saving a source with a URL
# queues a job that fetches it once and keeps the answer as a WARC file in SOURCE_ARCHIVE_DIR (never served as
# plain files). Private, loopback and reserved addresses are refused unless SOURCE_ARCHIVING_ALLOW_PRIVATE (the
# tests' loopback server); at most SOURCE_ARCHIVING_MAX_BYTES of page, SOURCE_ARCHIVING_MAX_REDIRECTS redirects, and
# SOURCE_ARCHIVING_TIMEOUT_SECONDS for the whole fetch (each connection within SOURCE_ARCHIVING_CONNECT_SECONDS).
SOURCE_ARCHIVING = env.bool("SOURCE_ARCHIVING", default=False)
SOURCE_ARCHIVE_DIR = Path(env("SOURCE_ARCHIVE_DIR", default=str(LOCAL_DIR / "source-archive")))
SOURCE_ARCHIVING_ALLOW_PRIVATE = env.bool("SOURCE_ARCHIVING_ALLOW_PRIVATE", default=False)
SOURCE_ARCHIVING_MAX_BYTES = env.int("SOURCE_ARCHIVING_MAX_BYTES", default=20 * 1024 * 1024)
SOURCE_ARCHIVING_MAX_REDIRECTS = env.int("SOURCE_ARCHIVING_MAX_REDIRECTS", default=5)
SOURCE_ARCHIVING_CONNECT_SECONDS = env.float("SOURCE_ARCHIVING_CONNECT_SECONDS", default=10.0)
SOURCE_ARCHIVING_TIMEOUT_SECONDS = env.float("SOURCE_ARCHIVING_TIMEOUT_SECONDS", default=60.0)
SOURCE_ARCHIVING_USER_AGENT = env(
    "SOURCE_ARCHIVING_USER_AGENT", default="Mozilla/5.0 (compatible; conflictmap-archiver/1; +source archiving)"
)
SOURCE_ARCHIVING_CA_FILE = env("SOURCE_ARCHIVING_CA_FILE", default=None)

# Media attached to incidents (incidents/media.py, docs/operations.md#media): originals stay private (staff read them
# through the admin); public copies, re-encoded without metadata, are served by a view that checks the incident is
# published. Neither folder may be served by the web server directly.
MEDIA_ORIGINALS_DIR = Path(env("MEDIA_ORIGINALS_DIR", default=str(LOCAL_DIR / "media" / "originals")))
MEDIA_PUBLIC_DIR = Path(env("MEDIA_PUBLIC_DIR", default=str(LOCAL_DIR / "media" / "public")))
# The types accepted, read from each file's content; anything else (a GIF, a renamed program) is a form error.
MEDIA_ALLOWED_TYPES = env.list(
    "MEDIA_ALLOWED_TYPES", default=["image/jpeg", "image/png", "image/webp", "video/mp4", "video/webm"]
)
MEDIA_MAX_BYTES = {
    "image": env.int("MEDIA_MAX_IMAGE_BYTES", default=20 * 1024 * 1024),
    "video": env.int("MEDIA_MAX_VIDEO_BYTES", default=200 * 1024 * 1024),
}
# Decoding a 100-megapixel image takes 300 MB of memory: larger ones are refused before their pixels are read.
MEDIA_IMAGE_MAX_PIXELS = env.int("MEDIA_IMAGE_MAX_PIXELS", default=50_000_000)
MEDIA_JPEG_QUALITY = env.int("MEDIA_JPEG_QUALITY", default=88)
# Two images whose 64-bit perceptual hashes differ in at most this many bits are "the same picture" (re-encoded,
# resized); measured in tests/test_media.py: a resize and a JPEG re-encode differ by 0-4 bits, other pictures by 20+.
MEDIA_NEAR_DUPLICATE_BITS = env.int("MEDIA_NEAR_DUPLICATE_BITS", default=8)
# How long browsers and proxies may keep a public copy: an item withdrawn stops being served within this time.
MEDIA_CACHE_SECONDS = env.int("MEDIA_CACHE_SECONDS", default=300)
