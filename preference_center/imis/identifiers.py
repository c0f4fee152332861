"""Identifiers that come from iMIS metadata (UD table and field names) are checked before any use."""

import re

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,29}$")


class InvalidIdentifier(ValueError):
    def __init__(self, name):
        self.name = name
        super().__init__(f"{name!r} is not a valid iMIS identifier (letters, digits and _, at most 30)")


def is_valid_identifier(name):
    return isinstance(name, str) and bool(IDENTIFIER_RE.fullmatch(name))


def checked(name):
    """Return `name` if it is a safe identifier, else raise InvalidIdentifier."""
    if not is_valid_identifier(name):
        raise InvalidIdentifier(name)
    return name
