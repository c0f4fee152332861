"""The member's page kept in the cache (subscribers.member_cache), through the Django test client.

A personal page (GET /p/<token>/) costs one cache round trip: the rate-limit count and the member's cached
entry with the versions that say whether it is still true. What is checked here, on the real Redis server
(preference_center.cache.ReusingRedisCache, keys under a prefix of each test's own) and on the tests'
local-memory cache (the plain-cache-calls fallback):

- a second visit is served without a query, with the same ticks;
- every write path shows at once: a save through the form (its lease keeps the page out of the cache while
  it writes, and a save that commits late bumps again), members_changed (roster pull, link rotation),
  interest changes (admin save, bulk visibility);
- a page read from the database before a write and stored after the write's bump is never used;
- MEMBER_CACHE_SECONDS = 0 turns the cache off, and Redis being down only costs queries;
- counted_round_trip means the same on Redis and on any other cache;
- the rate limit still applies to pages served from the cache.

Tests run inside a transaction: the bumps are transaction.on_commit callbacks, run here through
django_capture_on_commit_callbacks(execute=True) where a commit would run them.
"""

import contextlib
import io
import re
import time
import uuid

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

import preference_center.cache
from interests.services.visibility import interests_set_visible
from mailing.exports import export_response
from mailing.selectors import target_group_build
from preference_center.cache import ReusingRedisCache, counted_round_trip, set_unanswered
from subscribers import member_cache, selectors
from subscribers.models import Preference, PreferenceChange, Subscriber
from subscribers.ratelimits import CACHE_ERRORS, Rate
from subscribers.services.preferences import preferences_save, subscribers_rotate_tokens
from subscribers.tokens import make_token
from tests.members_helpers import checked_ids, form_url, make_interests, make_subscriber, post, values_of

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/12"  # the database tests/test_rate_limits.py uses: shared, hence the prefixes
REDIS_DOWN_URL = "redis://127.0.0.1:1/0"  # nothing listens there


def redis_caches(prefix, location=REDIS_URL):
    return {
        "default": {"BACKEND": "preference_center.cache.ReusingRedisCache", "LOCATION": location, "KEY_PREFIX": prefix}
    }


def _drop_prefixed(prefix):
    raw = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(raw.scan_iter(f"{prefix}:*"))
        if keys:
            raw.delete(*keys)
    finally:
        raw.close()


@contextlib.contextmanager
def _on_redis():
    prefix = f"test-member-cache-{uuid.uuid4().hex}"
    with override_settings(CACHES=redis_caches(prefix)):
        yield caches["default"]
    _drop_prefixed(prefix)


@contextlib.contextmanager
def _on_local_memory():
    location = f"test-member-cache-{uuid.uuid4().hex}"  # a store of its own
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": location}}
    ):
        yield caches["default"]


@pytest.fixture
def on_redis():
    """The production cache on the real Redis server, with keys of this test's own."""
    with _on_redis() as the_cache:
        yield the_cache


@pytest.fixture(params=["redis", "local-memory"])
def any_cache(request):
    """The Redis path (one Lua script) and the fallback of plain cache calls (LocMemCache)."""
    with _on_redis() if request.param == "redis" else _on_local_memory() as the_cache:
        yield the_cache


@pytest.fixture(autouse=True)
def _no_interests_copy():
    """The interests on the form are copied per process: no test sees another's (rolled back) interests."""
    member_cache._interests_copy.clear()
    yield
    member_cache._interests_copy.clear()


def shown_ids(html):
    return {int(pk) for pk in re.findall(r'name="interest_(\d+)"', html)}


def get_page(client, url, ip="198.51.100.23"):
    response = client.get(url, REMOTE_ADDR=ip)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def save(subscriber, wanted, **kwargs):
    """A save outside the form (the API's way), its on-commit callbacks to be run by the caller."""
    return preferences_save(subscriber=subscriber, wanted=wanted, source=PreferenceChange.Source.FORM, **kwargs)


def count_queries(fn):
    with CaptureQueriesContext(connection) as queries:
        result = fn()
    return len(queries), result


# --- the second visit -------------------------------------------------------------------------------------


