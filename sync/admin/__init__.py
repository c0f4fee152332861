# The admin of the sync: changes list, runs and dashboard (changes.py), the missing UD rows report.
from . import changes, missing_ud_rows  # noqa: F401
