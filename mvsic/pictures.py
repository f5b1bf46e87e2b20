"""An artist's picture: any common image in, a small WebP out, with no metadata kept.

Re-encoding from the decoded pixels drops EXIF (camera, GPS position), XMP and ICC data; the
EXIF orientation is applied first so the picture stands the way it was taken.
"""

import io

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 512  # pixels: the picture fits in MAX_SIDE x MAX_SIDE
MAX_SOURCE_PIXELS = 40_000_000  # a larger source is refused before it is decoded
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")


class PictureError(ValueError):
    """The upload cannot be made into a picture; the message says why, for the form."""


def picture_normalise(data: bytes) -> bytes:
    """The uploaded bytes as a WebP of at most MAX_SIDE pixels a side, without metadata.

    Raises PictureError for anything that is not a JPEG, PNG, WebP or GIF image.
    """
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as source:
            width, height = source.size
            if width * height > MAX_SOURCE_PIXELS:
                raise PictureError(
                    f"The image is {width}x{height} pixels: pick one under 40 megapixels."
                )
            source.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size
            image = ImageOps.exif_transpose(source)
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except PictureError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise PictureError(
            "This file is not an image we can read (use JPEG, PNG or WebP)."
        ) from exc
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
