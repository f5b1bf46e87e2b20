"""Open-loop load at a fixed rate, with freshness markers (run by bench/run.py as a process).

Load: request i is due at start + i / rate, whatever happened to earlier requests, so a slow
server shows up as late sends and queueing, not as a lower offered rate (no coordinated
omission as long as `lateness` stays small). Each request carries one fresh event of a random
fan (bench/fans.py), sent as the bench's ingest-key client.

Markers: each sampler thread owns a track that only it writes to. It posts one play, notes
when the 202 arrived, then polls that track's stats API every `poll` seconds until the count
of its events moves (plays, or filtered ones should a play not be credited): the difference
is the freshness lag of that event.

Prints one JSON object on stdout.
"""

import argparse
import http.client
import itertools
import json
import random
import sys
import threading
import time
import uuid
from pathlib import Path

# As a script Python puts bench/ first on the path: the repository root goes before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fans import PLAY_SECONDS, fan_random, ingest_headers

HEADERS = {"Content-Type": "application/json"}  # and the ingest headers, set by main()


def _post(conn: http.client.HTTPConnection, body: bytes) -> int:
    conn.request("POST", "/api/v1/events/", body, HEADERS)
    response = conn.getresponse()
    response.read()
    return response.status


def _event(track: int, kind: str = "play") -> bytes:
    listener, ip = fan_random()
    event = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "track": track,
        "listener": listener,
        "ip": ip,
        "source": "bench",
    }
    if kind == "play":
        event["seconds"] = PLAY_SECONDS
    return json.dumps(event).encode()


class Load:
    def __init__(self, args):
        self.args = args
        self.tracks = list(range(args.first_track, args.last_track + 1))
        self.index = itertools.count()
        self.lock = threading.Lock()
        self.status: dict[int, int] = {}
        self.lateness: list[float] = []
        self.latency: list[float] = []
        self.start = 0.0
        self.end = 0.0

    def run_thread(self) -> None:
        conn = http.client.HTTPConnection(self.args.host, self.args.port, timeout=30)
        status, lateness, latency = {}, [], []
        rate = self.args.rate
        while True:
            with self.lock:
                i = next(self.index)
            due = self.start + i / rate
            if due >= self.end:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            roll = random.random()
            kind = "play" if roll < 0.9 else "like" if roll < 0.97 else "unlike"
            body = _event(random.choice(self.tracks), kind)
            sent = time.monotonic()
            try:
                code = _post(conn, body)
            except (OSError, http.client.HTTPException):
                code = 0
                conn.close()
                conn = http.client.HTTPConnection(self.args.host, self.args.port, timeout=30)
            done = time.monotonic()
            status[code] = status.get(code, 0) + 1
            lateness.append(sent - due)
            latency.append(done - due)  # from when it was due: includes any sender queueing
        with self.lock:
            for code, n in status.items():
                self.status[code] = self.status.get(code, 0) + n
            self.lateness.extend(lateness)
            self.latency.extend(latency)


class Sampler:
    def __init__(self, args, track: int, end: float):
        self.args = args
        self.track = track
        self.end = end
        self.lags: list[float] = []
        self.reads: list[float] = []  # how long each poll of the stats API took
        self.lost = 0
        self.accepted = 0

    def _shown(self, conn) -> int:
        """The track's events the stats API shows: credited plays and filtered events."""
        started = time.monotonic()
        conn.request(
            "GET",
            f"/api/v1/tracks/{self.track}/stats/",
            headers={"Authorization": f"Token {self.args.token}"},
        )
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"stats API answered {response.status}: {body[:200]!r}")
        stats = json.loads(body)
        self.reads.append(time.monotonic() - started)
        return stats["plays"] + sum(stats.get("filtered", {}).values())

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.args.host, self.args.port, timeout=30)
        while time.monotonic() < self.end:
            before = self._shown(conn)
            if _post(conn, _event(self.track)) != 202:
                self.lost += 1
                continue
            self.accepted += 1
            accepted_at = time.monotonic()
            deadline = accepted_at + self.args.give_up
            while True:
                time.sleep(self.args.poll)
                if self._shown(conn) > before:
                    self.lags.append(time.monotonic() - accepted_at)
                    break
                if time.monotonic() > deadline:
                    self.lags.append(float("inf"))
                    break
            time.sleep(random.uniform(0.05, 0.15))


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--first-track", type=int, required=True)
    parser.add_argument("--last-track", type=int, required=True)
    parser.add_argument("--marker-tracks", default="", help="comma-separated track ids")
    parser.add_argument("--token", default="")
    parser.add_argument("--ingest-key", required=True)
    parser.add_argument("--poll", type=float, default=0.02)
    parser.add_argument("--give-up", type=float, default=30.0)
    args = parser.parse_args()
    HEADERS.update(ingest_headers(args.ingest_key))

    load = Load(args)
    load.start = time.monotonic() + 0.2
    load.end = load.start + args.duration
    threads = [threading.Thread(target=load.run_thread) for _ in range(args.threads)]
    markers = [int(t) for t in args.marker_tracks.split(",") if t]
    samplers = [Sampler(args, track, load.end) for track in markers]
    threads += [threading.Thread(target=s.run) for s in samplers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = time.monotonic()
    lags = [lag for s in samplers for lag in s.lags]
    reads = [read for s in samplers for read in s.reads]
    print(
        json.dumps(
            {
                "rate_offered": args.rate,
                "duration": args.duration,
                "sent": sum(load.status.values()),
                "by_status": {str(k): v for k, v in load.status.items()},
                "rate_achieved": sum(load.status.values()) / (finished - load.start),
                "late_p50_ms": 1000 * (_percentile(load.lateness, 50) or 0),
                "late_p99_ms": 1000 * (_percentile(load.lateness, 99) or 0),
                "latency_p50_ms": 1000 * (_percentile(load.latency, 50) or 0),
                "latency_p99_ms": 1000 * (_percentile(load.latency, 99) or 0),
                "markers_accepted": sum(s.accepted for s in samplers),
                "markers_lost": sum(s.lost for s in samplers),
                "samples": len(lags),
                "lag_p50_ms": 1000 * _percentile(lags, 50) if lags else None,
                "lag_p95_ms": 1000 * _percentile(lags, 95) if lags else None,
                "lag_p99_ms": 1000 * _percentile(lags, 99) if lags else None,
                "lag_max_ms": 1000 * max(lags) if lags else None,
                # A lag includes the poll that saw the event: at most one read plus `poll`.
                "read_p50_ms": 1000 * _percentile(reads, 50) if reads else None,
                "read_p99_ms": 1000 * _percentile(reads, 99) if reads else None,
            }
        )
    )


if __name__ == "__main__":
    main()
