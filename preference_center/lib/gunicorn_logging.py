"""gunicorn's logs without personal-link tokens: a token is a bearer credential for one member's
preferences, so paths and referers are logged as /p/[token]/, in the access log and in the error log
("Error handling request /p/...", with its traceback) alike."""

from gunicorn.glogging import Logger

from .redaction import RedactTokensFilter, redact

REDACTED_ATOMS = ("r", "U", "f", "{referer}i")


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactTokensFilter) for existing in log.filters):
                log.addFilter(RedactTokensFilter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in REDACTED_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