def test_it_serves_a_second_visit_without_a_database_query(any_cache, client, member, django_assert_num_queries):
    newsletter, events, advocacy = make_interests(3)
    Preference.objects.create(subscriber=member, interest=events, value=True, imis_value=True)
    url = form_url(member)

    first_queries, first = count_queries(lambda: get_page(client, url))
    with django_assert_num_queries(0):
        second = get_page(client, url)

    assert first_queries >= 1  # the first visit reads the database (and stores the page)
    assert checked_ids(first) == checked_ids(second) == {events.pk}
    assert shown_ids(second) == {newsletter.pk, events.pk, advocacy.pk}
    assert "Hello Jane." in second
    assert "j•••@example.org" in second and "jane.doe" not in second


def test_it_keeps_no_address_in_the_cached_entry(on_redis, client, member):
    make_interests(2)
    get_page(client, form_url(member))
    entry = on_redis.get(f"pc:member:{member.pk}")
    assert entry is not None
    assert "jane.doe" not in repr(entry) and "j•••@example.org" in entry


# --- saves through the form -----------------------------------------------------------------------------


def test_it_shows_a_save_at_once_and_caches_the_page_again_once_the_lease_ends(
    on_redis, client, member, django_capture_on_commit_callbacks, django_assert_num_queries
):
    newsletter, events, advocacy = make_interests(3)
    Preference.objects.create(subscriber=member, interest=advocacy, value=True, imis_value=True)
    url = form_url(member)
    assert checked_ids(get_page(client, url)) == {advocacy.pk}  # cached from here on
    version = on_redis.get(f"pc:member-version:{member.pk}") or 0

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, url, [newsletter, events], action="save")
    assert response.status_code == 302
    assert values_of(member) == {newsletter.pk: True, events.pk: True, advocacy.pk: False}
    # One bump, taken with the lease before the write; none after the commit (no second round trip).
    assert on_redis.get(f"pc:member-version:{member.pk}") == version + 1

    # While the lease lasts, pages come from the database and are not stored.
    for _ in range(2):
        queries, form = count_queries(lambda: get_page(client, url))
        assert queries >= 1 and checked_ids(form) == {newsletter.pk, events.pk}
    assert "Your choices are saved" in get_page(client, response["Location"])
    assert on_redis.get(f"pc:member:{member.pk}") is None

    on_redis.delete(f"pc:member-saving:{member.pk}")  # the lease ends
    get_page(client, url)  # read and stored
    with django_assert_num_queries(0):
        assert checked_ids(get_page(client, url)) == {newsletter.pk, events.pk}


def test_it_shows_a_save_that_started_without_a_cached_page(
    on_redis, client, member, django_capture_on_commit_callbacks
):
    newsletter, events = make_interests(2)
    url = form_url(member)
    get_page(client, url)
    on_redis.delete(f"pc:member:{member.pk}")  # expired, say

    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, url, [events], action="save").status_code == 302

    queries, html = count_queries(lambda: get_page(client, url))
    assert queries >= 1 and checked_ids(html) == {events.pk}


def test_it_stores_no_page_read_while_a_save_is_under_way(on_redis, client, member):
    newsletter, events = make_interests(2)
    url = form_url(member)
    member_cache.visit(make_token(member), client="192.0.2.9", group="test", rate=Rate(100, 3600), load=False)
    # The save has taken its lease and not committed yet: what a page view reads now may change any moment.
    get_page(client, url)
    get_page(client, url)
    assert on_redis.get(f"pc:member:{member.pk}") is None


def test_it_bumps_again_after_a_save_that_committed_late_in_its_lease(
    on_redis, client, member, django_capture_on_commit_callbacks
):
    newsletter, events = make_interests(2)
    url = form_url(member)
    seen = member_cache.visit(make_token(member), client="192.0.2.9", group="test", rate=Rate(100, 3600), load=False)
    on_redis.delete(f"pc:member-saving:{member.pk}")  # the lease ran out before the save committed...
    assert checked_ids(get_page(client, url)) == set()  # ...and a page view stored what was committed then

    late = seen.leased_at - member_cache.SAVE_LEASE_SECONDS  # committed after half its lease: bumps again
    with django_capture_on_commit_callbacks(execute=True):
        save(member, {events.pk: True}, cache_leased_at=late)

    queries, html = count_queries(lambda: get_page(client, url))
    assert queries >= 1 and checked_ids(html) == {events.pk}


