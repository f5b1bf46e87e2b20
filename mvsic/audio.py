"""Audio work with PyAV (FFmpeg in the wheel): probe an uploaded file, and in one pass decode
it, measure its exact duration, its EBU R128 loudness (FFmpeg's ebur128 filter) and its
waveform peaks, and transcode it to MP3, which every current browser plays.

Every refusal is an `AudioRejected` whose message tells the artist what to do.
"""

import math
import os
import wave
from dataclasses import dataclass, field

import av
import numpy as np

# The one format fans are served: MP3 (LAME), played by every current browser.
OUTPUT_EXTENSION = ".mp3"
OUTPUT_CONTENT_TYPE = "audio/mpeg"
# Sample rates MP3 has; a file at another rate is resampled to 44.1 kHz.
MP3_RATES = {8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000}
OUTPUT_RATE = 44_100
MIN_SECONDS = 1.0
PEAKS = 300
ANALYSIS_RATE = 48_000
ACCEPTED = "WAV, FLAC, MP3, AAC/M4A or Ogg (Opus or Vorbis)"
# Containers (FFmpeg demuxer names) and codecs accepted.
CONTAINERS = {"wav", "w64", "flac", "mp3", "aac", "ogg", "mov,mp4,m4a,3gp,3g2,mj2"}
CODECS = {"flac", "mp3", "mp3float", "aac", "aac_fixed", "opus", "libopus", "vorbis", "alac"}
# A file that holds less than this share of what its header declares is cut short.
TRUNCATED_SHARE = 0.98


class AudioRejected(Exception):
    """The file cannot be a track; the message is for the artist."""


@dataclass
class AudioResult:
    duration: float
    loudness: float | None
    peaks: list[float]
    probe: dict = field(default_factory=dict)


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def audio_process(*, source: str, target: str, max_seconds: float) -> AudioResult:
    """Check the file at `source`, write its MP3 to `target` and measure it.

    Raises AudioRejected for what is not audio, is damaged, too long or too short.
    """
    if os.path.getsize(source) == 0:
        raise AudioRejected("The file is empty (0 bytes). Upload the exported audio file again.")
    try:
        # WAV: 64 KiB packets, not 4 KiB, so a track is a few dozen frames to filter,
        # measure and encode instead of hundreds (an option other demuxers ignore).
        container = av.open(source, metadata_errors="ignore", options={"max_size": "65536"})
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioRejected(f"This file is not audio we can read. Upload {ACCEPTED}.") from exc
    with container:
        stream, probe = _stream_probe(container)
        declared = probe.get("declared_seconds")
        if declared and declared > max_seconds:
            raise AudioRejected(
                f"The file says it is {clock(declared)} long; tracks can be at most "
                f"{clock(max_seconds)}. If it is shorter, its header is damaged: export it again."
            )
        result = _decode_all(container, stream, target=target, max_seconds=max_seconds)
    result.probe = probe
    if result.duration < MIN_SECONDS:
        raise AudioRejected(
            f"The track is only {result.duration:.1f} s long; upload at least "
            f"{MIN_SECONDS:.0f} second of audio."
        )
    if declared and result.duration < declared * TRUNCATED_SHARE:
        raise AudioRejected(
            f"The file is cut short: it says {clock(declared)} but holds only "
            f"{clock(result.duration)} of audio. Export or copy it again and upload the full file."
        )
    return result


def _stream_probe(container) -> tuple:
    fmt = container.format.name
    streams = container.streams.audio
    if not streams:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        raise AudioRejected(
            f"The file holds no audio ({fmt}: {', '.join(kinds)}), it may be an image or a "
            f"video. Upload {ACCEPTED}."
        )
    stream = streams[0]
    codec = stream.codec_context.name
    if fmt not in CONTAINERS or not (codec in CODECS or codec.startswith("pcm_")):
        raise AudioRejected(f"{fmt}/{codec} audio is not accepted. Upload {ACCEPTED}.")
    declared = None
    if stream.duration and stream.time_base:
        declared = float(stream.duration * stream.time_base)
    elif container.duration:
        declared = container.duration / av.time_base
    if fmt == "wav":
        declared = max(declared or 0.0, _wav_header_seconds(container.name) or 0.0) or None
    probe = {
        "container": fmt,
        "codec": codec,
        "sample_rate": stream.codec_context.sample_rate,
        "channels": stream.codec_context.channels,
        "declared_seconds": declared,
    }
    return stream, probe


