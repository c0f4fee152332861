"""The project's URLs for the mailing tests, plus stand-ins for the member pages' URL names if this branch
does not have them yet (the personal links reverse "preference_form" and "one_click"). Once the members'
URLs are merged, the stand-ins are not added and the real pages answer."""

from django.http import HttpResponse
from django.urls import path

from preference_center.urls import urlpatterns as project_urlpatterns
from subscribers import urls as subscriber_urls

_named = {getattr(pattern, "name", None) for pattern in subscriber_urls.urlpatterns}


def _stand_in(request, token):
    return HttpResponse("member page stand-in")


urlpatterns = [
    *([path("p/<str:token>/", _stand_in, name="preference_form")] if "preference_form" not in _named else []),
    *([path("p/<str:token>/one-click", _stand_in, name="one_click")] if "one_click" not in _named else []),
    *project_urlpatterns,
]
