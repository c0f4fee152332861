# "Manage iMIS Remote Interests" (remote_interests.py) and the fields discovery skipped (skipped_fields.py).
from . import remote_interests, skipped_fields  # noqa: F401
