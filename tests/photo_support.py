"""Images made for the photo tests with Pillow: real JPEG/PNG files, one carrying EXIF with a
GPS position, one a decompression bomb (few bytes, a huge declared size)."""
from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(size=(64, 48), colour=(200, 120, 40), *, gps: bool = False, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"     # Model
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (41.0, 0.0, 12.5), 3: "E", 4: (29.0, 1.0, 30.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"taken at home")
    return out.getvalue()


def png(size=(40, 30), mode="RGBA") -> bytes:
    image = Image.new(mode, size, (10, 200, 10, 128) if mode == "RGBA" else (10, 200, 10))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def bomb(side: int = 12000) -> bytes:
    """A PNG of side × side pixels of one colour: a few kilobytes that decode to ~140 MB."""
    image = Image.new("1", (side, side), 0)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def exif_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif())
