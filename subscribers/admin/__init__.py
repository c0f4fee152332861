# The admin of members (members.py), their part of the interests admin (interests.py); the sync's (changes, runs, dashboard, missing UD rows) is in sync.admin.
from . import interests, members  # noqa: F401
