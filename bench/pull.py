"""Pull benchmark: 100,000 members x 3 UD tables x 20 checkbox fields from a PostgreSQL iMIS replica.

Prints wall time and peak memory of `roster_pull` (the first import, then a second pull with nothing
changed in iMIS), and the ratio to plain streaming SELECTs of the same rows in the same run.
Targets (issue 7): <= 60 s, <= 300 MB.

    .venv/bin/python bench/pull.py [--members 100000]
"""

import argparse
import sys
import tempfile

from harness import ROOT, environment, manage, postgres_databases, table
from measure import PULL, measure

# The baseline: the same rows, read with server-side cursors and thrown away.
BASELINE = """
import psycopg
from django.conf import settings
from interests.models import RemoteInterest
db = settings.DATABASES["imis"]
conn = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
rows = 0
queries = ['SELECT "ID", "EMAIL", "FIRST_NAME", "LAST_NAME", "FULL_NAME", "STATUS", "COMPANY_RECORD", "EXCLUDE_MAIL" FROM "Name" ORDER BY "ID"']
tables = {}
for i in RemoteInterest.objects.filter(visible=True):
    tables.setdefault(i.table_name, []).append(i.field_name)
for t, fields in tables.items():
    queries.append('SELECT "ID", ' + ", ".join('"%s"' % f for f in fields) + ' FROM "%s" ORDER BY "ID"' % t)
with conn:
    for n, sql in enumerate(queries):
        with conn.cursor(name="c%d" % n) as cur:
            cur.itersize = 2000
            cur.execute(sql)
            for _ in cur:
                rows += 1
extra = {"rows": rows}
"""

SETUP = """
from interests.models import RemoteInterest
from sync.services.discovery import interests_discover
assert interests_discover().ok
RemoteInterest.objects.update(visible=False)
n = RemoteInterest.objects.filter(table_name__startswith="ud_Extra_").update(visible=True)
print(n, "interests visible")
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    with postgres_databases("pc_bench_pull", "pc_bench_pull_imis") as (ours, imis), tempfile.TemporaryDirectory() as t:
        # VAR_DIR of its own: the pull's lock lives in the file cache, which the app's own run would share.
        env = environment(DATABASE_URL=ours, IMIS_DATABASE_URL=imis, PYTHONPATH=ROOT, VAR_DIR=t)
        print(f"Building the replica: {args.members} members, 3 extra UD tables x 20 checkbox fields ...")
        manage(env, "migrate", "-v0")
        manage(env, "imis_sandbox", "--members", args.members, "--extra-tables", 3, "--fields-per-table", 20)
        manage(env, "shell", "-c", SETUP)
        first = measure(env, PULL)
        second = measure(env, PULL)
        baseline = measure(env, BASELINE)

    print()
    print(f"Pull of {args.members} members x 60 checkbox fields (3 UD tables), PostgreSQL replica")
    rows = [
        ["plain streaming SELECTs (baseline)", f"{baseline['seconds']:.1f}", f"{baseline['peak_mb']:.0f}", "1.00"],
        ["roster_pull, first import", f"{first['seconds']:.1f}", f"{first['peak_mb']:.0f}", f"{first['seconds'] / baseline['seconds']:.2f}"],
        ["roster_pull, nothing changed", f"{second['seconds']:.1f}", f"{second['peak_mb']:.0f}", f"{second['seconds'] / baseline['seconds']:.2f}"],
    ]  # fmt: skip
    table(rows, ["run", "seconds", "peak MB", "x baseline"])
    print(f"\nbaseline rows read: {baseline['rows']}; first pull counts: {first['counts']}")
    ok = first["ok"] and first["seconds"] <= 60 and max(first["peak_mb"], second["peak_mb"]) <= 300
    print("targets (<= 60 s, <= 300 MB):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
