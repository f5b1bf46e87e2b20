"""Pictures: any common image in, a small WebP without metadata out."""

import io

import pytest
from PIL import Image

from mvsic.pictures import MAX_SIDE, PictureError, picture_normalise


def image_bytes(size=(2000, 1000), fmt="JPEG", mode="RGB", gps=True, orientation=None) -> bytes:
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif)
    return out.getvalue()


def test_a_photo_is_resized_and_loses_its_metadata():
    source = image_bytes()
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(0x8825)  # the source has GPS
    picture = Image.open(io.BytesIO(picture_normalise(source)))
    assert picture.format == "WEBP"
    assert picture.size == (MAX_SIDE, MAX_SIDE // 2)
    assert not picture.getexif()
    assert "exif" not in picture.info and "xmp" not in picture.info
    assert "icc_profile" not in picture.info


def test_the_orientation_is_applied_before_it_is_dropped():
    picture = Image.open(io.BytesIO(picture_normalise(image_bytes(orientation=6))))
    assert picture.size == (MAX_SIDE // 2, MAX_SIDE)  # turned a quarter: now portrait
    assert not picture.getexif()


def test_a_small_transparent_png_keeps_its_size_and_alpha():
    picture = Image.open(
        io.BytesIO(picture_normalise(image_bytes((100, 80), "PNG", "RGBA", gps=False)))
    )
    assert picture.size == (100, 80)
    assert picture.mode == "RGBA"


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"%PDF-1.7\n" + b"x" * 100, image_bytes(fmt="JPEG")[:200]],
    ids=["empty", "text", "pdf", "truncated"],
)
def test_what_is_not_a_readable_image_is_refused_with_a_reason(data):
    with pytest.raises(PictureError, match="not an image"):
        picture_normalise(data)


def test_a_huge_image_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, format="PNG")  # small file, 50 megapixels
    with pytest.raises(PictureError, match="megapixels"):
        picture_normalise(out.getvalue())
