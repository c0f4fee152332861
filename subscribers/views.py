"""The member's pages. Thin: tokens and selectors read, services write.

GET never writes (mail scanners prefetch every link). Personal pages are rate limited by IP, never
indexed or cached, and never leak the token through the Referer header.
"""

from __future__ import annotations

import functools
import hashlib

import django_ratelimit as ratelimit
from django.conf import settings
from django.core import signing
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from . import forms, selectors
from .models import PreferenceChange
from .services.links import links_mail
from .services.preferences import preferences_save, preferences_unsubscribe_all

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SAVED_SALT = "subscribers.views.saved"
UNTICK_ALL = "untick_all"
SAVE = "save"


def home(request):
    return render(request, "home.html")


def bench_bare(request):
    """The ceiling of bench/page.py: a small template through the same middleware, no database, no cache.
    Routed only when settings.BENCH_VIEWS is on."""
    return render(request, "subscribers/bench_bare.html", {"name": "member"})


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
    return is_ratelimited(request, group=group, key=key, rate=rate, method=ratelimit.ALL, increment=True)


def _page(request, template, context=None, status=200):
    context = {"association_name": settings.ASSOCIATION_NAME, **(context or {})}
    return render(request, template, context, status=status)


def personal_page(view):
    """Rate limit by IP; headers that keep a personal page out of indexes, caches and Referer headers."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if _limited(request, "personal-page", settings.PREFERENCES_RATE_LIMIT):
            response = _page(request, "subscribers/rate_limited.html", status=429)
            response["Retry-After"] = "60"
        else:
            response = view(request, *args, **kwargs)
        return _protect(response)

    return wrapper


def _protect(response):
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"  # no-referrer would make browsers send "Origin: null" (CSRF fails)
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _link_invalid(request):
    return _page(request, "subscribers/link_invalid.html", {"form": forms.LostLinkForm()}, status=404)


def _bad_request(request, token, message):
    return _page(request, "subscribers/bad_request.html", {"message": message, "token": token}, status=400)


def _user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")


# --- the form -----------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@personal_page
def preference_form(request, token):
    subscriber = selectors.subscriber_for_token(token)
    if subscriber is None:
        return _link_invalid(request)
    state = selectors.form_state(subscriber_id=subscriber.pk)
    confirm = settings.PREFERENCES_CONFIRM_EMAIL
    if request.method != "POST":
        return _render_form(
            request, subscriber, state, state.values, confirm_form=forms.ConfirmEmailForm() if confirm else None
        )

    unknown = forms.unknown_keys(request.POST, state.specs)
    action = request.POST.get("action", SAVE)
    if unknown or action not in (SAVE, UNTICK_ALL) or any(len(request.POST.getlist(k)) > 1 for k in request.POST):
        return _bad_request(
            request, token, "The form you sent has choices that are not on this page (it may be out of date)."
        )
    form = forms.form_class(state.specs)(request.POST)
    if not form.is_valid():
        return _bad_request(request, token, "Some of the choices you sent were not understood.")
    confirm_form = None
    if confirm:
        confirm_form = forms.ConfirmEmailForm(request.POST, expected_email=subscriber.email)
        if not confirm_form.is_valid():
            posted = form.wanted(untick_all=action == UNTICK_ALL)
            return _render_form(request, subscriber, state, posted, confirm_form=confirm_form, status=400)

    changes = preferences_save(
        subscriber=subscriber,
        wanted=form.wanted(untick_all=action == UNTICK_ALL),
        source=PreferenceChange.Source.FORM,
        user_agent=_user_agent(request),
        ip_address=client_ip(request),
        state=state,
    )
    saved = signing.dumps([subscriber.pk, [[c.interest_id, int(c.new_value)] for c in changes]], salt=SAVED_SALT)
    return redirect(f"{reverse('preference_saved', args=[token])}?c={saved}")


def _render_form(request, subscriber, state, values, confirm_form=None, status=200):
    return _page(
        request,
        "subscribers/preferences.html",
        {
            "fieldsets": forms.interest_fieldsets(state.specs, values) if state.specs else "",
            "has_interests": bool(state.specs),
            "masked_email": selectors.mask_email(subscriber.email),
            "first_name": subscriber.first_name,
            "confirm_form": confirm_form,
        },
        status=status,
    )


@require_GET
@personal_page
def preference_saved(request, token):
    """The confirmation after a save (POST/redirect/GET): what changed, and the choices as they are now."""
    subscriber = selectors.subscriber_for_token(token)
    if subscriber is None:
        return _link_invalid(request)
    state = selectors.form_state(subscriber_id=subscriber.pk)
    changed = None
    try:
        owner, pairs = signing.loads(request.GET.get("c", ""), salt=SAVED_SALT, max_age=86400)
        if owner == subscriber.pk:
            changed = {int(pk): bool(value) for pk, value in pairs}
    except (signing.BadSignature, TypeError, ValueError):
        changed = None
    specs = state.by_id
    return _page(
        request,
        "subscribers/saved.html",
        {
            "token": token,
            "known": changed is not None,
            "subscribed": [specs[pk].label for pk, value in (changed or {}).items() if value and pk in specs],
            "unsubscribed": [specs[pk].label for pk, value in (changed or {}).items() if not value and pk in specs],
            "current": [spec.label for spec in state.specs if state.values.get(spec.id)],
            "has_interests": bool(state.specs),
        },
    )


# --- RFC 8058 one-click -------------------------------------------------------------------------------


@csrf_exempt  # for the RFC 8058 POST only: the confirmation button's POST is checked below
@require_http_methods(["GET", "HEAD", "POST"])
@personal_page
def one_click(request, token):
    subscriber = selectors.subscriber_for_token(token)
    if subscriber is None:
        return _link_invalid(request)
    if request.method != "POST":
        return _page(request, "subscribers/one_click.html", {"token": token})
    if request.POST.get("List-Unsubscribe") != "One-Click":
        # The confirmation button of the GET page: an ordinary form, so CSRF applies.
        rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if rejected is not None:
            return rejected
        if request.POST.get("confirm") != "1":
            return _bad_request(request, token, "This request was not understood.")
    preferences_unsubscribe_all(
        subscriber=subscriber,
        source=PreferenceChange.Source.ONE_CLICK,
        user_agent=_user_agent(request),
        ip_address=client_ip(request),
    )
    return _page(request, "subscribers/one_click_done.html", {"token": token})


# --- lost link / not you ------------------------------------------------------------------------------


def _address_key(group, request):
    address = request.POST.get("email", "").strip().casefold()
    return hashlib.sha256(address.encode()).hexdigest()


@require_http_methods(["GET", "HEAD", "POST"])
def lost_link(request):
    """Mail a fresh link to a member's own address: the same answer whether the address is known or not."""
    if request.method != "POST":
        return _protect(_page(request, "subscribers/lost_link.html", {"form": forms.LostLinkForm()}))
    if _limited(request, "lost-link", settings.LOST_LINK_RATE_LIMIT):
        response = _page(request, "subscribers/rate_limited.html", status=429)
        response["Retry-After"] = "3600"
        return _protect(response)
    form = forms.LostLinkForm(request.POST)
    if not form.is_valid():
        return _protect(_page(request, "subscribers/lost_link.html", {"form": form}, status=400))
    # Per address too, so that nobody can flood a member's mailbox from many addresses; silently.
    if not _limited(request, "lost-link-address", settings.LOST_LINK_EMAIL_RATE_LIMIT, key=_address_key):
        links_mail(email=form.cleaned_data["email"])
    return redirect("lost_link_sent")


@require_GET
def lost_link_sent(request):
    return _protect(_page(request, "subscribers/lost_link_sent.html"))