def test_it_does_not_bump_after_a_save_that_committed_early_in_its_lease(
    on_redis, member, django_capture_on_commit_callbacks
):
    newsletter, events = make_interests(2)
    seen = member_cache.visit(make_token(member), client="192.0.2.9", group="test", rate=Rate(100, 3600), load=False)
    version = on_redis.get(f"pc:member-version:{member.pk}")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        save(member, {events.pk: True}, cache_leased_at=seen.leased_at)
    assert callbacks and on_redis.get(f"pc:member-version:{member.pk}") == version


# --- changes made elsewhere ---------------------------------------------------------------------------


def test_it_shows_a_change_made_behind_its_back_only_once_members_changed_is_called(
    on_redis, client, member, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """The contract: whoever writes members without preferences_save (the roster pull) calls members_changed.
    Until then the cached page is what a member sees, for MEMBER_CACHE_SECONDS at most."""
    newsletter, events = make_interests(2)
    url = form_url(member)
    assert checked_ids(get_page(client, url)) == set()

    Preference.objects.create(subscriber=member, interest=newsletter, value=True, imis_value=True)
    Subscriber.objects.filter(pk=member.pk).update(first_name="Janet")
    with django_assert_num_queries(0):
        stale = get_page(client, url)
    assert checked_ids(stale) == set() and "Hello Jane." in stale  # not announced: the cached page

    with django_capture_on_commit_callbacks(execute=True):
        member_cache.members_changed()  # as the roster pull does after its transaction
    fresh = get_page(client, url)
    assert checked_ids(fresh) == {newsletter.pk} and "Hello Janet." in fresh


def test_it_refuses_a_rotated_link_at_once_even_when_cached(
    on_redis, client, member, django_capture_on_commit_callbacks
):
    make_interests(1)
    old_url = form_url(member)
    get_page(client, old_url)
    get_page(client, old_url)  # served from the cache

    with django_capture_on_commit_callbacks(execute=True):
        assert subscribers_rotate_tokens(subscriber_ids=[member.pk]) == 1

    assert client.get(old_url).status_code == 404
    assert post(client, old_url).status_code == 404
    member.refresh_from_db()
    assert get_page(client, form_url(member))


@pytest.mark.parametrize("how", ["admin save", "interests_set_visible"])
def test_it_removes_a_hidden_interest_from_the_cached_page_at_once(
    on_redis, client, member, django_capture_on_commit_callbacks, how
):
    newsletter, events, advocacy = make_interests(3)
    Preference.objects.create(subscriber=member, interest=events, value=True, imis_value=True)
    url = form_url(member)
    get_page(client, url)
    assert shown_ids(get_page(client, url)) == {newsletter.pk, events.pk, advocacy.pk}  # from the cache
    another_process = dict(member_cache._interests_copy)  # what a second web process still holds

    with django_capture_on_commit_callbacks(execute=True):
        if how == "admin save":
            events.visible = False
            events.save()
        else:
            interests_set_visible(interests=type(events).objects.filter(pk=events.pk), visible=False)

    html = get_page(client, url)  # this process dropped its copy
    assert shown_ids(html) == {newsletter.pk, advocacy.pk} and checked_ids(html) == set()
    assert events.prompt not in html

    member_cache._interests_copy.update(another_process)  # another process learns it from the generation
    html = get_page(client, url)
    assert shown_ids(html) == {newsletter.pk, advocacy.pk} and events.prompt not in html


def test_it_shows_the_members_tick_on_an_interest_shown_again(
    on_redis, client, member, django_capture_on_commit_callbacks
):
    """An entry holds the ticks of the interests on the form when it was read: it is tied to the interests'
    generation, or an interest the member had ticked, hidden and shown again, would come back unticked (and
    a save of the form as shown would unsubscribe them)."""
    newsletter, events = make_interests(2)
    Preference.objects.create(subscriber=member, interest=events, value=True, imis_value=True)
    with django_capture_on_commit_callbacks(execute=True):
        interests_set_visible(interests=type(events).objects.filter(pk=events.pk), visible=False)
    url = form_url(member)
    assert shown_ids(get_page(client, url)) == {newsletter.pk}  # cached, without events

    with django_capture_on_commit_callbacks(execute=True):
        interests_set_visible(interests=type(events).objects.filter(pk=events.pk), visible=True)

    from_database = member_cache.page_from_database(make_token(member))
    assert from_database.state.values == {newsletter.pk: False, events.pk: True}
    html = get_page(client, url)
    assert shown_ids(html) == {newsletter.pk, events.pk}
    assert checked_ids(html) == {events.pk}  # fails: the cached entry shows events unticked


# --- races ------------------------------------------------------------------------------------------------


def _writer(kind, member, interest):
    """A write that commits (and bumps) while a visit is between its database read and its cache store."""

    def write():
        if kind == "save":
            save(member, {interest.pk: True})  # bumps the member's version
        else:
            Preference.objects.create(subscriber=member, interest=interest, value=True, imis_value=True)
            member_cache.members_changed()  # the roster pull's way: bumps the generation

    return write


@pytest.mark.parametrize("kind", ["save", "roster pull"])
def test_it_never_uses_a_page_read_before_a_write_that_bumped_since(
    on_redis, client, member, monkeypatch, django_capture_on_commit_callbacks, django_assert_num_queries, kind
):
    newsletter, events = make_interests(2)
    url = form_url(member)
    write = _writer(kind, member, newsletter)
    real_member_form = selectors.member_form
    calls = []

    def read_then_a_write_commits(token):
        loaded = real_member_form(token)  # the page as it was before the write
        if not calls:
            with django_capture_on_commit_callbacks(execute=True):
                write()
        calls.append(token)
        return loaded

    monkeypatch.setattr(selectors, "member_form", read_then_a_write_commits)

    racing = get_page(client, url)  # read before the write, stored after its bump, tagged with the old versions
    assert checked_ids(racing) == set()
    assert values_of(member) == {newsletter.pk: True}

    after = get_page(client, url)  # the stored page is not used: the database again
    assert len(calls) == 2 and checked_ids(after) == {newsletter.pk}
    with django_assert_num_queries(0):
        assert checked_ids(get_page(client, url)) == {newsletter.pk}  # and cached again, right this time


def test_it_never_uses_a_page_stored_by_hand_under_older_versions(
    on_redis, client, member, django_capture_on_commit_callbacks
):
    """The same race, built by hand: a page read under the versions of before a save, stored after it."""
    newsletter, events = make_interests(2)
    token = make_token(member)
    before = member_cache.page_from_database(token)
    old_versions = (
        on_redis.get(member_cache.MEMBERS_GENERATION) or 0,
        on_redis.get(f"pc:member-version:{member.pk}") or 0,
    )

    with django_capture_on_commit_callbacks(execute=True):
        save(member, {events.pk: True})
    on_redis.set(f"pc:member:{member.pk}", member_cache._entry(before, old_versions, before.state.values), 60)

    assert checked_ids(get_page(client, form_url(member))) == {events.pk}


def test_it_keeps_versions_that_never_expire_and_so_never_repeat(on_redis, member, django_capture_on_commit_callbacks):
    """A version that expired would start again at 1 and could come back to the value of a page stored
    before a save: the versions and generations carry no expiry (and Redis must not evict them)."""
    newsletter, events = make_interests(2)
    with django_capture_on_commit_callbacks(execute=True):
        save(member, {newsletter.pk: True})
        save(member, {events.pk: True})
    assert on_redis.get(f"pc:member-version:{member.pk}") == 2
    assert seconds_to_live(on_redis, f"pc:member-version:{member.pk}") == -1  # no expiry
    with django_capture_on_commit_callbacks(execute=True):
        member_cache.members_changed()
    assert seconds_to_live(on_redis, "pc:members-generation") == -1


# --- cache off, cache down ----------------------------------------------------------------------------


def test_it_reads_the_database_on_every_visit_when_the_cache_is_off(
    on_redis, client, member, django_capture_on_commit_callbacks
):
    newsletter, events = make_interests(2)
    url = form_url(member)
    with override_settings(MEMBER_CACHE_SECONDS=0):
        for _ in range(3):
            queries, html = count_queries(lambda: get_page(client, url))
            assert queries >= 1 and checked_ids(html) == set()
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, url, [events], action="save").status_code == 302
        queries, html = count_queries(lambda: get_page(client, url))
        assert queries >= 1 and checked_ids(html) == {events.pk}
    assert on_redis.get(f"pc:member:{member.pk}") is None  # nothing was stored


