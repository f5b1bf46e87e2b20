"""Writes of the catalog: artists, their member logins, tracks and their audio."""

import array
import functools
import hashlib
import io
import math
import random
import sys
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify

from mvsic.models import Artist, Track

SAMPLE_RATE = 16_000
# Shared by every demo login; printed by `seed_demo`, never meant for a real deployment.
DEMO_PASSWORD = "mvsic-demo"  # noqa: S105 - a published demo password, by design
DEMO_ADMIN_USERNAME = "admin"

# Semitone steps from the tonic; each demo artist writes in its own mode.
SCALES = {
    "major_pentatonic": (0, 2, 4, 7, 9, 12, 14, 16),
    "minor_pentatonic": (0, 3, 5, 7, 10, 12, 15, 17),
    "dorian": (0, 2, 3, 5, 7, 9, 10, 12),
}


def artist_create(*, name: str, slug: str, bio: str = "", members: Iterable = ()) -> Artist:
    """Create an artist and give its members access to its dashboard."""
    artist = Artist.objects.create(name=name, slug=slug, bio=bio)
    artist.members.add(*members)
    return artist


def track_create(*, artist: Artist, title: str, audio: bytes, duration: float) -> Track:
    """Create a track and store its audio (WAV bytes) in the media storage."""
    track = Track(artist=artist, title=title, duration=duration)
    _audio_store(track=track, audio=audio)
    track.save()
    return track


def track_audio_replace(*, track: Track, audio: bytes) -> Track:
    """Store new audio for an existing track (for example when its file went missing)."""
    _audio_store(track=track, audio=audio)
    track.save(update_fields=["audio"])
    return track


def _audio_store(*, track: Track, audio: bytes) -> None:
    # The name follows (artist slug, title), which is unique, so a file already there is a
    # leftover of this same track (say, from a database that was reset): replace it.
    name = f"{track.artist.slug}-{slugify(track.title) or 'track'}.wav"
    field = track.audio.field
    path = field.generate_filename(track, name)
    if field.storage.exists(path):
        field.storage.delete(path)
    track.audio.save(name, ContentFile(audio), save=False)


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
    mix = [0.0] * total
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


def _note_add(mix: list[float], *, start: float, length: float, hz: float, gain: float) -> None:
    first = int(start * SAMPLE_RATE)
    count = min(int(length * SAMPLE_RATE), len(mix) - first)
    if count > 0:
        # A note cut off by the end of the track uses only the start of its wave.
        wave_ = _note_wave(hz, int(length * SAMPLE_RATE), gain)[:count]
        mix[first : first + count] = [
            m + w for m, w in zip(mix[first : first + count], wave_, strict=True)
        ]


@functools.lru_cache(maxsize=256)
def _note_wave(hz: float, count: int, gain: float) -> tuple[float, ...]:
    # Tunes repeat their notes, so each distinct note is synthesised once per process.
    step = 2 * math.pi * hz / SAMPLE_RATE
    attack = int(0.01 * SAMPLE_RATE)
    fall = math.exp(-3.0 / count)  # about 5% of the level is left at the end of the note
    rot_cos, rot_sin = math.cos(step), math.sin(step)
    s, c, level = 0.0, 1.0, gain
    out = []
    # A rotating (sin, cos) pair instead of math.sin per sample: the same wave, faster.
    for i in range(count):
        amp = level if i >= attack else level * i / attack
        # Fundamental plus two quieter harmonics (sin 2x, sin 3x): a soft mallet.
        out.append(amp * (s + 0.6 * s * c + 0.1 * s * (3 - 4 * s * s)))
        s, c = s * rot_cos + c * rot_sin, c * rot_cos - s * rot_sin
        level *= fall
    return tuple(out)


def _wav_bytes(mix: list[float]) -> bytes:
    n = len(mix)
    fade = min(int(0.5 * SAMPLE_RATE), n)
    for i in range(n - fade, n):
        mix[i] *= (n - i) / fade
    # Normalise to about -3 dBFS: every track is as loud as the others and nothing clips.
    peak = max(max(mix, default=0.0), -min(mix, default=0.0)) or 1.0
    scale = 23000 / peak
    samples = array.array("h", [int(v * scale) for v in mix])
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


# --- the demo catalog -------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoTrackSpec:
    title: str
    seconds: float


@dataclass(frozen=True)
class DemoArtistSpec:
    name: str
    slug: str
    bio: str
    tonic_hz: float
    scale: str
    bpm: int
    tracks: tuple[DemoTrackSpec, ...]


