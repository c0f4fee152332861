from django.core.management.base import BaseCommand

from subscribers.services.links import RowCount, links_csv_lines


class Command(BaseCommand):
    help = (
        "Write the personal links of mailable members (active, with an email, not excluded) as CSV for the "
        "mailing system's merge fields: imis_id, email, first_name, last_name, preference_url, one_click_url, language."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="file to write (default: standard output)")

    def handle(self, *args, output, **options):
        if output == "-":
            try:
                self._write(self.stdout._out)
            except BrokenPipeError:  # e.g. piped into `head`
                return
        else:
            with open(output, "w", newline="", encoding="utf-8") as handle:
                count = self._write(handle)
            self.stderr.write(f"{count} links written to {output}")

    def _write(self, handle):
        count = RowCount()
        for piece in links_csv_lines(count=count):
            handle.write(piece)
        return count.rows
