"""Settings of the benchmark's web and worker processes: the site's own, plus two things.

The bench URLconf adds the baseline endpoints beside the site's, and the bench no-op
queue is declared as a quorum queue like the site's queues, so the Celery no-op drain pays
the same broker costs as the events queue. Everything else is mvsic.settings unchanged.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-" + "b" * 40)

from mvsic.queues import quorum_queue  # noqa: E402
from mvsic.settings import *  # noqa: E402,F403
from mvsic.settings import CELERY_TASK_QUEUES, MVSIC_DELIVERY_LIMIT, VAR_DIR  # noqa: E402

ROOT_URLCONF = "bench.urls"

# Where the durable baseline writes (one segment per web process; the bench deletes it).
BENCH_DURABLE_DIR = os.environ.get("MVSIC_BENCH_DURABLE_DIR", str(VAR_DIR / "bench-durable"))
BENCH_NOOP_QUEUE = os.environ.get("MVSIC_BENCH_NOOP_QUEUE", "mvsic.bench.noop")
CELERY_TASK_QUEUES = [*CELERY_TASK_QUEUES, quorum_queue(BENCH_NOOP_QUEUE, MVSIC_DELIVERY_LIMIT)]
