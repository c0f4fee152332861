"""Bench: the streamed CSV export of a target group of 100,000 members.

    PC_TEST_DB_SUFFIX=_bench .venv/bin/python bench/export.py [--rows 100000]

Runs in a throwaway PostgreSQL test database (tests.settings). Prints, for the full export: time, rows per
second, size, and the peak Python memory (tracemalloc, a second pass) next to the peak for a tenth of the
rows; and, as the baseline measured in the same run, the time of the bare query (the rows fetched with
the same server-side cursor, no CSV, no links).
"""

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("PC_TEST_DB_SUFFIX", "_bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test.utils import get_runner, setup_test_environment, teardown_test_environment  # noqa: E402

settings.ROOT_URLCONF = "tests.mailing_urls"  # member pages' URL names, even before they are merged
# As in production, caching the members' pages ahead of the mailing is a worker's job, not the export's:
# the message goes to the (in-memory) broker instead of running here.
settings.CELERY_TASK_ALWAYS_EAGER = False


def consume(group):
    from mailing.exports import export_response

    size = lines = 0
    for chunk in export_response(group).streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    return size, lines


def peak(group):
    tracemalloc.start()
    try:
        consume(group)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases(aliases={"default"})
    try:
        from mailing import selectors
        from tests.factories import make_interests, make_subscribers

        [news] = make_interests(count=1)
        group = selectors.target_group_build(any_of=[news.pk])
        tenth = rows // 10
        make_subscribers(count=tenth, interest=news)
        consume(group)  # warm up
        peak_tenth = peak(group)

        started = time.perf_counter()
        make_subscribers(count=rows - tenth, interest=news, start=tenth)
        print(f"setup: {rows:,} members in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        fetched = sum(
            1
            for _ in selectors.target_group_members(group=group)
            .values_list("pk", "token_version", "imis_id", "email", "first_name", "last_name")
            .iterator(chunk_size=selectors.EXPORT_CHUNK_SIZE)
        )
        baseline = time.perf_counter() - started

        started = time.perf_counter()
        size, lines = consume(group)
        elapsed = time.perf_counter() - started
        peak_full = peak(group)

        assert lines == rows + 1 and fetched == rows, (lines, fetched)
        print(f"export: {rows:,} rows, {size / 1e6:.1f} MB of CSV in {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s)")
        print(f"baseline (bare query, same cursor): {baseline:.2f} s; export / baseline = {elapsed / baseline:.1f}x")
        print(
            f"peak Python memory: {peak_full / 1e6:.2f} MB for {rows:,} rows, {peak_tenth / 1e6:.2f} MB for "
            f"{tenth:,} rows (ratio {peak_full / peak_tenth:.2f} for 10x the rows)"
        )
    finally:
        runner.teardown_databases(old)
        teardown_test_environment()


if __name__ == "__main__":
    main()
