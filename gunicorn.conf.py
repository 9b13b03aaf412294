"""gunicorn settings for `make serve` (read from the project root, where gunicorn looks for this file).

Threaded workers: a slow client ties up one thread, not a whole worker, and a worker's heartbeat comes from its main
thread, so `timeout` only ever catches a hung worker and never cuts a long download.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# The WSGI app is loaded once before forking: workers share its memory and start in no time.
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# gunicorn's control socket defaults to one path in $HOME for every gunicorn on the machine; scripts/serve.sh and the
# tests manage gunicorn by signals and need none.
control_socket_disable = True
