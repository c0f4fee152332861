"""gunicorn as in production: sync workers, two per core plus one, short keep-alive."""

import multiprocessing
import os

# Two per core plus one (gunicorn's own advice): a save spends about half its time waiting for Redis and
# PostgreSQL, and with one worker per core plus one the cores sat idle meanwhile (bench/page.py; figures in
# docs/benchmarks.md). WEB_CONCURRENCY overrides it.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 30
keepalive = 5
accesslog = "-"
# Paths only, with personal-link tokens redacted (RedactingLogger); no query strings, no user agents.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
logger_class = "preference_center.lib.gunicorn_logging.RedactingLogger"
