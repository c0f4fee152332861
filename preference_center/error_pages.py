"""The site's 500 page, styled as the member pages (templates/500.html). The 404 is Django's own view of
templates/404.html, with the request (the brand, the language)."""

import logging

from django.http import HttpResponseServerError
from django.template import loader
from django.utils.translation import get_language
from django.views.decorators.csrf import requires_csrf_token

from branding.selectors import brand_published

logger = logging.getLogger(__name__)
_PLAIN_500 = "<!doctype html><title>Server error</title><h1>Something went wrong</h1><p>Please try again later.</p>"


@requires_csrf_token
def server_error(request):
    # No request context and no database: whatever failed (the database, a context processor) must not
    # fail this page too. If even the template fails, a plain page.
    try:
        brand = brand_published(get_language(), database=False)  # what the cache holds, else the default
        body = loader.render_to_string("500.html", {"brand": brand})
    except Exception:
        logger.exception("the 500 page could not be rendered")
        body = _PLAIN_500
    return HttpResponseServerError(body)
