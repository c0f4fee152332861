"""gunicorn (as configured in gunicorn.conf.py) never writes a personal-link token to its access log."""

import datetime
from types import SimpleNamespace

from gunicorn.config import Config

from preference_center.lib.gunicorn_logging import RedactingLogger

TOKEN = "WzEsMV0:1xWnig:MSjOd2JSNEKn6AFWvTYoifyQn7ffvzQp8jEp4Mpbkbs"


def test_it_redacts_tokens_from_the_access_log(capsys):
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(h)s "%(r)s" %(U)s %(f)s %(s)s')
    logger = RedactingLogger(cfg)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/p/{TOKEN}/",
        "PATH_INFO": f"/p/{TOKEN}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://prefs.example.org/p/{TOKEN}/",
    }
    resp = SimpleNamespace(status="302 Found", sent=0, headers=[])
    req = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    logger.access(resp, req, environ, datetime.timedelta(milliseconds=3))
    line = capsys.readouterr().out
    assert "/p/[token]/" in line
    assert TOKEN not in line


def test_the_production_configuration_uses_it():
    cfg = Config()
    namespace = {}
    exec(open("gunicorn.conf.py").read(), namespace)  # noqa: S102 - our own configuration file
    cfg.set("logger_class", namespace["logger_class"])
    assert cfg.logger_class is RedactingLogger


def test_it_redacts_addresses_from_the_access_log(capsys):
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '"%(r)s" %(U)s %(s)s')
    logger = RedactingLogger(cfg)
    path = "/api/v1/members/jane.doe%40example.org/"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path, "SERVER_PROTOCOL": "HTTP/1.1"}
    logger.access(
        SimpleNamespace(status="404 Not Found", sent=0, headers=[]),
        SimpleNamespace(headers=[]),
        environ,
        datetime.timedelta(milliseconds=3),
    )
    line = capsys.readouterr().out
    assert "jane.doe" not in line and "/api/v1/members/[email]/" in line
