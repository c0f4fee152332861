from django.core.management.base import BaseCommand

from subscribers.member_cache import member_pages_warm
from subscribers.selectors import mailable_subscribers
from subscribers.services.links import links_csv_lines


class Command(BaseCommand):
    help = (
        "Write the personal links of mailable members (active, with an email, not excluded) as CSV for the "
        "mailing system's merge fields: imis_id, email, first_name, last_name, preference_url, one_click_url. "
        "Their pages are then cached ahead of the mailing (for MEMBER_CACHE_SECONDS)."
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
        cached = member_pages_warm(mailable_subscribers().values_list("pk", flat=True).iterator(chunk_size=2000))
        self.stderr.write(f"{cached} member pages cached ahead of the mailing")

    def _write(self, handle):
        count = -1
        for line in links_csv_lines():
            handle.write(line)
            count += 1
        return count
