from django.core.management.base import BaseCommand, CommandError

from sync.services.discovery import interests_discover


def _printable(text):
    """Names from iMIS metadata may hold anything, terminal escapes included: show them inert."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


class Command(BaseCommand):
    help = (
        "Discover the checkbox fields of iMIS: add new ones (hidden), update renamed ones, mark vanished ones, "
        "and list the fields skipped with the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=None, help="iMIS database alias (default: imis)")

    def handle(self, *args, database, **options):
        run = interests_discover(using=database)
        if not run.ok:
            raise CommandError(f"{run.error}. Nothing was changed.")
        outcome = run.outcome
        for title, names in (
            ("Added (hidden until staff show them)", outcome.added),
            ("Updated from iMIS", outcome.updated),
            ("Back in iMIS", outcome.returned),
            ("No longer in iMIS (taken off the form, history kept)", outcome.missing),
        ):
            self._section(title, names)
        self._section("Skipped", [_printable(f"{s.table_name}.{s.field_name}: {s.reason}") for s in outcome.skipped])
        seconds = run.duration.total_seconds()
        self.stdout.write(self.style.SUCCESS(f"Discovery done in {seconds:.1f}s: {outcome.summary}."))

    def _section(self, title, lines):
        if not lines:
            return
        self.stdout.write(f"{title}:")
        for line in lines:
            self.stdout.write(f"  {line}")
