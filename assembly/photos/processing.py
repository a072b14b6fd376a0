"""Checking and re-encoding an uploaded photo, without HTTP or a database.

A file is a photo when Pillow decodes it as JPEG, PNG or WebP — the name and the type the
browser claims are never trusted. Its pixel count is checked before the pixels are decoded
(a decompression bomb is refused, not unpacked). What is kept is a new JPEG drawn from the
decoded pixels only: EXIF (GPS position, camera, time), XMP, ICC and comments of the original
are not copied. The EXIF orientation is applied to the pixels first, so nothing is lost by that.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("JPEG", "PNG", "WEBP")
MAX_SIDE = 2048   # the stored photo's longer side at most, in pixels
THUMB_SIDE = 320  # the thumbnail's
QUALITY = 85


class NotAnImage(ValueError):
    """The bytes are not a JPEG, PNG or WebP image Pillow can decode."""


class TooManyPixels(ValueError):
    """The image declares more pixels than allowed (a decompression bomb, or simply too large)."""


@dataclass(frozen=True)
class Encoded:
    photo: bytes
    thumb: bytes
    width: int
    height: int

    @property
    def fingerprint(self) -> dict[str, str]:
        """The SHA-256 of the stored photo and of its thumbnail (what a hash-chained step records)."""
        return {"photo": digest(self.photo), "thumb": digest(self.thumb)}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes, max_pixels: int) -> Image.Image:
    """The image's pixels; refuses what is not an image and what has more than `max_pixels`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.width * image.height > max_pixels:  # read from the header, before decoding
                raise TooManyPixels(image.width * image.height)
            image.load()
    except TooManyPixels:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise TooManyPixels(str(error)) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise NotAnImage(str(error)) from error
    return image


def _flat_rgb(image: Image.Image) -> Image.Image:
    """The pixels alone, in RGB, on a fresh image that carries no metadata of the original."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        clean = Image.new("RGB", rgba.size, (255, 255, 255))
        clean.paste(rgba, mask=rgba.getchannel("A"))
        return clean
    rgb = image.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def encode(data: bytes, max_pixels: int) -> Encoded:
    """Decode `data` and make the stored photo and its thumbnail (both JPEG, without metadata)."""
    image = _flat_rgb(decode(data, max_pixels))
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return Encoded(photo=_jpeg(image, QUALITY), thumb=_jpeg(thumb, 80), width=image.width, height=image.height)
