"""Synthesised demo music: short melodies with a bass line, rendered as WAV bytes."""

import functools
import hashlib
import io
import math
import random
import wave

import numpy as np

SAMPLE_RATE = 16_000

# Semitone steps from the tonic; each demo artist writes in its own mode.
SCALES = {
    "major_pentatonic": (0, 2, 4, 7, 9, 12, 14, 16),
    "minor_pentatonic": (0, 3, 5, 7, 10, 12, 15, 17),
    "dorian": (0, 2, 3, 5, 7, 9, 10, 12),
}


def melody_render(
    *,
    seed: str,
    seconds: float,
    tonic_hz: float = 220.0,
    scale: str = "major_pentatonic",
    bpm: int = 100,
) -> bytes:
    """A short synthesised melody with a bass line: 16 kHz mono 16-bit PCM WAV bytes.

    The same arguments always give the same bytes (the seed drives every random choice).
    """
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    steps = SCALES[scale]
    total = int(round(seconds * SAMPLE_RATE))
    mix = np.zeros(total)
    beat = 60.0 / bpm
    # A four-bar motif, repeated with small variations, reads as a tune rather than noise.
    motif = [(rng.choice(steps), rng.choice((0.5, 0.5, 1.0, 1.0, 1.5))) for _ in range(8)]
    t = 0.0
    while t < seconds:
        for degree, length in motif:
            if t >= seconds:
                break
            if rng.random() < 0.2:
                degree = rng.choice(steps)
            _note_add(mix, start=t, length=length * beat, hz=_pitch(tonic_hz, degree), gain=0.32)
            t += length * beat
    # Bass: the tonic or the fifth, one note per two beats, an octave down.
    t, index = 0.0, 0
    while t < seconds:
        degree = (0, 7, 5, 7)[index % 4]
        _note_add(mix, start=t, length=2 * beat, hz=_pitch(tonic_hz / 2, degree), gain=0.22)
        t += 2 * beat
        index += 1
    return _wav_bytes(mix)


def _pitch(tonic_hz: float, semitones: int) -> float:
    return tonic_hz * 2 ** (semitones / 12)


def _note_add(mix: np.ndarray, *, start: float, length: float, hz: float, gain: float) -> None:
    first = int(start * SAMPLE_RATE)
    count = min(int(length * SAMPLE_RATE), len(mix) - first)
    if count > 0:
        # A note cut off by the end of the track uses only the start of its wave.
        mix[first : first + count] += _note_wave(hz, int(length * SAMPLE_RATE), gain)[:count]


@functools.lru_cache(maxsize=256)
def _note_wave(hz: float, count: int, gain: float) -> np.ndarray:
    # Tunes repeat their notes, so each distinct note is synthesised once per process.
    i = np.arange(count)
    phase = i * (2 * math.pi * hz / SAMPLE_RATE)
    s, c = np.sin(phase), np.cos(phase)
    attack = int(0.01 * SAMPLE_RATE)
    level = gain * np.exp(i * (-3.0 / count))  # about 5% is left at the end of the note
    amp = np.where(i >= attack, level, level * i / attack)
    # Fundamental plus two quieter harmonics (sin 2x, sin 3x): a soft mallet.
    wave_ = amp * (s + 0.6 * s * c + 0.1 * s * (3 - 4 * s * s))
    wave_.flags.writeable = False  # shared by every call of the cache
    return wave_


def _wav_bytes(mix: np.ndarray) -> bytes:
    n = len(mix)
    fade = min(int(0.5 * SAMPLE_RATE), n)
    mix[n - fade :] *= (n - np.arange(n - fade, n)) / fade
    # Normalise to about -3 dBFS: every track is as loud as the others and nothing clips.
    peak = float(np.abs(mix).max()) if n else 0.0
    samples = (mix * (23000 / (peak or 1.0))).astype("<i2")  # WAV is little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()