@override_settings(CACHES=redis_caches("unreachable", location=REDIS_DOWN_URL))
def test_it_answers_from_the_database_when_redis_is_down(client, member, django_capture_on_commit_callbacks, caplog):
    newsletter, events = make_interests(2)
    Preference.objects.create(subscriber=member, interest=newsletter, value=True, imis_value=True)
    url = form_url(member)

    assert checked_ids(get_page(client, url)) == {newsletter.pk}
    with django_capture_on_commit_callbacks(execute=True):  # the save's bump cannot reach Redis: logged only
        assert post(client, url, [events], action="save").status_code == 302
    assert checked_ids(get_page(client, url)) == {events.pk}
    assert client.get(f"/p/{make_token(member)[:-3]}xyz/").status_code == 404  # a forged link: still friendly
    assert "member cache not read" in caplog.text and "member cache not told of a change" in caplog.text


# --- the rate limit ---------------------------------------------------------------------------------------


def test_it_rate_limits_the_personal_page_even_when_served_from_the_cache(
    on_redis, client, member, django_assert_num_queries
):
    make_interests(2)
    url = form_url(member)
    # "2/h", not "2/m": the count is per fixed window, and a test that straddled a minute's end would count
    # its third request in a new window.
    with override_settings(PREFERENCES_RATE_LIMIT="2/h"):
        get_page(client, url)
        with django_assert_num_queries(0):
            get_page(client, url)  # from the cache, and counted
            limited = client.get(url, REMOTE_ADDR="198.51.100.23")
        assert limited.status_code == 429 and limited["Retry-After"] == "3600"
        assert "no-store" in limited["Cache-Control"]
        assert get_page(client, url, ip="198.51.100.99")  # another client has its own count


