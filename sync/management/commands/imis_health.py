from django.core.management.base import BaseCommand, CommandError

from interests.models import RemoteInterest
from preference_center import imis


class Command(BaseCommand):
    help = "Check the iMIS connection: reachable, tables present, permissions sufficient."

    def handle(self, *args, **options):
        ud_tables = RemoteInterest.objects.filter(visible=True).values_list("table_name", flat=True).distinct()
        health = imis.health_check(ud_tables=list(ud_tables))
        self.stdout.write(f"iMIS ({health.vendor}): {health.summary}")
        if not health.ok:
            raise CommandError("iMIS is not ready for the preference center")
