"""The project's URLs plus /bench/bare/, the ceiling of bench/page.py: a small template rendered through the
same middleware, no database, no cache."""

from django.shortcuts import render
from django.urls import include, path


def bare(request):
    return render(request, "bench_bare.html", {"name": "member"})


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("preference_center.urls")),
]