# --- counted_round_trip, on Redis and on any other cache ------------------------------------------------


@pytest.fixture(params=["redis", "local-memory"])
def raw_cache(request):
    """A cache instance of each kind, with keys of this test's own."""
    if request.param == "redis":
        prefix = f"test-counted-round-trip-{uuid.uuid4().hex}"
        yield ReusingRedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
        _drop_prefixed(prefix)
    else:
        yield LocMemCache(f"test-counted-round-trip-{uuid.uuid4().hex}", {})


def seconds_to_live(the_cache, key):
    """The key's remaining time to live in seconds, -1 if it never expires, None if it is missing."""
    full_key = the_cache.make_key(key)
    if isinstance(the_cache, ReusingRedisCache):
        raw = redis.Redis.from_url(REDIS_URL)
        try:
            ttl = raw.ttl(full_key)
        finally:
            raw.close()
        return None if ttl == -2 else ttl
    if full_key not in the_cache._cache:
        return None
    expires = the_cache._expire_info[full_key]
    return -1 if expires is None else expires - time.time()


def test_it_counts_from_one_and_sets_the_timeout_when_the_counter_is_created(raw_cache):
    assert [counted_round_trip(raw_cache, "counter", 60)[0] for _ in range(3)] == [1, 2, 3]
    assert raw_cache.get("counter") == 3
    assert 0 < seconds_to_live(raw_cache, "counter") <= 60

    assert counted_round_trip(raw_cache, "forever", None) == (1, {})
    assert seconds_to_live(raw_cache, "forever") == -1


