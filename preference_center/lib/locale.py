"""The member pages' language: the link's `?lang=` when the mailing knows the member's language, else the
language the member chose with the page's switcher (Django's language cookie), else the browser's
Accept-Language, else LANGUAGE_CODE."""

from __future__ import annotations

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

LINK_LANGUAGE_PARAM = "lang"
# Staff's and machines' pages stay in LANGUAGE_CODE: their own strings are not translated, and Django's
# admin in the browser's language around them would mix two languages on one page.
DEFAULT_LANGUAGE_PATHS = ("/admin/", "/api/")


def link_language(request) -> str | None:
    """The supported language a link asks for, or None (absent or unknown: never an error)."""
    wanted = request.GET.get(LINK_LANGUAGE_PARAM, "")
    if not wanted:
        return None
    try:
        return translation.get_supported_language_variant(wanted.strip().lower())
    except LookupError:
        return None


def member_language(value: str | None) -> str:
    """The supported language an iMIS value names, by code or name ("fr", "FR-CA", "French", "Français"),
    or "" when it names none of LANGUAGES (the page then follows the browser)."""
    text = (value or "").strip().lower().replace("_", "-")
    if not text:
        return ""
    for code, _name in settings.LANGUAGES:
        info = LANG_INFO.get(code, {})
        if text.split("-")[0] == code or text in (info.get("name", "").lower(), info.get("name_local", "").lower()):
            return code
    return ""


class LinkLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware with the link's language first. The link's language is kept in the language cookie,
    so that the pages after a save or a one-click speak it too."""

    def process_request(self, request):
        if request.path_info.startswith(DEFAULT_LANGUAGE_PATHS):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return None
        language = link_language(request)
        if language is None:
            return super().process_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        request.link_language = language
        return None

    def process_response(self, request, response):
        response = super().process_response(request, response)
        language = getattr(request, "link_language", None)
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
