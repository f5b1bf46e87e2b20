"""Upload: a 5-minute FLAC sent over HTTP to the running web process by an artist's member,
timed until fans can play it; and counting with and without a track processing beside it
(processing must not slow counting down)."""

import os
import tempfile
import time
import uuid

import av
import numpy as np
import requests

from bench.context import log
from bench.db import analytics_reset
from bench.phases.pipeline import events_count
from bench.procs import workers_running

UPLOAD_SECONDS = 300
SMOKE_SECONDS = 20  # a smoke run checks that the phase works, not how fast
RATE = 44_100


def run(args, mode, seed_info, results) -> None:
    with tempfile.TemporaryDirectory(prefix="mvsic-bench-upload-") as work:
        seconds = SMOKE_SECONDS if args.mode == "smoke" else UPLOAD_SECONDS
        flac = flac_make(os.path.join(work, "five-minutes.flac"), seconds)
        size = os.path.getsize(flac)
        log(f"upload: a {seconds} s stereo FLAC of {size / 1e6:.1f} MB")
        with workers_running(args, 1) as (procs, _ready):
            playable = playable_measure(args, seed_info, flac)
        log(
            f"  sent in {playable['upload_seconds']:.2f} s (answer {playable['status']}), "
            f"playable {playable['playable_seconds']:.2f} s after the upload started "
            f"(processing {playable['processing_seconds']:.2f} s)"
        )
        counting = counting_measure(args, mode, seed_info, flac)
    results["upload"] = {"flac_bytes": size, **playable, **counting}


def flac_make(path: str, seconds: int) -> str:
    """Stereo 16-bit FLAC: two detuned tones and some noise, so it compresses like music."""
    rng = np.random.default_rng(1)
    with av.open(path, "w", format="flac") as out:
        stream = out.add_stream("flac", rate=RATE, layout="stereo")
        block = RATE  # one second per frame
        for second in range(seconds):
            t = (np.arange(block) + second * block) / RATE
            left = 0.25 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(block)
            right = 0.25 * np.sin(2 * np.pi * 331 * t) + 0.05 * rng.standard_normal(block)
            data = (np.clip(np.stack([left, right]), -1, 1) * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(data.T.reshape(1, -1), format="s16", layout="stereo")
            frame.sample_rate = RATE
            frame.pts = second * block
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def upload(args, seed_info, flac: str, title: str) -> tuple[int, float, int]:
    """POST the file as the bench member, as the dashboard's form does: (track id, seconds
    the request took, status)."""
    base = f"http://127.0.0.1:{args.port}"
    session = requests.Session()
    session.cookies.set("sessionid", seed_info["session"])
    form_url = f"{base}/artists/{seed_info['artist_slug']}/tracks/upload/"
    session.get(form_url, timeout=30).raise_for_status()  # the CSRF cookie
    token = session.cookies["csrftoken"]
    started = time.monotonic()
    with open(flac, "rb") as handle:
        response = session.post(
            form_url,
            data={"title": title},
            files={"audio": ("five-minutes.flac", handle, "audio/flac")},
            headers={"X-CSRFToken": token, "Accept": "application/json", "Referer": form_url},
            timeout=300,
        )
    seconds = time.monotonic() - started
    if response.status_code != 202:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:300]}")
    return response.json()["id"], seconds, response.status_code


def playable_measure(args, seed_info, flac: str) -> dict:
    """Seconds from the start of the upload to the track's audio answering fans."""
    from mvsic.models import Track, TrackProcessing

    started = time.monotonic()
    track_id, upload_seconds, status = upload(
        args, seed_info, flac, f"Bench upload {uuid.uuid4().hex[:6]}"
    )
    audio = f"http://127.0.0.1:{args.port}/tracks/{track_id}/audio/"
    deadline = started + args.drain_timeout
    while time.monotonic() < deadline:
        answer = requests.get(audio, headers={"Range": "bytes=0-1023"}, timeout=10)
        if answer.status_code == 206:
            break
        failed = Track.objects.filter(pk=track_id, status="failed").values_list("failure")
        if failed:
            raise RuntimeError(f"the bench upload failed: {failed[0][0]}")
        time.sleep(0.1)
    else:
        raise RuntimeError("the bench upload was not playable in time")
    playable = time.monotonic() - started
    run = TrackProcessing.objects.filter(track_id=track_id).latest("started_at")
    track = Track.objects.get(pk=track_id)
    return {
        "status": status,
        "upload_seconds": upload_seconds,
        "playable_seconds": playable,
        "processing_seconds": (run.finished_at - run.started_at).total_seconds(),
        "duration": track.duration,
        "loudness": track.loudness,
        "content_type": answer.headers.get("Content-Type"),
    }


def counting_measure(args, mode, seed_info, flac: str) -> dict:
    """The same number of published events counted by one worker alone, then with a track
    processing in the same worker's pool (uploaded before the worker starts, so both begin
    together)."""
    from mvsic.models import TrackProcessing

    n = mode.get("upload_events") or max(mode["pipeline_events"] * 3, 300)
    analytics_reset()
    log(f"upload: counting {n} events alone")
    alone = events_count(args, seed_info, n, 1)
    analytics_reset()
    log(f"upload: counting {n} events while an upload processes")
    track_id, _, _ = upload(args, seed_info, flac, f"Bench upload {uuid.uuid4().hex[:6]}")
    beside = events_count(args, seed_info, n, 1)
    # Both began when the worker started: the counting had processing beside it for as long
    # as the processing lasted (it runs on once the worker stops, in the next phase's worker).
    run = TrackProcessing.objects.filter(track_id=track_id).first()
    processing = None
    if run is not None and run.finished_at is not None:
        processing = (run.finished_at - run.started_at).total_seconds()
    overlap = min(1.0, processing / beside["seconds"]) if processing else 1.0
    ratio = beside["rate"] / alone["rate"]
    log(
        f"  counting alone {alone['rate']:.0f} events/s, beside processing "
        f"{beside['rate']:.0f} events/s: ratio {ratio:.2f} (processing covered "
        f"{(overlap or 0):.0%} of the counting)"
    )
    return {
        "events": n,
        "counting_alone_rate": alone["rate"],
        "counting_beside_rate": beside["rate"],
        "counting_ratio": ratio,
        "processing_overlap": overlap,
        "processing_seconds_beside": processing,
        "exact": alone["exact"] and beside["exact"],
    }
