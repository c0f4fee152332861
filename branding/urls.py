from django.urls import path, register_converter

from . import views
from .stylesheet import VERSION


class HexColourConverter:
    regex = "[0-9a-f]{6}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class Sha256Converter(HexColourConverter):
    regex = "[0-9a-f]{64}"


register_converter(HexColourConverter, "colour")
register_converter(Sha256Converter, "sha256")

urlpatterns = [
    path(f"brand/style-<colour:colour>-{VERSION}.css", views.stylesheet, name="brand_stylesheet"),
    path("brand/logo-<sha256:digest>", views.logo, name="brand_logo"),
]
