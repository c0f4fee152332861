class ImisIdConverter:
    """An iMIS ID in a path: letters, digits, '-', '_' and '.', up to 20 characters (anything else is a 404
    before the database sees it)."""

    regex = r"[A-Za-z0-9._-]{1,20}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class IdConverter:
    """A database id: 1 to 18 digits (fits a 64-bit integer, so no overflow reaches the database)."""

    regex = r"[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)
