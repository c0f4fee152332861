from django.conf import settings
from django.core.management.base import BaseCommand

from preference_center.imis.rest.sandbox_server import DEFAULT_PASSWORD, DEFAULT_USER, RestSandbox


class Command(BaseCommand):
    help = (
        "Serve the iMIS REST sandbox (the documented REST shapes) from the SQL replica on the imis database "
        "alias (build it first with imis_sandbox). Point IMIS_API_URL, IMIS_API_USER and IMIS_API_PASSWORD at it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--user", default=DEFAULT_USER)
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument("--token-seconds", type=int, default=3600, help="how long a token lives")
        parser.add_argument("--read-only", action="store_true", help="the user may read, not write (403)")
        parser.add_argument(
            "--without-object",
            action="append",
            default=[],
            metavar="UD_TABLE",
            help="serve no business object for this UD table (a legacy table out of REST's reach); repeatable",
        )

    def handle(self, *args, host, port, user, password, token_seconds, read_only, without_object, **options):
        sandbox = RestSandbox(
            settings.IMIS_DB_ALIAS,
            host=host,
            port=port,
            username=user,
            password=password,
            token_seconds=token_seconds,
            read_only=read_only,
            without_objects=without_object,
            log_size=10_000,  # a long run keeps counts (GET /_sandbox/stats), not every request
        )
        self.stdout.write(f"iMIS REST sandbox on {sandbox.url} (user {user}); Ctrl-C stops it.")
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop_listening()
