import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conflictmap.settings.prod")
application = get_wsgi_application()

# The editors' assistant's indexes take seconds to build: a web process builds them as it starts. Under gunicorn
# (preload_app) that happens once in the master before the workers fork, so they share it; runserver reads on.
from incidents.extraction.warmup import warm_up, warm_up_in_background  # noqa: E402

if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
    warm_up()
else:
    warm_up_in_background()
