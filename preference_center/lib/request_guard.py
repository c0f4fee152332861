"""What a POST to the member's pages may carry: their own form, in UTF-8, without files.

A JSON body would read as a form with every box unticked ("everything off"); a file part would be spooled
to disk; a body in another charset made Django's CSRF check and its 400 page fail in turn (a 500, with the
token in gunicorn's error log). `MemberFormBodyMiddleware` refuses all of these with a 400 page before
anything reads the body; DATA_UPLOAD_MAX_NUMBER_FILES = 0 stops the parser at the first file part
everywhere, before it writes a byte; `bad_request` is the site's 400 page (Django's own re-runs the CSRF
check, which reads the faulty body again)."""

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _

MEMBER_VIEWS_MODULE = "subscribers.views"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
UTF_8 = ("utf-8", "utf8")
NOT_A_FORM = _("This page accepts only its own form (no files, no other kinds of content).")
NOT_UTF_8 = _("The form was not sent in UTF-8.")
UNREADABLE = _("The form you sent could not be read.")


def body_problem(request) -> str | None:
    """Why the body of this POST is not a form the member's pages accept, or None."""
    if request.content_type not in FORM_TYPES:
        return NOT_A_FORM
    charset = request.content_params.get("charset")
    if charset is not None and charset.strip().lower() not in UTF_8:
        return NOT_UTF_8
    try:
        request.POST  # noqa: B018 - parse now: a file part stops the parser (DATA_UPLOAD_MAX_NUMBER_FILES = 0)
    except (BadRequest, SuspiciousOperation, MultiPartParserError) as exc:
        return NOT_A_FORM if "files" in str(exc).lower() else UNREADABLE
    return None


def refused(request, message, token=None):
    response = render(request, "request_refused.html", {"message": message, "token": token}, status=400)
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


class MemberFormBodyMiddleware:
    """Before the CSRF check (which reads the body): POSTs to the member's pages carry a UTF-8 form or get a
    400 page, and change nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or getattr(view_func, "__module__", "") != MEMBER_VIEWS_MODULE:
            return None
        problem = body_problem(request)
        if problem is None:
            return None
        return refused(request, problem, view_kwargs.get("token"))


def bad_request(request, exception):
    """handler400: a plain page, without Django's CSRF processing of the (unreadable) body."""
    if isinstance(exception, RequestDataTooBig):
        return refused(request, _("The form you sent is too large."))
    return refused(request, UNREADABLE)
