"""Benchmark of the push: N pending changes pushed into a PostgreSQL iMIS replica by the push service, run
in-process as a worker runs it, against a baseline doing the same work with raw batched SQL in the same
run (read the batch, UPDATE the UD field, allocate SEQNs in Counter, INSERT the Activity rows, mark our rows
done). Prints changes per second and the ratio. Target: the push no slower than 3x the baseline.

    .venv/bin/python bench/push.py [--changes 10000] [--batch 500] [--keep]

It creates its own databases (pc_bench, pc_bench_imis) on BENCH_POSTGRES_URL (default: this machine's
PostgreSQL) and drops them afterwards.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
DATABASES = ("pc_bench", "pc_bench_imis")


def admin_sql(*statements):
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()

    admin_sql(*[f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in DATABASES])
    admin_sql(*[f"CREATE DATABASE {name}" for name in DATABASES])
    os.environ.update(
        DJANGO_SETTINGS_MODULE="preference_center.settings",
        DATABASE_URL=f"{SERVER}/pc_bench",
        IMIS_DATABASE_URL=f"{SERVER}/pc_bench_imis",
        PUSH_BATCH_SIZE=str(args.batch),
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin_sql(*[f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in DATABASES])


def run(args):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from sync.services import push

    call_command("migrate", verbosity=0)
    n = build(args.changes)
    reset()
    base = timed(lambda: baseline(args.batch), n)
    reset()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        ours = timed(lambda: profiler.runcall(push.changes_push, max_batches=10**6), n)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    else:
        ours = timed(lambda: push.changes_push(max_batches=10**6), n)
    q = connections["imis"].ops.quote_name
    activity_rows = connections["imis"].cursor()
    activity_rows.execute(f"SELECT COUNT(*) FROM {q('Activity')} WHERE {q('SOURCE_SYSTEM')} = 'PREFCTR'")
    assert activity_rows.fetchone()[0] == n
    print(f"{n} changes, batches of {args.batch}, PostgreSQL for our data and the iMIS replica")
    print(f"baseline (raw batched SQL): {base:7.2f}s  {n / base:8.0f} changes/s")
    print(f"push service (in-process):  {ours:7.2f}s  {n / ours:8.0f} changes/s")
    ratio = ours / base
    print(f"ratio push / baseline: {ratio:.2f}x (target <= 3x) {'OK' if ratio <= 3 else 'TOO SLOW'}")


def build(changes):
    """The iMIS replica, and `changes` members (all with a UD row) with one pending change each; returns how
    many."""
    from interests.models import RemoteInterest
    from preference_center.imis.sandbox import build_sandbox, member_id
    from subscribers.models import Preference, PreferenceChange, Subscriber

    members = [i for i in range(changes * 18 // 16 + 17) if i % 17 != 16][:changes]  # all with a UD row
    print(f"building the iMIS replica ({members[-1] + 1} members) ...", flush=True)
    build_sandbox("imis", members=members[-1] + 1)
    interest = RemoteInterest.objects.create(table_name="ud_EmailPrefs", field_name="NEWSLETTER", visible=True)
    subscribers = Subscriber.objects.bulk_create([Subscriber(imis_id=member_id(i)) for i in members], batch_size=2000)
    Preference.objects.bulk_create(
        [Preference(subscriber=s, interest=interest, value=True) for s in subscribers], batch_size=2000
    )
    PreferenceChange.objects.bulk_create(
        [
            PreferenceChange(subscriber=s, interest=interest, old_value=False, new_value=n % 3 != 0, source="form")
            for n, s in enumerate(subscribers)
        ],
        batch_size=2000,
    )
    return len(subscribers)


def reset():
    """Every change pending again, none of the Activity rows either run wrote."""
    from django.db import connections

    q = connections["imis"].ops.quote_name
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "UPDATE subscribers_preferencechange SET state = 'pending', attempts = 0, activity_seqn = NULL, "
            "synced_at = NULL, claimed_at = NULL, uuid = gen_random_uuid()"
        )
    with connections["imis"].cursor() as cursor:
        cursor.execute(f"DELETE FROM {q('Activity')} WHERE {q('SOURCE_SYSTEM')} IN ('PREFCTR', 'BASELINE')")


def timed(fn, expected):
    from subscribers.models import PreferenceChange

    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    done = PreferenceChange.objects.filter(state="done").count()
    assert done == expected, f"only {done} of {expected} changes done"
    return elapsed


def baseline(batch):
    """The same work in raw batched SQL: no claims, no ORM, no checks."""
    from django.db import connections, transaction
    from django.utils import timezone

    ours = connections["default"]
    after = 0
    while True:
        with ours.cursor() as cursor:
            cursor.execute(
                "SELECT c.id, s.imis_id, c.uuid, c.new_value, c.created_at FROM subscribers_preferencechange c "
                "JOIN subscribers_subscriber s ON s.id = c.subscriber_id WHERE c.state = 'pending' AND c.id > %s "
                "ORDER BY c.id LIMIT %s",
                [after, batch],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        after = rows[-1][0]
        with transaction.atomic(using="imis"):
            first = _baseline_write_imis(rows)
        with transaction.atomic(), ours.cursor() as cursor:
            values = ", ".join(["(%s, %s)"] * len(rows))
            cursor.execute(
                "UPDATE subscribers_preferencechange c SET state = 'done', synced_at = %s, activity_seqn = v.seqn "
                f"FROM (VALUES {values}) AS v(id, seqn) WHERE c.id = v.id",
                [timezone.now(), *[x for k, r in enumerate(rows) for x in (r[0], first + k)]],
            )


def _baseline_write_imis(rows):
    """The UD field, the Counter and the Activity rows of one batch; returns the batch's first SEQN."""
    from django.db import connections

    q = connections["imis"].ops.quote_name
    ud, field, activity, counter = q("ud_EmailPrefs"), q("NEWSLETTER"), q("Activity"), q("Counter")
    with connections["imis"].cursor() as cursor:
        for value in (True, False):
            ids = [r[1] for r in rows if r[3] is value]
            if ids:
                cursor.execute(
                    f"UPDATE {ud} SET {field} = %s WHERE {q('ID')} IN ({', '.join(['%s'] * len(ids))})",
                    [value, *ids],
                )
        cursor.execute(
            f"UPDATE {counter} SET {q('LAST_VALUE')} = {q('LAST_VALUE')} + %s "
            f"WHERE {q('COUNTER_NAME')} = 'Activity' RETURNING {q('LAST_VALUE')}",
            [len(rows)],
        )
        first = cursor.fetchone()[0] - len(rows) + 1
        cursor.executemany(
            f"INSERT INTO {activity} ({q('SEQN')}, {q('ID')}, {q('ACTIVITY_TYPE')}, {q('TRANSACTION_DATE')}, "
            f"{q('PRODUCT_CODE')}, {q('DESCRIPTION')}, {q('SOURCE_SYSTEM')}, {q('SOURCE_CODE')}) "
            "VALUES (%s, %s, 'iOptout', %s, 'NEWSLETTER', %s, 'BASELINE', %s)",
            [
                [first + k, r[1], r[4].replace(tzinfo=None), f"Opted {'in' if r[3] else 'out'}: NEWSLETTER", str(r[2])]
                for k, r in enumerate(rows)
            ],
        )
    return first


if __name__ == "__main__":
    main()
