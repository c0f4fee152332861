"""Settings of the processes a bench starts (DJANGO_SETTINGS_MODULE=bench.settings): production's, plus the
bare view the member's page is measured against (bench/bare_urls.py). Production never routes it."""

from preference_center.settings import *  # noqa: F403
from preference_center.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.bare_urls"
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}]
