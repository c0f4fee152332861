import pytest
from django.db import connections

from preference_center.imis.sandbox import build_sandbox

IMIS_REPLICAS = ["imis", "imis_sqlite"]  # PostgreSQL, SQLite
ALL_DATABASES = ["default", *IMIS_REPLICAS]


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The French pages need locale/*.mo, which bin/bootstrap compiles: compile them here too for a pytest
    run straight after editing a catalogue (a no-op when the .mo is newer)."""
    from django.core.management import call_command

    call_command("compilemessages", ignore_patterns=[".venv"], verbosity=0)


@pytest.fixture(params=IMIS_REPLICAS)
def imis_replica(request):
    """A fresh iMIS replica with 40 demo members, on PostgreSQL and on SQLite: yields the alias."""
    alias = request.param
    build_sandbox(alias, members=40)
    yield alias


@pytest.fixture(scope="session")
def embedded_default(tmp_path_factory):
    """An embedded default (SQLite for our data and iMIS) to run a test's scenario on (tests/embedded_helpers.py)."""
    from tests.embedded_helpers import EmbeddedDefault

    return EmbeddedDefault(tmp_path_factory.mktemp("embedded"))


@pytest.fixture
def redis_server():
    """A private redis-server on a free port (tests/workers.py): a test may stop, freeze or restart it."""
    from tests.workers import RedisServer

    server = RedisServer()
    server.start()
    yield server
    server.stop()  # a frozen one too


@pytest.fixture
def imis_pg():
    """A fresh PostgreSQL iMIS replica on the `imis` alias (the one the app uses in tests)."""
    build_sandbox("imis", members=40)
    return "imis"


def fetch(alias, sql, params=()):
    """Read the replica directly: tests look at iMIS with their own eyes, not through the gateway."""
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def q(alias, name):
    return connections[alias].ops.quote_name(name)


@pytest.fixture
def member():
    """Jane, a mailable member with a first name (a test module may define its own)."""
    from tests.factories import make_subscriber

    return make_subscriber(email="jane.doe@example.org", first_name="Jane")


@pytest.fixture(autouse=True)
def _redis_breaker_closed():
    """Each test starts with this process's Redis breaker closed (a test that stopped Redis tripped it)."""
    from preference_center.lib.breaker import redis_breaker

    redis_breaker.reset()


@pytest.fixture(autouse=True)
def _brand_read_afresh():
    """Each test sees the brand its own database holds: this process's copy of the published brand and the
    cache's are dropped (the database rolls back between tests, neither of them does)."""
    from django.core.cache import cache

    from branding import selectors

    selectors.forget_local()
    cache.delete(selectors.CACHE_KEY)


@pytest.fixture
def rest_sandbox():
    """The REST sandbox (an HTTP server of ours) over a fresh 40-member PostgreSQL replica on `imis`.
    Its threads read the replica on their own connections: tests that use it need transaction=True."""
    from preference_center.imis.rest.sandbox_server import RestSandbox

    build_sandbox("imis", members=40)
    sandbox = RestSandbox("imis").start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def over_rest(rest_sandbox):
    """The app reaching iMIS over REST (only IMIS_API_* set): the sandbox, no token of an earlier one, and no
    client of this one left behind."""
    from django.core.cache import cache
    from django.test import override_settings

    from preference_center.imis.rest.reads import close_clients

    cache.clear()
    try:
        with override_settings(IMIS_API_URL=rest_sandbox.url, IMIS_API_USER="SANDBOX", IMIS_API_PASSWORD="sandbox"):
            yield rest_sandbox
    finally:
        close_clients()


@pytest.fixture
def rest_client(rest_sandbox):
    """A REST client logged in to the sandbox with short backoffs, its token in a clean cache."""
    from django.core.cache import cache

    from preference_center.imis.rest.client import RestClient

    cache.clear()
    client = RestClient(
        rest_sandbox.url, rest_sandbox.username, rest_sandbox.password, backoff_base=0.01, read_timeout=5
    )
    yield client
    client.close()


@pytest.fixture
def groups():
    """Three interests and four members for the target groups: 1 news, 2 news and events, 3 events and
    alerts, 4 news but excluded from mail."""
    from tests.factories import make_interests, make_subscriber

    news, events, alerts = make_interests(count=3)
    make_subscriber(imis_id="1", on=[news])
    make_subscriber(imis_id="2", on=[news, events])
    make_subscriber(imis_id="3", on=[events, alerts])
    make_subscriber(imis_id="4", on=[news], exclude_mail=True)
    return news, events, alerts


@pytest.fixture
def fresh_rate_limits():
    """The member pages' rate limits start from nothing: their counts live in the cache, which outlives
    each test's database (modules of many requests from one address use it)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def pushes_recorded(monkeypatch):
    """Each push to iMIS the app asks for (sync.outbox.push_soon), recorded in the list it yields instead of
    sent to the broker."""
    from sync import outbox

    pushes = []
    monkeypatch.setattr(outbox, "push_soon", lambda: pushes.append(True))
    return pushes
