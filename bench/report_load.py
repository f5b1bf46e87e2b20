"""The report's rows and targets of the phases that drive load through the running site:
capture (ingest), counting (pipeline), freshness, and memory over the soak."""

import statistics

from bench.goals import (
    BATCHED_EVENTS_PER_S,
    CAPTURE_VS_BARE,
    CAPTURE_VS_NAIVE,
    FRESHNESS_P99_MS,
    MEMORY_GROWTH,
    PIPELINE_VS_NOOP,
    target,
)

INGEST_ORDER = ("events", "bare", "durable", "naive", "events_batch", "bare_batch")


def ingest_rows(ing: dict, rows: list, targets: list) -> None:
    """Capture: each endpoint's rate and latency, and its ratios to the baselines."""
    if not ing:
        return
    for name in INGEST_ORDER:
        r = ing[name]
        rows.append(
            (
                f"ingest {name}",
                f"{r['rps']:.0f} req/s, {r['events_per_s']:.0f} ev/s",
                f"p50 {r['p50_us'] / 1000:.1f} ms, p99 {r['p99_us'] / 1000:.1f} ms",
                str(r["by_status"]),
            )
        )

    # Median of the per-round ratios: endpoints of one round ran within a minute of each
    # other, so a busy spell on the shared machine cancels out of each ratio.
    def ratio(a: str, b: str) -> float:
        pairs = zip(ing[a]["rps_rounds"], ing[b]["rps_rounds"], strict=True)
        return statistics.median(x / y for x, y in pairs)

    # What bounds any answer that means "durably accepted": the bare view plus an
    # fsync'd write, against the bare view and the naive one.
    rows.append(
        (
            "ingest ratios (req/s)",
            f"durable / bare {ratio('durable', 'bare'):.2f}",
            f"durable / naive {ratio('durable', 'naive'):.2f}",
            f"events / durable {ratio('events', 'durable'):.2f}",
        )
    )
    for name, baseline, goal in (
        ("ingest single / naive (req/s)", "naive", CAPTURE_VS_NAIVE),
        ("ingest single / bare DRF (req/s)", "bare", CAPTURE_VS_BARE),
    ):
        value = ratio("events", baseline)
        targets.append(target(name, value, f">= {goal}", value >= goal))
    batched = ing["events_batch"]["events_per_s"]
    ok = batched >= BATCHED_EVENTS_PER_S
    targets.append(target("ingest batched events/s", batched, f">= {BATCHED_EVENTS_PER_S}", ok))


def pipeline_rows(pipe: dict, rows: list, targets: list) -> None:
    """Counting: each worker count's rate against Celery's no-op drain."""
    for w, p in pipe.items():
        rows.append(
            (
                f"pipeline {w} worker(s)",
                f"{p['events']['rate']:.0f} ev/s (steady {p['events']['steady_rate'] or 0:.0f})",
                f"no-op {p['noop']['rate']:.0f} tasks/s",
                f"ratio {p['ratio']:.2f}, exact {p['events']['exact']}",
            )
        )
    for w, p in pipe.items():
        name = f"pipeline {w} worker{'' if w == '1' else 's'} / Celery no-op"
        ok = p["ratio"] >= PIPELINE_VS_NOOP
        targets.append(target(name, p["ratio"], f">= {PIPELINE_VS_NOOP}", ok))


def freshness_rows(results: dict, rows: list, targets: list) -> None:
    """The sustained rate, and the time from 202 to visible at 50% and 90% of it."""
    if "sustained" in results:
        s = results["sustained"]
        rows.append(
            (
                "sustained (web + worker)",
                f"{s['rate']:.0f} ev/s",
                f"accepted {s['accepted_rate']:.0f}/s, counted {s['counted_rate']:.0f}/s",
                f"backlog at end {s['backlog_at_end']}",
            )
        )
    for share, goal in FRESHNESS_P99_MS.items():
        f = results.get("freshness", {}).get(share)
        if f:
            rows.append(
                (
                    f"freshness at {share}%",
                    f"{f['rate_achieved']:.0f} ev/s offered",
                    f"lag p50 {f['lag_p50_ms'] or 0:.0f} / p95 {f['lag_p95_ms'] or 0:.0f} / "
                    f"p99 {f['lag_p99_ms'] or 0:.0f} ms",
                    f"{f['samples']} samples, send late p99 {f['late_p99_ms']:.0f} ms",
                )
            )
            p99 = f["lag_p99_ms"]
            ok = p99 is not None and p99 <= goal
            targets.append(target(f"freshness p99 at {share}% (ms)", p99, f"<= {goal}", ok))


def memory_rows(results: dict, rows: list, targets: list) -> None:
    """The web processes' peak memory, and a worker's growth over the soak."""
    mem = results.get("memory", {})
    if mem:
        rows.append(
            (
                "memory web (all gunicorn)",
                f"peak {mem['web']['hwm_mb']:.0f} MiB",
                f"largest process {mem['web']['max_process_hwm_mb']:.0f} MiB",
                f"{mem['web']['processes']} processes",
            )
        )
    soak = results.get("soak")
    if soak:
        rows.append(
            (
                f"soak {soak['events']:,} events",
                f"worker RSS {soak['rss_before']['rss_mb']:.0f} -> "
                f"{soak['rss_after']['rss_mb']:.0f} MiB",
                f"peak {soak['rss_after']['hwm_mb']:.0f} MiB, {soak['rate']:.0f} ev/s",
                f"exact {soak['exact']}",
            )
        )
        growth = soak["growth"]
        ok = growth < MEMORY_GROWTH
        targets.append(target("worker RSS growth over soak", growth, f"< {MEMORY_GROWTH:.2f}", ok))
