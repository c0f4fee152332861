"""gunicorn as in production: sync workers, one per core plus one, short keep-alive."""

import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 30
keepalive = 5
accesslog = "-"
# Paths only, with personal-link tokens redacted (RedactingLogger); no query strings, no user agents.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
logger_class = "preference_center.gunicorn_logging.RedactingLogger"
