"""The logo staff upload: PNG, JPEG or WebP, recognised by its bytes, never by its name or the type the
browser claims. SVG is refused: it is a document that can carry scripts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAX_LOGO_BYTES = 200 * 1024
PNG = b"\x89PNG\r\n\x1a\n"


class NotAnImage(ValueError):
    """The bytes are not a logo we accept; the message says why, for staff."""


@dataclass(frozen=True)
class Logo:
    content: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _content_type(head: bytes) -> str | None:
    if head.startswith(PNG) and head[12:16] == b"IHDR":
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:15] == b"VP8":
        return "image/webp"
    return None


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in text[:1024]


def too_big(size: int) -> NotAnImage:
    return NotAnImage(
        f"The file is {size / 1024:.0f} kB; a logo may have at most {MAX_LOGO_BYTES // 1024} kB. "
        "Export it smaller (a logo 400 pixels wide is plenty)."
    )


def logo_read(content: bytes) -> Logo:
    """The logo in `content`, or NotAnImage saying why it is refused (too big, SVG, not an image)."""
    if not content:
        raise NotAnImage("Choose an image file to upload.")
    if len(content) > MAX_LOGO_BYTES:
        raise too_big(len(content))
    if _looks_like_svg(content[:2048]):
        raise NotAnImage("SVG logos are not accepted: an SVG file can carry scripts. Upload a PNG, JPEG or WebP.")
    content_type = _content_type(content[:32])
    if content_type is None:
        raise NotAnImage("This file is not a PNG, JPEG or WebP image.")
    return Logo(content=content, content_type=content_type)
