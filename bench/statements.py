"""Where counting's time goes, statement by statement: bench-like events counted in this
process (no broker, no worker) against a database the bench made, e.g. one with a large
history, with the time each SQL statement took and the Python time around them.

    python bench/statements.py --db mvsic_hist10m --events 20000

Writes to that database (the events are counted): point it at a bench database, never at
the site's. The first batches are counted untimed, so a cold cache is not what is timed; run
it twice, or alternate databases, and compare like with like (the machine is shared).
"""

import argparse
import os
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WARM_EVENTS = 5000
HEAD = 70  # characters of a statement that name it


@contextmanager
def statement_times():
    """{statement's first HEAD characters: [calls, seconds]} of the SQL run inside."""
    from django.db import connection

    times: dict[str, list] = defaultdict(lambda: [0, 0.0])

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = times[sql[:HEAD]]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    with connection.execute_wrapper(timed):
        yield times


def profile(payloads: list[dict], batch: int) -> dict:
    """Count `payloads` in batches, timed: wall and process CPU seconds, the seconds spent
    inside SQL statements, and each statement's calls and seconds."""
    from analytics.services.counting import events_count

    cpu, started = time.process_time(), time.perf_counter()
    with statement_times() as times:
        for i in range(0, len(payloads), batch):
            events_count(payloads=payloads[i : i + batch])
    return {
        "events": len(payloads),
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "sql": sum(seconds for _, seconds in times.values()),
        "statements": dict(times),
    }


def report(result: dict, top: int) -> list[str]:
    per = 1e6 / result["events"]
    lines = [
        f"{result['events']} events: {result['wall'] * per:.0f} µs each, of which "
        f"{result['sql'] * per:.0f} in SQL statements; process CPU {result['cpu'] * per:.0f} µs"
    ]
    ranked = sorted(result["statements"].items(), key=lambda item: -item[1][1])
    lines += [
        f"  {seconds * per:7.1f} µs  x{calls:<5d} {head}" for head, (calls, seconds) in ranked[:top]
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a bench database (its events are counted)")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500, help="events per transaction")
    parser.add_argument("--top", type=int, default=15, help="statements listed")
    args = parser.parse_args()
    from bench.context import DATABASE_PORT

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{DATABASE_PORT}/{args.db}"
    import django

    django.setup()
    from django.db import DatabaseError

    from bench.broker import payloads_make
    from mvsic.models import Track

    try:
        tracks = sorted(
            Track.objects.filter(artist__slug__startswith="bench-artist").values_list(
                "id", flat=True
            )
        )
    except DatabaseError as exc:
        print(f"statements: cannot read {args.db}: {str(exc).splitlines()[0]}")
        return 2
    if not tracks:
        print(f"statements: {args.db} has no bench tracks (make it with bench/run.py)")
        return 2
    fans = max(2000, args.events // 4)
    warm = payloads_make(WARM_EVENTS, tracks[0], tracks[-1], fans=fans)
    profile(warm, args.batch)
    payloads = payloads_make(args.events, tracks[0], tracks[-1], fans=fans)
    print("\n".join(report(profile(payloads, args.batch), args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
