"""The iMIS REST API (iMIS EMS / iMIS Cloud, where there is no database access): the HTTP client, the
JSON shapes, and a sandbox server of ours that serves them from the SQL replica."""
