"""Writes of the catalog: artists, their member logins, tracks and their audio."""

import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from mvsic.background import task_send_on_commit
from mvsic.listeners import listener_new
from mvsic.models import AccountListener, Artist, ListenerUser, Tag, Track
from mvsic.selectors import track_position_next


def artist_create(*, name: str, slug: str, bio: str = "", members: Iterable = ()) -> Artist:
    """Create an artist and give its members access to its dashboard."""
    artist = Artist.objects.create(name=name, slug=slug, bio=bio)
    artist.members.add(*members)
    return artist


def artist_timezone_set(*, artist: Artist, zone: str) -> bool:
    """Set the artist's time zone; its figures move to it in the background (the
    analytics task is sent by name: the catalog does not import analytics)."""
    if artist.timezone == zone:
        return False
    artist.timezone = zone
    artist.full_clean(validate_unique=False)
    artist.save(update_fields=["timezone"])
    task_send_on_commit("analytics.artist_zone_rebuild", args=(artist.id,))
    return True


def artist_profile_update(
    *,
    artist: Artist,
    name: str,
    bio: str,
    picture: bytes | None = None,
    picture_remove: bool = False,
    tags: dict[str, str] | None = None,
) -> Artist:
    """Set the artist's name and bio; store a new picture (WebP bytes made by
    mvsic.pictures) or remove the current one; set its tags ({slug: name}, from
    mvsic.tags.tags_parse; None leaves them). The slug, and so every URL, stays."""
    old = artist.picture.name if artist.picture else ""
    with transaction.atomic():
        if tags is not None:
            artist_tags_set(artist=artist, tags=tags)
        artist.name = name
        artist.bio = bio
        if picture is not None:
            filename = f"{artist.slug}-{secrets.token_hex(4)}.webp"
            artist.picture.save(filename, ContentFile(picture), save=False)
        elif picture_remove:
            artist.picture = ""
        artist.full_clean(exclude=["slug"], validate_unique=False)
        artist.save(update_fields=["name", "bio", "picture"])
        if old and old != artist.picture.name:
            storage = artist.picture.storage
            transaction.on_commit(lambda: storage.delete(old))
    return artist


def artist_tags_set(*, artist: Artist, tags: dict[str, str]) -> None:
    """Give the artist exactly these tags ({slug: name}); a new slug makes a new tag."""
    known = {tag.slug: tag for tag in Tag.objects.filter(slug__in=tags)}
    new = [Tag(slug=slug, name=name) for slug, name in tags.items() if slug not in known]
    Tag.objects.bulk_create(new, ignore_conflicts=True)  # a concurrent twin is fine
    artist.tags.set(Tag.objects.filter(slug__in=tags))


def track_create(*, artist: Artist, title: str, audio: bytes, duration: float) -> Track:
    """Create a track and store its audio (WAV bytes) in the media storage."""
    position = track_position_next(artist=artist)
    track = Track(artist=artist, title=title, duration=duration, position=position)
    _audio_store(track=track, audio=audio)
    track.save()
    return track


def track_audio_replace(*, track: Track, audio: bytes) -> Track:
    """Store new audio for an existing track (for example when its file went missing)."""
    _audio_store(track=track, audio=audio)
    track.save(update_fields=["audio"])
    return track


def track_title_set(*, track: Track, title: str) -> Track:
    """Rename a track (unique per artist: the form says so before the constraint does)."""
    track.title = title
    track.save(update_fields=["title"])
    return track


def track_move(*, track: Track, offset: int) -> None:
    """Move a track `offset` places in its artist's order, past the tracks fans do not see
    when it is published (and past published ones when it is not); positions become 0..n-1."""
    with transaction.atomic():
        tracks = list(
            Track.objects.select_for_update()
            .filter(artist_id=track.artist_id)
            .order_by("position", "title")
        )
        index = next(i for i, t in enumerate(tracks) if t.id == track.id)
        published = _is_published(tracks[index])
        peers = [i for i, t in enumerate(tracks) if _is_published(t) == published]
        rank = min(max(peers.index(index) + offset, 0), len(peers) - 1)
        tracks.insert(peers[rank], tracks.pop(index))
        changed = []
        for position, moved in enumerate(tracks):
            if moved.position != position:
                moved.position = position
                changed.append(moved)
        Track.objects.bulk_update(changed, ["position"])


def _is_published(track: Track) -> bool:
    return track.hidden_at is None and track.status == Track.Status.READY


def track_publish_set(*, track: Track, published: bool) -> Track:
    """Unpublish (hide from fans, its plays and likes kept) or publish again."""
    track.hidden_at = None if published else (track.hidden_at or timezone.now())
    track.save(update_fields=["hidden_at"])
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


def listener_user_link(*, listener: str, user) -> None:
    """Remember that `user` is logged in behind this listener cookie (the own_play rule)."""
    ListenerUser.objects.update_or_create(listener=listener, defaults={"user": user})


def account_create(*, email: str, password: str):
    """A fan's account: the email is also the username they log in with."""
    email = get_user_model().objects.normalize_email(email).lower()
    return get_user_model().objects.create_user(username=email, email=email, password=password)


def account_listener_adopt(*, user, listener: str) -> str:
    """The account's listener id; an account without one adopts `listener` (the cookie it
    logs in with), or a new id when that one is already another account's."""
    for candidate in (listener, listener_new()):
        found = AccountListener.objects.filter(user=user).values_list("listener", flat=True)
        if found:
            return found[0]
        try:
            with transaction.atomic():
                AccountListener.objects.create(user=user, listener=candidate)
            return candidate
        except IntegrityError:
            continue
    return AccountListener.objects.get(user=user).listener