# Some tracks are shorter than the 30 s play threshold (a play is the whole track then) and
# every artist has at least one longer track.
DEMO_ARTISTS = (
    DemoArtistSpec(
        name="Aurora Lanes",
        slug="aurora-lanes",
        bio="Bright synth-pop miniatures written on night buses.",
        tonic_hz=261.63,
        scale="major_pentatonic",
        bpm=112,
        tracks=(
            DemoTrackSpec("Northbound", 34),
            DemoTrackSpec("Glass Harbour", 22),
            DemoTrackSpec("Late Tram", 42),
        ),
    ),
    DemoArtistSpec(
        name="Copper Foxes",
        slug="copper-foxes",
        bio="A minor-key duo: marimba, bass and not much else.",
        tonic_hz=220.0,
        scale="minor_pentatonic",
        bpm=96,
        tracks=(
            DemoTrackSpec("Ember", 26),
            DemoTrackSpec("Foxglove", 38),
            DemoTrackSpec("Rust Belt Lullaby", 45),
        ),
    ),
    DemoArtistSpec(
        name="Mira Vale",
        slug="mira-vale",
        bio="Dorian daydreams from a bedroom studio by the sea.",
        tonic_hz=293.66,
        scale="dorian",
        bpm=84,
        tracks=(
            DemoTrackSpec("Saltwater", 31),
            DemoTrackSpec("Tidepool", 20),
            DemoTrackSpec("Lighthouse Keeper", 40),
        ),
    ),
)


@dataclass
class DemoLogin:
    username: str
    password: str


@dataclass
class DemoArtist:
    slug: str
    name: str
    login: DemoLogin
    tracks: list[Track]


@dataclass
class DemoCatalog:
    admin: DemoLogin
    artists: list[DemoArtist]
    created: list[str] = field(default_factory=list)


def _demo_user_ensure(*, username: str, superuser: bool = False) -> tuple[object, bool]:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    changed = created or not user.check_password(DEMO_PASSWORD)
    if changed:
        user.set_password(DEMO_PASSWORD)
    if superuser and not (user.is_staff and user.is_superuser):
        user.is_staff = user.is_superuser = changed = True
    if changed:
        user.save()
    return user, created


@transaction.atomic
def demo_catalog_ensure() -> DemoCatalog:
    """Make sure the demo artists, their logins, tracks and audio files exist.

    Idempotent: a second run creates nothing and keeps every id; an audio file that went
    missing from the media storage is synthesised again.
    """
    created: list[str] = []
    _, admin_created = _demo_user_ensure(username=DEMO_ADMIN_USERNAME, superuser=True)
    if admin_created:
        created.append(f"user {DEMO_ADMIN_USERNAME}")
    artists = []
    for spec in DEMO_ARTISTS:
        user, user_created = _demo_user_ensure(username=spec.slug)
        if user_created:
            created.append(f"user {spec.slug}")
        artist = Artist.objects.filter(slug=spec.slug).first()
        if artist is None:
            artist = artist_create(name=spec.name, slug=spec.slug, bio=spec.bio, members=[user])
            created.append(f"artist {spec.slug}")
        else:
            artist.members.add(user)
        existing = {t.title: t for t in artist.tracks.all()}
        tracks = []
        for track_spec in spec.tracks:
            track = existing.get(track_spec.title)
            if track is not None and track.audio and track.audio.storage.exists(track.audio.name):
                tracks.append(track)
                continue
            audio = melody_render(
                seed=f"{spec.slug}/{track_spec.title}",
                seconds=track_spec.seconds,
                tonic_hz=spec.tonic_hz,
                scale=spec.scale,
                bpm=spec.bpm,
            )
            if track is None:
                track = track_create(
                    artist=artist, title=track_spec.title, audio=audio, duration=track_spec.seconds
                )
                created.append(f"track {spec.slug}/{track_spec.title}")
            else:
                track = track_audio_replace(track=track, audio=audio)
                created.append(f"audio {spec.slug}/{track_spec.title}")
            tracks.append(track)
        artists.append(
            DemoArtist(
                slug=artist.slug,
                name=artist.name,
                login=DemoLogin(username=user.username, password=DEMO_PASSWORD),
                tracks=tracks,
            )
        )
    return DemoCatalog(
        admin=DemoLogin(username=DEMO_ADMIN_USERNAME, password=DEMO_PASSWORD),
        artists=artists,
        created=created,
    )