def test_it_reads_the_keys_to_get_with_none_for_missing_ones(raw_cache):
    raw_cache.set("a-number", 7)
    raw_cache.set("a-tuple", (1, 2, "Jane", "j•••@example.org", [3, 4]))
    count, got = counted_round_trip(raw_cache, "counter", 60, get=["a-number", "a-tuple", "missing"])
    assert count == 1
    assert got == {"a-number": 7, "a-tuple": (1, 2, "Jane", "j•••@example.org", [3, 4]), "missing": None}


def test_it_deletes_the_keys_to_delete_after_reading_them(raw_cache):
    raw_cache.set_many({"read-and-dropped": "x", "dropped": "y", "kept": "z"})
    count, got = counted_round_trip(
        raw_cache, "counter", 60, get=["read-and-dropped"], delete=["read-and-dropped", "dropped", "never-there"]
    )
    assert count == 1 and got == {"read-and-dropped": "x"}
    assert raw_cache.get_many(["read-and-dropped", "dropped", "kept"]) == {"kept": "z"}


def test_it_increments_and_sets_keys_after_reading_them(raw_cache):
    raw_cache.set_many({"version": 4, "lease": "old"})
    count, got = counted_round_trip(
        raw_cache, "counter", 60, get=["version", "lease"], incr=["version", "new-version"], set={"lease": ("new", 30)}
    )
    assert count == 1 and got == {"version": 4, "lease": "old"}
    assert raw_cache.get_many(["version", "new-version", "lease"]) == {"version": 5, "new-version": 1, "lease": "new"}
    assert seconds_to_live(raw_cache, "new-version") == -1  # a version never expires
    assert 0 < seconds_to_live(raw_cache, "lease") <= 30


def test_it_stores_without_waiting_for_the_reply_and_keeps_the_connection_in_step(raw_cache):
    # One pooled connection serves all of these: a reply left unread would answer the next command.
    for n in range(5):
        set_unanswered(raw_cache, f"entry-{n}", (n, "Jane", [3, 4]), 30)
        count, got = counted_round_trip(raw_cache, "counter", 60, get=[f"entry-{n}"])
        assert (count, got) == (n + 1, {f"entry-{n}": (n, "Jane", [3, 4])})
    assert 0 < seconds_to_live(raw_cache, "entry-4") <= 30


def test_it_raises_when_redis_cannot_be_reached_for_an_unanswered_store():
    with pytest.raises(CACHE_ERRORS):
        set_unanswered(ReusingRedisCache(REDIS_DOWN_URL, {}), "entry", 1, 30)


@pytest.fixture(params=[["-client|reply"], ["-client|reply", "-ping"]], ids=["no-reply-skip", "no-ping-either"])
def redis_refusing_reply_skip(request, monkeypatch):
    """A Redis URL whose user may not use CLIENT REPLY, as an ACL, a proxy or a managed service may have it
    (and one that may not PING either: the question then ends when its PROBE_SECONDS run out)."""
    monkeypatch.setattr(preference_center.cache, "PROBE_SECONDS", 0.2)
    admin = redis.Redis.from_url(REDIS_URL)
    user = f"pc-test-{uuid.uuid4().hex[:8]}"
    admin.acl_setuser(
        user, enabled=True, nopass=True, keys=["*"], channels=["*"], categories=["+@all"], commands=request.param
    )
    yield REDIS_URL.replace("redis://", f"redis://{user}@", 1)
    admin.acl_deluser(user)
    admin.close()


def test_it_waits_for_the_reply_where_the_server_refuses_to_skip_it(redis_refusing_reply_skip):
    prefix = f"test-refused-skip-{uuid.uuid4().hex}"
    the_cache = ReusingRedisCache(redis_refusing_reply_skip, {"KEY_PREFIX": prefix})
    try:
        for n in range(3):  # out of step, each command would read the reply meant for the one before
            set_unanswered(the_cache, f"entry-{n}", n, 30)
            assert counted_round_trip(the_cache, "counter", 60, get=[f"entry-{n}"]) == (n + 1, {f"entry-{n}": n})
    finally:
        _drop_prefixed(prefix)


# --- ahead of a mailing: member_pages_warm -----------------------------------------------------------------


