import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preference_center.settings")

application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve forgeable links (the worker then fails to boot).
from .checks import refuse_insecure_start  # noqa: E402 - after the apps are loaded

refuse_insecure_start()
