from django.core.management.base import BaseCommand

from conflictmap.proxy import write_nginx_config


class Command(BaseCommand):
    help = "Write the nginx configuration `make serve` runs in front of gunicorn (conflictmap/nginx.conf.template)."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="the nginx.conf to write")
        parser.add_argument("--listen", required=True, help="nginx's address, e.g. 127.0.0.1:8000")
        parser.add_argument("--upstream", required=True, help="gunicorn's, e.g. unix:/path/gunicorn.sock")
        parser.add_argument("--run-dir", required=True, help="nginx's pid, logs and temporary files")
        parser.add_argument("--worker-processes", default="auto")

    def handle(self, *args, **options):
        path = write_nginx_config(
            path=options["output"],
            listen=options["listen"],
            upstream=options["upstream"],
            run_dir=options["run_dir"],
            worker_processes=options["worker_processes"],
        )
        self.stdout.write(str(path))
