# The admin of members (members.py) and of the sync (changes.py: changes list, runs, dashboard).
from . import changes, members, missing_ud_rows  # noqa: F401
