"""Helpers for the brand tests: real image bytes (made here, no image library), a published brand."""

import struct
import zlib

from branding import services
from branding.images import logo_read
from branding.models import Brand
from tests.factories import staff_user


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width=40, height=20, rgb=(31, 78, 121), padding=0) -> bytes:
    """A real PNG of one colour; `padding` bytes of an ancillary chunk make it as big as a test needs."""
    row = b"\x00" + bytes(rgb) * width
    image = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if padding:
        image += _chunk(b"tEXt", b"Comment\x00" + b"x" * padding)
    return image + _chunk(b"IDAT", zlib.compress(row * height)) + _chunk(b"IEND", b"")


JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
WEBP_START = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 40
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def publish(user=None, *, logo: bytes | None = None, **fields) -> Brand:
    """A draft with `fields` (and `logo`), published as staff would."""
    user = user or staff_user()
    draft = services.brand_draft_get()
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.save()
    if logo is not None:
        services.brand_logo_set(logo=logo_read(logo), user=user)
    return services.brand_publish(user=user)
