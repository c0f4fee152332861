from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections


class Command(DjangoMigrate):
    """Django's migrate, refusing a real iMIS (SQL Server): Django would create its django_migrations table
    there even though the router lets none of our models in."""

    def handle(self, *args, **options):
        if connections[options["database"]].vendor == "microsoft":
            raise CommandError("iMIS is not ours: migrate never touches the SQL Server database.")
        return super().handle(*args, **options)
