"""A piece of the app measured in a Django process of its own: its time, peak memory and RSS over time."""

import json
import subprocess

from harness import PYTHON, ROOT

# `body` sets `extra`; the process's RSS is sampled every 0.2 s meanwhile (flat memory shows in the quarters).
MEASURE = r"""
import json, resource, threading, time
import django
django.setup()
samples, running = [], True
def sample():
    while running:
        with open("/proc/self/statm") as f:
            samples.append(int(f.read().split()[1]) * 4096 / 2**20)
        time.sleep(0.2)
threading.Thread(target=sample, daemon=True).start()
t0 = time.perf_counter()
{body}
seconds = time.perf_counter() - t0
running = False
quarters = [samples[min(len(samples) - 1, len(samples) * k // 4)] for k in (1, 2, 3, 4)] if samples else []
print(json.dumps({{"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "rss_quarters_mb": quarters, **extra}}))
"""

PULL = """
from sync.services.roster import roster_pull
run = roster_pull()
extra = {"ok": run.ok, "error": run.error, "counts": run.counts}
"""


def measure(env, body):
    """Run `body` (MEASURE) in a Django process of its own: its seconds, peak MB, RSS quarters and `extra`."""
    out = subprocess.run(
        [PYTHON, "-c", MEASURE.format(body=body)], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])
