"""The member's pages. Thin: tokens and selectors read, services write.

GET never writes (mail scanners prefetch every link). Personal pages are rate limited by IP, never
indexed or cached, and never leak the token through the Referer header.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from branding.selectors import brand_published

from . import form_page, forms, selectors, tokens
from .models import PreferenceChange, Subscriber
from .ratelimits import over_limit, over_rate, parse_rate
from .services.links import links_mail_request
from .services.preferences import NotAMember, preferences_save, preferences_unsubscribe_all

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SAVED_SALT = "subscribers.views.saved"
SAVED_COOKIE = "pc_saved"
SAVED_PATH = "/saved/"
SAVED_MAX_AGE = 3600
UNTICK_ALL = "untick_all"
SAVE = "save"


def home(request):
    return render(request, "home.html")


# --- plumbing -----------------------------------------------------------------------------------------


def client_ip(request) -> str:
    """The client address: REMOTE_ADDR, or the right-most address of CLIENT_IP_HEADER (the one our own
    proxy added; addresses to its left are whatever the client claimed)."""
    header = settings.CLIENT_IP_HEADER or "REMOTE_ADDR"
    value = request.META.get(header) or request.META.get("REMOTE_ADDR") or ""
    return value.split(",")[-1].strip()


def _ip_key(group, request):
    return client_ip(request)


def _limited(request, group, rate, key=_ip_key) -> bool:
    return over_limit(request, group=group, key=key, rate=rate)


def personal_page(view):
    """The member's pages: rate limited by IP (one Redis round trip), then the link read (a forged one costs
    no query); the view gets the link's payload and reads the member from the database (pages are never
    cached). A forged, rotated or unknown link gets the link-invalid page. Headers keep a personal page out
    of indexes, caches and Referer headers."""

    @functools.wraps(view)
    def wrapper(request, token):
        return _personal(request, token, view)

    return wrapper


def _personal(request, token, view, *args):
    rate = parse_rate(settings.PREFERENCES_RATE_LIMIT)
    if over_rate(client_ip(request), group="personal-page", rate=rate):
        response = render(request, "subscribers/rate_limited.html", status=429)
        response["Retry-After"] = str(rate.period)
    elif (link := tokens.read_token(token)) is None:
        response = _link_invalid(request)
    else:
        try:
            response = view(request, token, link, *args)
        except NotAMember:  # left the roster, or the link was rotated: the save wrote nothing
            response = _link_invalid(request)
    return protect(response)


def _email_of(link) -> str:
    """The member's address, for PREFERENCES_CONFIRM_EMAIL."""
    return Subscriber.objects.filter(pk=link.subscriber_id).values_list("email", flat=True).first() or ""


