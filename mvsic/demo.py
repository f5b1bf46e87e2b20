"""The demo catalog `seed_demo` creates: three artists, their tracks and logins."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import transaction

from mvsic.melody import melody_render
from mvsic.models import Artist, Track
from mvsic.services import artist_create, artist_tags_set, track_audio_replace, track_create
from mvsic.tags import tags_parse
from mvsic.uploads import track_stored_process

# Shared by every demo login; printed by `seed_demo`, never meant for a real deployment.
DEMO_PASSWORD = "mvsic-demo"  # noqa: S105 - a published demo password, by design
DEMO_ADMIN_USERNAME = "admin"


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
    tags: str = ""  # as a member types them on the profile form


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
        tags="synth-pop, electronic",
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
        tags="jazz, minimal",
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
        tags="dream pop, electronic",
    ),
)


@dataclass
class DemoLogin:
    username: str
    password: str | None  # None: a login that existed before, left as it was


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
    """The demo login, created with the demo password; an existing user is never changed
    (no new password, no promotion)."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    if superuser:
        user = User.objects.create_superuser(username=username, password=DEMO_PASSWORD)
    else:
        user = User.objects.create_user(username=username, password=DEMO_PASSWORD)
    return user, True


def _login_of(user) -> DemoLogin:
    """The login to print: the demo password only if it still opens this account."""
    works = check_password(DEMO_PASSWORD, user.password)  # no re-hash, no save
    return DemoLogin(username=user.username, password=DEMO_PASSWORD if works else None)


@transaction.atomic
def demo_catalog_ensure() -> DemoCatalog:
    """Make sure the demo artists, their logins, tracks and audio files exist.

    Idempotent: a second run creates nothing and keeps every id; an audio file that went
    missing from the media storage is synthesised again.
    """
    created: list[str] = []
    admin, admin_created = _demo_user_ensure(username=DEMO_ADMIN_USERNAME, superuser=True)
    if admin_created:
        created.append(f"user {DEMO_ADMIN_USERNAME}")
    artists = []
    for spec in DEMO_ARTISTS:
        user, user_created = _demo_user_ensure(username=spec.slug)
        if user_created:
            created.append(f"user {spec.slug}")
        artist = Artist.objects.filter(slug=spec.slug).first()
        if artist is None:
            members = [user] if user_created else []  # no one else's account gains access
            artist = artist_create(name=spec.name, slug=spec.slug, bio=spec.bio, members=members)
            artist_tags_set(artist=artist, tags=tags_parse(spec.tags))
            created.append(f"artist {spec.slug}")
        elif user_created:
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
            # The same processing as an upload: MP3, exact duration, loudness, waveform.
            tracks.append(track_stored_process(track=track))
        artists.append(
            DemoArtist(
                slug=artist.slug,
                name=artist.name,
                login=_login_of(user),
                tracks=tracks,
            )
        )
    return DemoCatalog(
        admin=_login_of(admin),
        artists=artists,
        created=created,
    )
