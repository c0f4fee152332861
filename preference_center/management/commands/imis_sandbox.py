from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from preference_center.imis.sandbox import SandboxRefused, build_sandbox


class Command(BaseCommand):
    help = "Create an iMIS replica (tables of docs/imis-schema.sql) with demo members on SQLite or PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=300, help="number of demo members (default 300)")
        parser.add_argument("--database", default=settings.IMIS_DB_ALIAS, help="database alias (default: imis)")
        parser.add_argument("--extra-tables", type=int, default=0, help="extra single-instance UD tables")
        parser.add_argument("--fields-per-table", type=int, default=20, help="checkbox fields per extra table")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the replica already exists")

    def handle(self, *args, members, database, extra_tables, fields_per_table, seed, if_empty, **options):
        if members < 0 or extra_tables < 0 or fields_per_table < 1:
            raise CommandError("--members and --extra-tables must be >= 0, --fields-per-table >= 1")
        if if_empty and self._exists(database):
            self.stdout.write("iMIS sandbox already present: left as it is.")
            return
        bar = tqdm(total=members, unit="member", disable=options["verbosity"] < 1 or members < 5000)
        try:
            result = build_sandbox(
                database,
                members=members,
                extra_tables=extra_tables,
                fields_per_table=fields_per_table,
                seed=seed,
                progress=lambda n: bar.update(n - bar.n),
            )
        except SandboxRefused as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"iMIS sandbox on '{database}': {result['members']} members, UD tables {', '.join(result['ud_tables'])}"
            )
        )

    def _exists(self, database):
        from django.db import connections

        connection = connections[database]
        with connection.cursor() as cursor:
            names = {t.name.lower() for t in connection.introspection.get_table_list(cursor)}
        return "name" in names and "counter" in names