def _wav_header_seconds(path: str) -> float | None:
    """What a PCM WAV's header declares (FFmpeg trims a size larger than the file, and so
    would hide a header that lies)."""
    try:
        with wave.open(path, "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError):
        return None


def _decode_all(container, stream, *, target: str, max_seconds: float) -> AudioResult:
    """One pass: decode, measure and encode. Decoding stops as soon as the audio is longer
    than `max_seconds`, whatever its header said."""
    rate = stream.codec_context.sample_rate
    if not rate:
        raise AudioRejected(f"The file has no sample rate: it is damaged. Upload {ACCEPTED}.")
    channels = stream.codec_context.channels or 1
    layout = "mono" if channels == 1 else "stereo"
    loudness = _Loudness(stream)
    blocks: list[float] = []  # the peak of every decoded frame
    samples = 0
    out_rate = rate if rate in MP3_RATES else OUTPUT_RATE
    with av.open(target, "w", format="mp3") as out:
        encoder = out.add_stream("libmp3lame", rate=out_rate, layout=layout)
        encoder.bit_rate = 192_000 if channels > 1 else 128_000
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=out_rate)
        try:
            for frame in container.decode(stream):
                samples += frame.samples
                if samples / rate > max_seconds:
                    raise AudioRejected(
                        f"The track is longer than {clock(max_seconds)}, the longest we take. "
                        "Upload a shorter file."
                    )
                frame.pts = None  # the filters and the encoder count time themselves
                loudness.push(frame)
                for resampled in resampler.resample(frame):
                    blocks.extend(_block_peaks(resampled.to_ndarray()))
                    for packet in encoder.encode(resampled):
                        out.mux(packet)
        except av.FFmpegError as exc:
            if samples == 0:
                raise AudioRejected(
                    f"The file could not be decoded: it is damaged. Upload {ACCEPTED}."
                ) from exc
            # A damaged tail: what decoded is kept, and compared with the header below.
        for resampled in resampler.resample(None):
            for packet in encoder.encode(resampled):
                out.mux(packet)
        for packet in encoder.encode(None):
            out.mux(packet)
    return AudioResult(
        duration=samples / rate, loudness=loudness.integrated(), peaks=peaks_reduce(blocks)
    )


def _block_peaks(data, block: int = 1024) -> list[float]:
    """The peak of every `block` samples of a frame (channels as rows)."""
    if not data.size:
        return []
    level = np.abs(data).max(axis=0)
    return [float(chunk.max()) for chunk in np.array_split(level, -(-level.size // block))]


def peaks_reduce(blocks: list[float], count: int = PEAKS) -> list[float]:
    """`count` peak levels (0-1, three decimals) evenly over the track, from per-frame peaks."""
    if not blocks:
        return []
    values = np.minimum(np.asarray(blocks, dtype=float), 1.0)
    edges = np.linspace(0, len(values), num=min(count, len(values)) + 1).astype(int)
    return [round(float(values[a:b].max()), 3) for a, b in zip(edges[:-1], edges[1:], strict=True)]


class _Loudness:
    """EBU R128 integrated loudness through FFmpeg's ebur128 filter."""

    def __init__(self, stream):
        self.graph = av.filter.Graph()
        source = self.graph.add_abuffer(template=stream)
        resample = self.graph.add("aresample", str(ANALYSIS_RATE))
        meter = self.graph.add("ebur128", "metadata=1")
        sink = self.graph.add("abuffersink")
        source.link_to(resample)
        resample.link_to(meter)
        meter.link_to(sink)
        self.graph.configure()
        self.value: float | None = None

    def push(self, frame) -> None:
        self.graph.push(frame)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                frame = self.graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            value = frame.metadata.get("lavfi.r128.I")
            if value is not None:
                self.value = float(value)

    def integrated(self) -> float | None:
        self.graph.push(None)
        self._drain()
        # Silence measures -70 LUFS (the absolute gate) or below: no loudness to match.
        if self.value is None or not math.isfinite(self.value) or self.value <= -70:
            return None
        return round(self.value, 2)
