from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from .selectors import brand_published


def brand(request):
    """`brand` for every page rendered with its request, read only by a template that uses it (the member
    pages' base.html; never the admin's). A view's own `brand` (the staff preview's draft) wins."""
    return {"brand": SimpleLazyObject(lambda: brand_published(get_language()))}
