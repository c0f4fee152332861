from django.urls import path

from . import brand_preview, views

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<str:token>/", views.preference_form, name="preference_form"),
    path("saved/", views.preference_saved, name="preference_saved"),
    path("p/<str:token>/one-click", views.one_click, name="one_click"),
    path("p/<str:token>/unsubscribed", views.one_click_done, name="one_click_done"),
    path("lost-link/", views.lost_link, name="lost_link"),
    path("lost-link/sent/", views.lost_link_sent, name="lost_link_sent"),
    path("brand/preview/", brand_preview.brand_preview, name="brand_preview"),  # staff only
]
