"""Catalog: the fan pages' rate with the demo catalog and with a catalog at scale (10,000
artists, 100,000 tracks, 10 million events in the full run), as a ratio of the two."""

import statistics
from datetime import UTC, datetime, timedelta

from bench.catalog_sql import (
    POPULAR_TAG,
    WORDS,
    catalog_add,
    catalog_drop,
    counters_rebuild,
    events_add,
)
from bench.context import log, retry
from bench.db import analytics_reset, database_copy, database_drop, sql
from bench.load import wrk
from bench.phases.history import page_time
from bench.procs import free_port, web_start

ROUNDS = 7  # interleaved rounds of every page on both catalogs
GOAL = 0.8  # a page at scale serves at least this share of its rate with the demo catalog
SMALL_EVENTS = 10_000  # the demo catalog's last week
DEMO_TAG = "demo"  # the demo artists' tag, the same three artists in both catalogs
DEMO_SEARCH = "aurora"  # a demo artist's name: no generated artist or track has it


def run(args, mode, seed_info, results) -> None:
    """The demo catalog (and the bench's own artists) with a week of plays is copied to a
    database of its own with its own gunicorn; the bench's database then grows to the
    catalog at scale. Both serve the same pages in interleaved rounds, one connection each."""
    artists, tracks, events = mode["catalog"]
    now = datetime.now(UTC)
    out: dict = {"artists": artists, "tracks": tracks, "events": events}
    analytics_reset()
    catalog_drop()  # an interrupted run's
    urls = _demo_urls()
    log(f"catalog: the demo catalog with {SMALL_EVENTS} events in the last 7 days")
    events_add(SMALL_EVENTS, now - timedelta(days=7), now)
    counters_rebuild()
    out["small"] = _sizes()
    small_db, small_web = f"{args.db}_demo", None
    try:
        args.web.stop()  # a database with sessions open cannot be copied
        database_copy(args.db, small_db)
        args.web = web_start(args)
        log(f"catalog: + {artists} artists, {artists * (tracks // artists)} tracks (SQL)")
        out["catalog_seconds"] = catalog_add(artists=artists, per_artist=tracks // artists)
        log(f"catalog: + {events - SMALL_EVENTS} events over the year before (SQL)")
        out["events_seconds"] = events_add(events - SMALL_EVENTS, now - timedelta(days=365), now)
        out["counters_seconds"] = counters_rebuild()
        out["big"] = _sizes()
        log(
            f"  made in {out['catalog_seconds']:.0f} + {out['events_seconds']:.0f} + "
            f"{out['counters_seconds']:.0f} s: {out['big']}"
        )
        small_port = free_port()
        small_web = web_start(args, port=small_port, db=small_db)
        measured = pages_rate(args, mode, urls, {"small": small_port, "big": args.port})
    finally:
        if small_web is not None:
            small_web.stop()
            retry("dropping the copy", lambda: database_drop(small_db))
        # Later runs (and phases) on this database start from the demo catalog again.
        retry("emptying the catalog", lambda: (analytics_reset(), catalog_drop()))
    out["pages"] = {name: dict(urls[name], **measured[name]) for name in urls}
    out["ratios"] = {name: m["ratio"] for name, m in measured.items() if "ratio" in m}
    results["catalog"] = out


def _demo_urls() -> dict[str, dict]:
    """The pages timed: the same URLs on both catalogs (the demo's artist, track, a tag its
    artists share, a search for one of them), and at scale only the page of a tag some 600
    artists have and a search for a word in hundreds of names and thousands of titles."""
    from mvsic.demo import demo_catalog_ensure
    from mvsic.models import Artist, Tag

    catalog = demo_catalog_ensure()
    tag, _ = Tag.objects.get_or_create(slug=DEMO_TAG, defaults={"name": "Demo"})
    tag.artists.add(*Artist.objects.filter(slug__in=[a.slug for a in catalog.artists]))
    artist = catalog.artists[0]
    return {
        "home": {"path": "/"},
        "artist": {"path": f"/artists/{artist.slug}/"},
        "track": {"path": f"/tracks/{artist.tracks[0].id}/"},
        "tag": {"path": f"/tags/{DEMO_TAG}/"},
        "search": {"path": f"/search?q={DEMO_SEARCH}"},
        "tag_popular": {"path": f"/tags/{POPULAR_TAG}/", "only": "big"},
        "search_common": {"path": f"/search?q={WORDS[0]}", "only": "big"},
    }


def _sizes() -> dict[str, int]:
    rows = sql(
        "SELECT (SELECT count(*) FROM mvsic_artist), (SELECT count(*) FROM mvsic_track), "
        "(SELECT count(*) FROM analytics_event), (SELECT count(*) FROM analytics_trackhour)",
        fetch=True,
    )[0]
    return dict(zip(("artists", "tracks", "events", "track_hours"), rows, strict=True))


def pages_rate(args, mode, urls: dict, servers: dict[str, int]) -> dict:
    """Requests per second of each page on each catalog, one connection, in interleaved
    rounds (every page on both servers back to back, so a noisy spell hits them alike); the
    ratio is the median of the per-round ratios big / small."""
    rounds = min(ROUNDS, mode["get_seconds"])  # fewer, of a second each, in a short run
    seconds = max(1, mode["get_seconds"] / rounds)

    def where(page: dict) -> dict[str, int]:
        return {s: p for s, p in servers.items() if page.get("only", s) == s}

    for page in urls.values() if mode["warm_seconds"] else ():  # warm every gunicorn worker
        for port in where(page).values():
            wrk(args, page["path"], mode["warm_seconds"], script="get.lua", c=4, t=1, port=port)
    runs = {name: {state: [] for state in where(page)} for name, page in urls.items()}
    for _ in range(rounds):
        for name, page in urls.items():
            for state, port in where(page).items():
                runs[name][state].append(page_time(args, page["path"], [], seconds, port))
    out = {}
    for name, by_state in runs.items():
        rates = {s: [r["rps"] for r in rs] for s, rs in by_state.items()}
        m = out[name] = {
            **{f"{s}_rps": statistics.median(r) for s, r in rates.items()},
            **{
                f"{s}_p50_ms": statistics.median(r["p50_us"] for r in rs) / 1000
                for s, rs in by_state.items()
            },
        }
        if len(rates) < 2:
            log(f"  {name:11s} scale {m['big_rps']:6.0f} req/s (a page the demo has not)")
            continue
        m["ratio_rounds"] = [
            round(b / s, 3) for b, s in zip(rates["big"], rates["small"], strict=True)
        ]
        m["ratio"] = statistics.median(m["ratio_rounds"])
        log(
            f"  {name:11s} demo {m['small_rps']:6.0f} req/s  scale {m['big_rps']:6.0f} req/s"
            f"  ratio {m['ratio']:.2f}  rounds {m['ratio_rounds']}"
        )
    return out
