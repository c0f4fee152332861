"""gunicorn's access log without personal-link tokens: a token is a bearer credential for one member's
preferences, so paths and referers are logged as /p/[token]/."""

from gunicorn.glogging import Logger

from subscribers.tokens import redact

REDACTED_ATOMS = ("r", "U", "f", "{referer}i")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in REDACTED_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
