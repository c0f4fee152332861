"""The page after the one-click confirmation button (POST/redirect/GET: reloading it posts nothing again)."""

from django.views.decorators.http import require_GET

from .views import _one_click_page, personal_page


@require_GET
@personal_page
def one_click_done(request, token, link):
    """The member's subscriptions now: none, unless they chose some again since."""
    return _one_click_page(request, token, link, template="subscribers/one_click_done.html")
