"""Two writers at once on the PostgreSQL replica: SEQNs from Counter never collide, no change is lost."""

import threading
import uuid

import pytest
from django.db import connections

from preference_center import imis
from preference_center.imis.sandbox import build_sandbox, member_id
from tests.conftest import fetch, q

ROUNDS = 25


def activity_counter():
    sql = f"SELECT {q('imis', 'LAST_VALUE')} FROM {q('imis', 'Counter')} WHERE {q('imis', 'COUNTER_NAME')} = 'Activity'"
    return fetch("imis", sql)[0][0]


@pytest.mark.django_db(databases=["default", "imis"], transaction=True)
def test_two_concurrent_writers_never_share_an_activity_seqn():
    build_sandbox("imis", members=200)
    start = activity_counter()
    barrier = threading.Barrier(2)
    errors, written = [], []

    def writer(offset):
        try:
            barrier.wait()
            for r in range(ROUNDS):
                batch = [
                    imis.ValueChange(
                        str(uuid.uuid4()),
                        member_id(offset + 4 * r + k),
                        "UD_Topics",
                        "CE_Credits",
                        bool(r % 2),
                        "CE",
                        "test",
                    )
                    for k in range(2)
                ]
                written.extend(o for o in imis.write_changes(batch, using="imis") if o.ok)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(offset,)) for offset in (0, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    seqns = [o.seqn for o in written]
    assert len(seqns) == len(set(seqns)), "two writers got the same SEQN"
    rows = fetch(
        "imis", f"SELECT {q('imis', 'SEQN')} FROM {q('imis', 'Activity')} WHERE {q('imis', 'SEQN')} > %s", [start]
    )
    assert sorted(r[0] for r in rows) == sorted(seqns)
    assert activity_counter() == start + len(seqns)
    # Members without a UD_Topics row are reported, the rest all arrive.
    assert len(seqns) == sum(1 for i in range(4 * ROUNDS) if i % 23 != 22)
