"""The brand's assets: its stylesheet and its logo, served by us from the database (several web hosts need
no shared media storage), at URLs that change with their content and are cached for good."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from .selectors import brand_logo
from .stylesheet import brand_css

FOREVER = "max-age=31536000, immutable"


@require_GET
def stylesheet(request, colour):
    response = HttpResponse(brand_css(f"#{colour}"), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, {FOREVER}"
    return response


@require_GET
def logo(request, digest):
    found = brand_logo(digest, staff=request.user.is_active and request.user.is_staff)
    if found is None:
        raise Http404("no such logo")
    content, content_type, published = found
    response = HttpResponse(content, content_type=content_type)
    # A draft's logo is for the staff previewing it: kept out of shared caches.
    response["Cache-Control"] = f"{'public' if published else 'private'}, {FOREVER}"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
