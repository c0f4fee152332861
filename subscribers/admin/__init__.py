# The admin of members (members.py); the sync's (changes, runs, dashboard, missing UD rows) is in sync.admin.
from . import members  # noqa: F401