def test_it_serves_a_page_cached_ahead_without_a_database_query(any_cache, client, member, django_assert_num_queries):
    newsletter, events = make_interests(2)
    Preference.objects.create(subscriber=member, interest=events, value=True, imis_value=True)
    gone = make_subscriber(email="gone@example.org", active=False)

    assert member_cache.member_pages_warm([member.pk, gone.pk]) == 1  # an inactive member gets no page

    with django_assert_num_queries(0):
        html = get_page(client, form_url(member))
    assert checked_ids(html) == {events.pk} and shown_ids(html) == {newsletter.pk, events.pk}
    assert "Jane" in html and "j•••@example.org" in html and "jane.doe@" not in html


def test_it_leaves_out_a_member_whose_save_is_under_way(on_redis, client, member):
    newsletter, _ = make_interests(2)
    url = form_url(member)
    # The save's round trip takes the lease before it writes: a page read now could miss the write.
    member_cache.visit(url.split("/")[2], client="198.51.100.7", group="g", rate=Rate(100, 60), load=False)

    assert member_cache.member_pages_warm([member.pk]) == 0
    assert count_queries(lambda: get_page(client, url))[0] >= 1  # read from the database, as during a save


def test_it_never_serves_a_page_cached_ahead_that_a_change_overtook(
    any_cache, client, member, django_capture_on_commit_callbacks
):
    newsletter, _ = make_interests(2)
    member_cache.member_pages_warm([member.pk])
    with django_capture_on_commit_callbacks(execute=True):
        save(member, {newsletter.pk: True})  # the API's way: its version bumps after the commit

    assert checked_ids(get_page(client, form_url(member))) == {newsletter.pk}


def test_it_caches_nothing_ahead_when_the_cache_is_off(member):
    make_interests(1)
    with override_settings(MEMBER_CACHE_SECONDS=0):
        assert member_cache.member_pages_warm([member.pk]) == 0


@override_settings(CACHES=redis_caches("unreachable", location=REDIS_DOWN_URL))
def test_it_gives_up_quietly_when_redis_is_down(member, caplog):
    make_interests(1)
    assert member_cache.member_pages_warm([member.pk]) == 0
    assert "member pages not cached ahead" in caplog.text


def test_it_caches_the_pages_of_an_exported_target_group(any_cache, client, member, django_assert_num_queries):
    # The links of a target group are exported for a mailing: its members' pages are cached ahead of it.
    newsletter, events = make_interests(2)
    Preference.objects.create(subscriber=member, interest=newsletter, value=True, imis_value=True)
    outsider = make_subscriber(email="other@example.org")
    Preference.objects.create(subscriber=outsider, interest=events, value=True, imis_value=True)

    response = export_response(target_group_build(any_of=[newsletter.pk]))
    b"".join(response.streaming_content)

    with django_assert_num_queries(0):
        assert checked_ids(get_page(client, form_url(member))) == {newsletter.pk}
    assert count_queries(lambda: get_page(client, form_url(outsider)))[0] >= 1  # not in the group


def test_it_caches_ahead_the_very_entry_a_page_view_would(any_cache, client, member):
    newsletter, events = make_interests(2)
    [hidden] = make_interests(1, visible=False, start=2)
    for interest in (events, hidden):
        Preference.objects.create(subscriber=member, interest=interest, value=True, imis_value=True)
    key = member_cache._entry_key(member.pk)

    member_cache.member_pages_warm([member.pk])
    ahead = any_cache.get(key)
    any_cache.delete(key)
    get_page(client, form_url(member))  # read from the database and stored

    assert ahead is not None and ahead == any_cache.get(key)


def test_it_caches_ahead_the_pages_of_members_whose_links_export_links_wrote(
    any_cache, client, member, django_assert_num_queries
):
    [newsletter] = make_interests(1)
    Preference.objects.create(subscriber=member, interest=newsletter, value=True, imis_value=True)
    err = io.StringIO()
    call_command("export_links", stdout=io.StringIO(), stderr=err)

    assert "1 member pages cached ahead of the mailing" in err.getvalue()
    with django_assert_num_queries(0):
        assert checked_ids(get_page(client, form_url(member))) == {newsletter.pk}
