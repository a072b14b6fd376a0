"""Images made for the photo tests with Pillow: real JPEG/PNG files, one carrying EXIF with a
GPS position, one a decompression bomb (few bytes, a huge declared size); and the fixtures of the
photo tests (a store of the test's own, an S3-compatible server), which a test module imports."""
from __future__ import annotations

import io
import socket
import subprocess
import sys
import time

import pytest
from PIL import Image

from assembly.photos.storage import LocalStore

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


# --- fixtures (import them into the test module) -----------------------------------------------------

@pytest.fixture
def store(app, tmp_path):
    """Photos of this test in a folder of its own."""
    found = LocalStore(tmp_path / "photos")
    app.extensions["assembly_photo_store"] = found
    yield found
    app.extensions.pop("assembly_photo_store", None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3-compatible server (moto's), in a process of its own."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the S3-compatible test server did not start")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)
