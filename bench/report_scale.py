"""The report's rows and targets of the phases on stored data at scale: the dashboards on a
large history, counting on it with stock and tuned PostgreSQL, and fan pages with a large
catalog."""

from bench.goals import CATALOG_VS_DEMO, HISTORY_BIG_VS_SMALL, WRITES_FLAT, target


def _p50(history: dict, *pages: str) -> float:
    """The first of `pages` this history measured (names changed between releases)."""
    return next(history[p]["p50_ms"] for p in pages if p in history)


def history_rows(hist: dict, pipe: dict, rows: list, targets: list) -> None:
    """The dashboards and stats API on the large history against the small one."""
    for size in ("small", "big"):
        h = hist.get(size)
        if h:
            rows.append(
                (
                    f"history {h['events']:,} events",
                    f"dashboard p50 {h['dashboard']['p50_ms']:.1f} ms",
                    f"artist API p50 {_p50(h, 'artist_stats_api_7d', 'artist_stats_api'):.1f} ms, "
                    f"track API p50 {h['track_stats_api']['p50_ms']:.1f} ms",
                    f"generated in {h['generate_seconds']:.0f}s",
                )
            )
    if hist.get("big", {}).get("pipeline_rate_1_worker") and "1" in pipe:
        rate, fresh = hist["big"]["pipeline_rate_1_worker"], pipe["1"]["events"]["rate"]
        rows.append(
            (
                f"pipeline on {hist['big']['events']:,} events",
                f"1 worker {rate:.0f} ev/s",
                f"vs {fresh:.0f} ev/s in the pipeline phase (<1M stored)",
                f"ratio {rate / fresh:.2f}",
            )
        )
    if "small" in hist and "big" in hist and "selectors_ms" in hist["small"]:
        small, big = hist["small"]["selectors_ms"], hist["big"]["selectors_ms"]
        rows.append(
            (
                "history selectors, in-process",
                " / ".join(f"{small[k]:.1f} -> {big[k]:.1f} ms" for k in small),
                " / ".join(small),
                "ratio " + " / ".join(f"{big[k] / small[k]:.2f}" for k in small),
            )
        )
    if "small" in hist and "big" in hist:
        # "all" grows with the history by definition (a point per day since the first): it
        # is measured and shown, not held to the target.
        pages = [p for p, m in hist["big"].items() if isinstance(m, dict) and "p50_ms" in m]
        for page in pages:
            if page.endswith("_all"):
                ratio = hist.get("ratios", {}).get(page)
                rows.append((f"history {page}", f"big / small {ratio:.2f}", "no target", ""))
                continue
            # Median of per-round ratios; a report of a run before those: ratio of medians.
            ratio = hist.get("ratios", {}).get(page)
            if ratio is None:
                ratio = hist["big"][page]["p50_ms"] / hist["small"][page]["p50_ms"]
            ok = ratio <= HISTORY_BIG_VS_SMALL
            goal = f"<= {HISTORY_BIG_VS_SMALL}"
            targets.append(target(f"history {page} p50 big / small", ratio, goal, ok))


def settings_rows(runs: dict, rows: list, targets: list) -> None:
    """Counting on the large history against an empty store, by PostgreSQL settings."""
    for name, r in runs.items():
        rows.append(
            (
                f"counting, {name} PostgreSQL",
                f"{r['rate_big']:.0f} ev/s on {r['history_events']:,} stored",
                f"vs {r['rate_small']:.0f} ev/s empty; {r['mb_per_million_events']:.0f} MB"
                " per million events",
                f"ratio {r['ratio']:.2f}",
            )
        )
        if name == "tuned":
            targets.append(
                target(
                    f"counting on {r['history_events']:,} / empty, tuned",
                    r["ratio"],
                    f">= {WRITES_FLAT}",
                    r["ratio"] >= WRITES_FLAT,
                )
            )


def catalog_rows(cat: dict, rows: list, targets: list) -> None:
    """Fan pages at scale: each page's rate with the big catalog over its rate with the demo."""
    if "ratios" not in cat:
        return
    big = cat["big"]
    rows.append(
        (
            f"catalog {big['artists']:,} artists",
            f"{big['tracks']:,} tracks, {big['events']:,} events",
            f"made in {cat['catalog_seconds'] + cat['events_seconds']:.0f}s",
            f"counters {cat['counters_seconds']:.0f}s",
        )
    )
    for page, m in cat["pages"].items():
        if "ratio" not in m:
            rows.append(
                (f"catalog {page} {m['path']}", "", f"at scale {m['big_rps']:.0f} req/s", "")
            )
            continue
        rows.append(
            (
                f"catalog {page} {m['path']}",
                f"demo {m['small_rps']:.0f} req/s",
                f"at scale {m['big_rps']:.0f} req/s",
                f"ratio {m['ratio']:.2f}",
            )
        )
        targets.append(
            target(
                f"catalog {page} rate at scale / demo",
                m["ratio"],
                f">= {CATALOG_VS_DEMO}",
                m["ratio"] >= CATALOG_VS_DEMO,
            )
        )
