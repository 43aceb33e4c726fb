"""Photos: checked by content, upright, EXIF gone, content-addressed, hostile files refused."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from cases.photos import MAX_PIXELS, PhotoError, photo_path, store_photo
from cases.service import Upload

GPS_IFD = 0x8825


def _jpeg(width: int = 60, height: int = 40, *, orientation: int | None = None, gps: tuple | None = None) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, width // 2, height))  # left half blue: shows the turn
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: must not survive
    if orientation is not None:
        exif[0x0112] = orientation
    if gps is not None:
        lon, lat = gps
        exif.get_ifd(GPS_IFD).update(
            {1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)},
        )
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    return (float(degrees), float(minutes), round((minutes_full - minutes) * 60, 4))


def test_orientation_applied_exif_stripped_content_addressed(tmp_path):
    data = _jpeg(60, 40, orientation=6, gps=(109.0137, 32.7068))  # 6: rotate 90° clockwise to view
    stored = store_photo(data, tmp_path, limit_mb=10)
    assert (stored.width, stored.height) == (40, 60)
    assert stored.gps == pytest.approx((109.0137, 32.7068), abs=1e-4)
    path = photo_path(tmp_path, stored.sha256, stored.extension)
    served = Image.open(path)
    assert not served.getexif()  # no Make, no GPS, no orientation left
    assert b"PhoneMaker" not in path.read_bytes()
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() == stored.sha256
    thumb = Image.open(photo_path(tmp_path, stored.sha256, stored.extension, thumb=True))
    assert max(thumb.size) <= 320
    # the same photo twice is stored once
    again = store_photo(data, tmp_path, limit_mb=10)
    assert again.sha256 == stored.sha256
    assert len(list((tmp_path / "photos").rglob("*"))) == 3  # one folder, the photo, its thumbnail


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        # an HTML page named .png: the content decides, not the name
        (b"<html><script>alert(1)</script></html>", "not a picture"),
        # a GIF is a picture, but not one the loop accepts
        (
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
            "not accepted",
        ),
        # a JPEG cut in half
        (None, "damaged|truncated|decoded"),
        (b"", "empty"),
    ],
)
def test_hostile_or_broken_files_are_refused(tmp_path, data, reason):
    if data is None:
        data = _jpeg(400, 300)[:300]
    with pytest.raises(PhotoError, match=reason):
        store_photo(data, tmp_path, limit_mb=10)
    assert not (tmp_path / "photos").exists() or not any((tmp_path / "photos").rglob("*.jpg"))


def test_size_limit(tmp_path):
    big = b"\xff\xd8" + b"\0" * (50 * 1024 * 1024)
    with pytest.raises(PhotoError, match="over the 10 MB limit"):
        store_photo(big, tmp_path, limit_mb=10)


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header claiming a huge picture, with a tiny compressed body (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = b"\0" * (width + 1)
    body = zlib.compress(row * 8, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    bomb = _png_bomb(30_000, 30_000)  # 900 megapixels from a few kilobytes
    assert len(bomb) < 100_000 and 30_000 * 30_000 > MAX_PIXELS
    with pytest.raises(PhotoError, match="too many pixels"):
        store_photo(bomb, tmp_path, limit_mb=10)


def test_photo_gps_places_a_case_without_coordinates(service, people, mini_ds):
    from geo.datums import to_wgs84

    lon, lat = to_wgs84(600102.0, 3618102.0, "EPSG:4545")  # inside compound C1
    case = service.create(
        people.inspector,
        lon=None,
        lat=None,
        category="exposed_garbage",
        photo=Upload(_jpeg(gps=(lon, lat)), "<b>x</b>.jpg"),
    )
    assert case["location_source"] == "photo_exif"
    assert case["feature"]["feature_id"] == "C1"
    assert case["photos"][0]["url"].startswith("/photos/") and case["photos"][0]["media_type"] == "image/jpeg"


def test_heic_from_an_iphone_is_accepted_and_served_as_jpeg(tmp_path):
    image = Image.new("RGB", (64, 48), (90, 90, 200))
    data = io.BytesIO()
    image.save(data, "HEIF")  # pillow-heif's encoder, as an iPhone writes photos
    stored = store_photo(data.getvalue(), tmp_path, limit_mb=10)
    assert stored.media_type == "image/jpeg" and (stored.width, stored.height) == (64, 48)
    assert Image.open(photo_path(tmp_path, stored.sha256, stored.extension)).format == "JPEG"
