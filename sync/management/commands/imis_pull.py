from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sync.services.roster import roster_pull


class Command(BaseCommand):
    help = "Pull members (Name) and the checkbox values of the interests on the form from iMIS."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=settings.IMIS_DB_ALIAS, help="iMIS database alias (default: imis)")

    def handle(self, *args, database, **options):
        bars = {}
        quiet = options["verbosity"] < 1

        def progress(stage, n):
            if stage not in bars:
                for bar in bars.values():
                    bar.close()
                bars[stage] = tqdm(desc=stage, unit=" rows", disable=quiet, file=self.stderr._out)
            bars[stage].update(n)

        try:
            run = roster_pull(using=database, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        summary = ", ".join(f"{key} {value}" for key, value in run.counts.items())
        if not run.ok:
            raise CommandError(f"pull {'incomplete' if run.counts else 'failed'}: {run.error} ({summary})")
        self.stdout.write(self.style.SUCCESS(f"Pulled from iMIS in {run.duration.total_seconds():.1f}s: {summary}"))