def protect(response):
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The origin only (never the page's path, its token), even to our own static files; not no-referrer,
    # which makes browsers send "Origin: null" with the form (the CSRF check fails).
    response["Referrer-Policy"] = "strict-origin"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _link_invalid(request):
    return render(request, "subscribers/link_invalid.html", {"form": forms.LostLinkForm()}, status=404)


def _bad_request(request, token, message):
    return render(request, "request_refused.html", {"message": message, "token": token}, status=400)


def _user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")


# --- the form -----------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@personal_page
def preference_form(request, token, link):
    confirm = settings.PREFERENCES_CONFIRM_EMAIL
    loaded = selectors.member_form_of(link)  # one statement: the member, the interests on the form
    if loaded is None:
        return _link_invalid(request)
    if request.method != "POST":
        return _form_page(request, *loaded, confirm=confirm)

    subscriber, state = loaded
    specs = state.specs
    unknown = forms.unknown_keys(request.POST, specs)
    action = request.POST.get("action", SAVE)
    posted = forms.posted_choices(request.POST, specs)
    if unknown or action not in (SAVE, UNTICK_ALL) or any(len(request.POST.getlist(k)) > 1 for k in request.POST):
        return _bad_request(
            request, token, _("The form you sent has choices that are not on this page (it may be out of date).")
        )
    if posted is None:
        return _bad_request(request, token, _("Some of the choices you sent were not understood."))
    shown_value = request.POST.get(forms.SHOWN_FIELD, "")
    shown = forms.shown_read(shown_value, subscriber_id=link.subscriber_id, token_version=link.token_version)
    if shown is None:
        return _bad_request(
            request, token, _("This page was open for too long, or could not be checked. Please open it again.")
        )
    if action == UNTICK_ALL:  # explicit: every interest off, whatever the page showed
        posted = changed = dict.fromkeys(posted, False)
    else:
        changed = forms.changed_choices(posted, shown)
    if confirm:
        confirm_form = forms.ConfirmEmailForm(request.POST, expected_email=subscriber.email)
        if not confirm_form.is_valid():
            return _render_form(request, *loaded, posted, shown_value, confirm_form=confirm_form, status=400)

    changes = preferences_save(
        subscriber=subscriber,
        wanted=changed,
        source=PreferenceChange.Source.FORM,
        user_agent=_user_agent(request),
        ip_address=client_ip(request),
        specs=specs,
        token_version=link.token_version,
    )
    # The confirmation is at a URL without the token (a member who shares it shares no link): what the save
    # changed travels in a signed cookie that only that page reads, for an hour.
    response = HttpResponseRedirect(SAVED_PATH)
    response.set_cookie(
        SAVED_COOKIE,
        signing.dumps([token, [[c.interest_id, int(c.new_value)] for c in changes]], salt=SAVED_SALT),
        max_age=SAVED_MAX_AGE,
        path=SAVED_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _render_form(request, subscriber, state, values, shown, confirm_form=None, status=200):
    """The form through the template engine: the page after a failed confirmation (see _form_page), with
    what the member ticked and the page's original `shown` value (what they changed is still measured
    against the page they first saw)."""
    specs = state.specs
    return render(
        request,
        "subscribers/preferences.html",
        {
            "fieldsets": form_page.fieldsets(specs, values),
            "has_interests": bool(specs),
            "masked_email": selectors.mask_email(subscriber.email),
            "first_name": subscriber.first_name,
            "confirm_form": confirm_form,
            "shown": shown,
        },
        status=status,
    )


def _form_page(request, subscriber, state, *, confirm):
    """The member's form with their ticks (form_page: the template's rendering, cached and joined)."""
    shown = forms.shown_sign(subscriber_id=subscriber.pk, token_version=subscriber.token_version, state=state)
    return form_page.page(
        request,
        subscriber=subscriber,
        state=state,
        shown=shown,
        confirm=confirm,
        brand=brand_published(get_language()),
    )


@require_GET
def preference_saved(request):
    """The confirmation after a save (POST/redirect/GET): what the save changed (the cookie it set), and the
    choices as they are now. Without the cookie (another browser, more than an hour later): a page that
    says where the choices are, and nothing of the member's."""
    try:
        token, pairs = signing.loads(request.COOKIES.get(SAVED_COOKIE, ""), salt=SAVED_SALT, max_age=SAVED_MAX_AGE)
        changed = {int(pk): bool(value) for pk, value in pairs}
    except (signing.BadSignature, TypeError, ValueError):
        return protect(render(request, "subscribers/saved_elsewhere.html"))
    return _personal(request, token, _saved_page, changed)


def _saved_page(request, token, link, changed):
    loaded = selectors.member_form_of(link)
    if loaded is None:
        return _link_invalid(request)
    state = loaded[1]
    specs = state.by_id
    # Choices of a UD table without a row for this member cannot reach iMIS: never promise they will.
    without_row = selectors.interests_without_ud_row(subscriber_id=link.subscriber_id)
    maybe_changed = {pk for pk in changed if pk in specs}
    return render(
        request,
        "subscribers/saved.html",
        {
            "token": token,
            "subscribed": [specs[pk].label for pk, value in changed.items() if value and pk in specs],
            "unsubscribed": [specs[pk].label for pk, value in changed.items() if not value and pk in specs],
            "held": [spec.label for spec in state.specs if spec.id in maybe_changed & without_row],
            "reaching": bool(maybe_changed - without_row),
            "current": [spec.label for spec in state.specs if state.values.get(spec.id)],
            "has_interests": bool(state.specs),
        },
    )


# --- RFC 8058 one-click -------------------------------------------------------------------------------


@csrf_exempt  # for the RFC 8058 POST only: the confirmation button's POST is checked below
@require_http_methods(["GET", "HEAD", "POST"])
@personal_page
def one_click(request, token, link):
    confirm = settings.PREFERENCES_CONFIRM_EMAIL
    if request.method != "POST":
        return _one_click_page(request, token, link, forms.ConfirmEmailForm() if confirm else None)
    one_click_post = request.POST.get("List-Unsubscribe") == "One-Click"
    if not one_click_post:
        # The confirmation button of the GET page: an ordinary form, so CSRF applies, and so does the
        # forwarded-mail check (only the RFC 8058 POST of a mail client skips it).
        rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if rejected is not None:
            return rejected
        if request.POST.get("confirm") != "1":
            return _bad_request(request, token, _("This request was not understood."))
        if confirm:
            confirm_form = forms.ConfirmEmailForm(request.POST, expected_email=_email_of(link))
            if not confirm_form.is_valid():
                return _one_click_page(request, token, link, confirm_form, status=400)
    preferences_unsubscribe_all(
        subscriber=Subscriber(id=link.subscriber_id),
        token_version=link.token_version,
        source=PreferenceChange.Source.ONE_CLICK,
        user_agent=_user_agent(request),
        ip_address=client_ip(request),
    )
    if one_click_post:  # a mail provider's server, not a person: RFC 8058 asks for no page and no redirect
        return HttpResponse(_("You are unsubscribed from these emails."), content_type="text/plain; charset=utf-8")
    # POST/redirect/GET: reloading the page that follows posts nothing again.
    return HttpResponseRedirect(reverse("one_click_done", args=[token]), status=303)


def _one_click_page(request, token, link, confirm_form=None, *, template="subscribers/one_click.html", status=200):
    """A page of the one-click flow with the member's masked address and the emails they receive now: the
    ones that will stop (the confirmation), or any they chose again since (subscribers.unsubscribed)."""
    loaded = selectors.member_form_of(link)
    if loaded is None:
        return _link_invalid(request)
    subscriber, state = loaded
    context = {"token": token, "confirm_form": confirm_form, "masked_email": selectors.mask_email(subscriber.email)}
    context["receiving"] = [spec.label for spec in state.specs if state.values.get(spec.id)]
    return render(request, template, context, status=status)


@require_GET
@personal_page
def one_click_done(request, token, link):
    """After the confirmation button (POST/redirect/GET: reloading it posts nothing again): the member's
    subscriptions now, none unless they chose some again since."""
    return _one_click_page(request, token, link, template="subscribers/one_click_done.html")


# --- lost link / not you ------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def lost_link(request):
    """Mail a fresh link to a member's own address: the same answer whether the address is known or not."""
    if request.method != "POST":
        return protect(render(request, "subscribers/lost_link.html", {"form": forms.LostLinkForm()}))
    if _limited(request, "lost-link", settings.LOST_LINK_RATE_LIMIT):
        response = render(request, "subscribers/rate_limited.html", status=429)
        response["Retry-After"] = "3600"
        return protect(response)
    form = forms.LostLinkForm(request.POST)
    if not form.is_valid():
        return protect(render(request, "subscribers/lost_link.html", {"form": form}, status=400))
    # Limited per member too (in links_mail_request), so that nobody floods a mailbox from many addresses.
    links_mail_request(email=form.cleaned_data["email"])
    return redirect("lost_link_sent")


@require_GET
def lost_link_sent(request):
    return protect(render(request, "subscribers/lost_link_sent.html"))
