"""Audio files for the tests, made with PyAV and numpy (small and fast), and bad files."""

import io
import struct
import wave
from pathlib import Path

import av
import numpy as np


def tone(
    path: Path,
    *,
    seconds: float = 2.0,
    fmt: str = "flac",
    codec: str = "flac",
    rate: int = 44_100,
    layout: str = "stereo",
    amplitude: float = 0.3,
    hz: float = 440.0,
    frame_size: int = 0,
) -> Path:
    """A sine tone (silence when `amplitude` is 0) encoded by FFmpeg as `codec` in `fmt`."""
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        sample_format = stream.codec_context.format
        channels = 1 if layout == "mono" else 2
        frame_size = frame_size or stream.codec_context.frame_size or 4096
        total, pos = int(seconds * rate), 0
        while pos < total:
            count = min(frame_size, total - pos)
            wave_ = amplitude * np.sin(2 * np.pi * hz * np.arange(pos, pos + count) / rate)
            if sample_format.name.startswith("s16"):
                wave_ = (wave_ * 32767).astype(np.int16)
            elif sample_format.name.startswith("s32"):
                wave_ = (wave_ * 2_147_483_647).astype(np.int32)
            else:
                wave_ = wave_.astype(np.float32)
            if sample_format.is_planar:
                data = np.tile(wave_, (channels, 1))
            else:
                data = np.repeat(wave_, channels).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(data, format=sample_format.name, layout=layout)
            frame.sample_rate = rate
            frame.pts = pos
            for packet in stream.encode(frame):
                out.mux(packet)
            pos += count
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def wav_bytes(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        samples = (0.3 * np.sin(np.arange(int(seconds * rate)) / 3) * 32767).astype("<i2")
        wav.writeframes(samples.tobytes())
    return buffer.getvalue()


def wav_claiming_huge_size(path: Path) -> Path:
    """A tiny WAV whose RIFF and data sizes claim about 2 GB (days of 8 kHz audio)."""
    data = bytearray(wav_bytes(seconds=1.0))
    huge = 0x7FFF0000
    struct.pack_into("<I", data, 4, huge + 36)
    assert data[36:40] == b"data"
    struct.pack_into("<I", data, 40, huge)
    path.write_bytes(bytes(data))
    return path


def truncated(source: Path, path: Path, share: float = 0.5) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * share)])
    return path


def png_image(path: Path) -> Path:
    """A small PNG image, encoded by FFmpeg."""
    with av.open(str(path), "w", format="image2", options={"update": "1"}) as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), dtype=np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
