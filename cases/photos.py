"""Photos of cases: checked by content, turned upright, stripped of EXIF, stored by content hash.

An upload is accepted when Pillow recognises it as JPEG, PNG, WebP or HEIC/HEIF (iPhones;
through ``pillow-heif``), whatever its name or declared type says; anything else (an
HTML page named ``.png``, a truncated file, a decompression bomb) is refused with a message.
The EXIF orientation is applied; the GPS position in EXIF is read (a case without a place
may take it) and then dropped with the rest of the metadata: what is stored and served is a
re-encoded copy, ``photos/<2 hex>/<sha256>.<ext>``, plus a 320 px thumbnail beside it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from geo.atomic_files import replace_file

if TYPE_CHECKING:
    from PIL import Image

# Largest picture decoded: 40 megapixels (a 12 MP phone photo is far below). Past it the
# upload is refused before its pixels are expanded in memory.
MAX_PIXELS = 40_000_000
MAX_EDGE_PX = 4096
THUMB_EDGE_PX = 320
ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heif", "HEIC": "image/heic"}
STORED_AS = {"PNG": ("PNG", "png", "image/png"), "WEBP": ("WEBP", "webp", "image/webp")}
DEFAULT_STORED = ("JPEG", "jpg", "image/jpeg")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@functools.cache
def _pillow() -> tuple[ModuleType, ModuleType, type[Exception]]:
    """Pillow (Image, ImageOps, UnidentifiedImageError) with HEIC/HEIF, imported with the first photo.

    Importing them costs a server worker about a tenth of a second at start, and only photos need them.
    """
    import pillow_heif
    from PIL import Image, ImageOps, UnidentifiedImageError

    pillow_heif.register_heif_opener()  # HEIC/HEIF, as iPhones save photos
    return Image, ImageOps, UnidentifiedImageError


class PhotoError(ValueError):
    """A photo refused: too large, not an image, a format not accepted, too many pixels."""


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    sha256: str
    media_type: str
    extension: str
    width: int
    height: int
    size_bytes: int
    gps: tuple[float, float] | None  # (lon, lat) WGS-84 from EXIF, if the camera wrote one


def photo_path(data_dir: Path, sha256: str, extension: str, *, thumb: bool = False) -> Path:
    name = f"{sha256}.thumb.jpg" if thumb else f"{sha256}.{extension}"
    return data_dir / "photos" / sha256[:2] / name


def store_photo(data: bytes, data_dir: Path, *, limit_mb: float, name: str = "photo") -> StoredPhoto:
    """Check, clean and store one uploaded photo; raises :class:`PhotoError` with a reason."""
    limit_bytes = int(limit_mb * 1024 * 1024)
    if len(data) > limit_bytes:
        raise PhotoError(f"{name}: {len(data) / 1048576:.1f} MB is over the {limit_mb:g} MB limit for photos")
    if not data:
        raise PhotoError(f"{name}: the file is empty")
    Image, ImageOps, _ = _pillow()
    image = _open(data, name)
    gps = _exif_gps(image)
    try:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((MAX_EDGE_PX, MAX_EDGE_PX))
        pil_format, extension, media_type = STORED_AS.get(image.format or "", DEFAULT_STORED)
        cleaned = _encode(upright, pil_format)
        thumb = upright.copy()
        thumb.thumbnail((THUMB_EDGE_PX, THUMB_EDGE_PX))
        thumb_bytes = _encode(thumb, "JPEG")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise PhotoError(f"{name}: the picture cannot be decoded ({error})") from None
    sha256 = hashlib.sha256(cleaned).hexdigest()
    target = photo_path(data_dir, sha256, extension)
    if not target.exists():
        _write_atomically(target, cleaned)
    thumb_target = photo_path(data_dir, sha256, extension, thumb=True)
    if not thumb_target.exists():
        _write_atomically(thumb_target, thumb_bytes)
    return StoredPhoto(sha256, media_type, extension, upright.width, upright.height, len(cleaned), gps)


def _open(data: bytes, name: str) -> Image.Image:
    Image, _, UnidentifiedImageError = _pillow()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            image = Image.open(io.BytesIO(data))
            fmt = image.format or ""
            if fmt not in ACCEPTED:
                raise PhotoError(f"{name}: a {fmt or 'unknown'} image is not accepted; send JPEG, PNG or WebP")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError(f"{name}: {image.width} x {image.height} pixels is too many (at most {MAX_PIXELS:,})")
            image.load()
            image.format = fmt  # load() keeps it, but be explicit for the re-encoding choice
            return image
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoError(f"{name}: the picture expands to too many pixels (at most {MAX_PIXELS:,})") from None
        except UnidentifiedImageError:
            raise PhotoError(f"{name}: not a picture (JPEG, PNG or WebP expected; the content was checked)") from None
        except (OSError, SyntaxError, ValueError) as error:
            raise PhotoError(f"{name}: the picture is damaged or truncated ({error})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _encode(image: Image.Image, pil_format: str) -> bytes:
    out = io.BytesIO()
    if pil_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True)
    elif pil_format == "PNG":
        image.save(out, "PNG", optimize=False)
    else:
        image.save(out, pil_format, quality=85)
    return out.getvalue()


def _exif_gps(image: Image.Image) -> tuple[float, float] | None:
    try:
        gps = image.getexif().get_ifd(0x8825)
    except Exception:  # a damaged EXIF block is common and only loses the position
        return None
    try:
        lat = _degrees(gps[2], gps.get(1, "N"), "S")
        lon = _degrees(gps[4], gps.get(3, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or (lon == 0 and lat == 0):
        return None
    return lon, lat


def _degrees(dms: tuple, ref: object, negative: str) -> float:
    degrees, minutes, seconds = (float(part) for part in dms)
    value = degrees + minutes / 60 + seconds / 3600
    ref_text = ref.decode() if isinstance(ref, bytes) else str(ref)
    return -value if ref_text.strip().upper() == negative else value


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_file(target, lambda stream: stream.write(data), prefix=".upload-")
