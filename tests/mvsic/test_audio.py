"""Probing, measuring and transcoding an uploaded file (mvsic/audio.py)."""

import av
import pytest

from mvsic.audio import PEAKS, AudioRejected, audio_process, peaks_reduce
from tests.mvsic import audio_files

MAX = 3 * 3600.0


def processed(source, tmp_path, max_seconds=MAX):
    target = tmp_path / "out.mp3"
    result = audio_process(source=str(source), target=str(target), max_seconds=max_seconds)
    return result, target


@pytest.mark.parametrize(
    ("name", "fmt", "codec", "rate", "layout"),
    [
        ("a.wav", "wav", "pcm_s16le", 44_100, "mono"),
        ("a.flac", "flac", "flac", 48_000, "stereo"),
        ("a.mp3", "mp3", "libmp3lame", 44_100, "stereo"),
        ("a.m4a", "ipod", "aac", 44_100, "stereo"),
        ("a.opus", "ogg", "libopus", 48_000, "stereo"),
    ],
)
def test_every_accepted_format_becomes_an_mp3_with_its_measures(
    tmp_path, name, fmt, codec, rate, layout
):
    source = audio_files.tone(
        tmp_path / name, seconds=3, fmt=fmt, codec=codec, rate=rate, layout=layout
    )
    result, target = processed(source, tmp_path)
    assert result.duration == pytest.approx(3.0, abs=0.05)
    # A 0.3 sine is about -11 LUFS in stereo, 3 dB less in mono.
    expected = -14.2 if layout == "mono" else -11.2
    assert result.loudness == pytest.approx(expected, abs=0.6)
    assert 100 <= len(result.peaks) <= PEAKS
    assert max(result.peaks) == pytest.approx(0.3, abs=0.03)
    with av.open(str(target)) as out:
        stream = out.streams.audio[0]
        assert (out.format.name, stream.codec_context.name) == ("mp3", "mp3float")
        assert float(stream.duration * stream.time_base) == pytest.approx(3.0, abs=0.1)


def test_a_long_track_gets_the_full_number_of_peaks_and_its_exact_length(tmp_path):
    source = audio_files.tone(tmp_path / "a.flac", seconds=61.5, rate=22_050, layout="mono")
    result, _ = processed(source, tmp_path)
    assert result.duration == 61.5
    assert len(result.peaks) == PEAKS
    assert result.probe["container"] == "flac"


def test_silence_has_no_loudness_to_match(tmp_path):
    result, _ = processed(audio_files.tone(tmp_path / "s.flac", amplitude=0.0), tmp_path)
    assert result.loudness is None
    assert max(result.peaks) == 0


def bad_file(kind: str, tmp_path):
    if kind == "empty":
        (tmp_path / "empty.mp3").write_bytes(b"")
        return tmp_path / "empty.mp3"
    if kind == "text":
        (tmp_path / "notes.mp3").write_text("these are my lyrics, not audio\n" * 40)
        return tmp_path / "notes.mp3"
    if kind == "truncated_flac":
        whole = audio_files.tone(tmp_path / "whole.flac", seconds=10)
        return audio_files.truncated(whole, tmp_path / "cut.flac")
    if kind == "ten_hours":
        return audio_files.tone(
            tmp_path / "long.flac", seconds=36_000, rate=1000, layout="mono", amplitude=0.0,
            frame_size=65_535,
        )  # fmt: skip
    if kind == "image":
        return audio_files.png_image(tmp_path / "cover.wav")
    if kind == "huge_wav_header":
        return audio_files.wav_claiming_huge_size(tmp_path / "bomb.wav")
    if kind == "too_short":
        return audio_files.tone(tmp_path / "blip.flac", seconds=0.3)
    raise AssertionError(kind)


REASONS = {
    "empty": "The file is empty",
    "text": "is not audio we can read",
    "truncated_flac": "The file is cut short: it says 0:00:10 but holds only 0:00:05",
    "ten_hours": "The file says it is 10:00:00 long; tracks can be at most 3:00:00",
    "image": "The file holds no audio",
    "huge_wav_header": "tracks can be at most 3:00:00",
    "too_short": "The track is only 0.3 s long",
}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_a_bad_file_is_refused_with_a_reason_the_artist_can_act_on(tmp_path, kind):
    with pytest.raises(AudioRejected) as refused:
        processed(bad_file(kind, tmp_path), tmp_path)
    assert REASONS[kind] in str(refused.value)


def test_decoding_stops_at_the_longest_track_when_no_header_tells(tmp_path, monkeypatch):
    from mvsic import audio

    probe = audio._stream_probe

    def without_duration(container):
        stream, found = probe(container)
        return stream, {**found, "declared_seconds": None}

    monkeypatch.setattr(audio, "_stream_probe", without_duration)
    source = audio_files.tone(tmp_path / "a.flac", seconds=5)
    with pytest.raises(AudioRejected, match="longer than 0:00:02"):
        audio_process(source=str(source), target=str(tmp_path / "o.mp3"), max_seconds=2.4)


def test_peaks_are_the_loudest_value_of_each_stretch():
    assert peaks_reduce([0.1, 0.5, 0.2, 0.9], count=2) == [0.5, 0.9]
    assert peaks_reduce([2.0], count=300) == [1.0]
    assert peaks_reduce([]) == []
