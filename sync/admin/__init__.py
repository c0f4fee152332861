# The admin of the sync: changes list, runs and dashboard (changes.py), the missing UD rows report, the discovery's part of the interests list (discovery.py).
from . import changes, discovery, missing_ud_rows  # noqa: F401
