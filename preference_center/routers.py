from django.conf import settings


class ImisRouter:
    """iMIS is not ours: none of our models lives there and `migrate` never touches it.

    The gateway talks to the `imis` alias with its own statements; everything else uses `default`.
    """

    def db_for_read(self, model, **hints):
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != settings.IMIS_DB_ALIAS
