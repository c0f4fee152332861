"""The demo's brand: what a new association's staff might publish first, so that the demo (bin/run,
bin/screenshots) shows branded member pages. Published through the branding app's services, as staff
would, and only while nothing of staff's is there: a published brand, or a draft staff saved, is theirs."""

from __future__ import annotations

import struct
import zlib

from django.conf import settings
from django.db import transaction

from branding import services
from branding.images import logo_read
from branding.models import Brand

DEMO_NAME, DEMO_NAME_FR = "Example Association", "Association Exemple"
COLOUR = "#1d6b54"  # a deep green: white button text on it reads at over 6:1 (WCAG AA: 4.5:1)
TEXT = {
    "primary_colour": COLOUR,
    # Not the form's own subtitle ("Choose the emails you want to receive") again: what the mailings are.
    "intro": (
        "Our mailings keep members up to date on the profession, our events and our advocacy work. "
        "You can come back and change your choices at any time."
    ),
    "intro_fr": (
        "Nos envois tiennent les membres au courant de la profession, de nos événements et de nos actions "
        "de représentation. Vous pouvez revenir modifier vos choix à tout moment."
    ),
    "contact_email": "members@example.org",
    "privacy_url": "https://example.org/privacy",
    "footer": "123 Main Street, Suite 400, Ottawa ON K1P 1J1, Canada",
    "footer_fr": "123, rue Principale, bureau 400, Ottawa (Ontario) K1P 1J1, Canada",
}
LOGO_SIZE = 96  # pixels: the pages show it 48 px high, sharp on a screen of twice the density


def demo_brand_publish(*, user) -> bool:
    """Publish the demo's brand as `user` unless staff have a brand of their own. True if it did."""
    with transaction.atomic():
        if Brand.objects.select_for_update().filter(state=Brand.State.PUBLISHED).exists():
            return False
        if Brand.objects.filter(state=Brand.State.DRAFT, updated_by__isnull=False).exists():
            return False  # a draft staff saved and have not published yet: theirs to publish
        name = settings.ASSOCIATION_NAME or DEMO_NAME
        # The French name only of the demo's own name: an association's own name stays as it is written.
        name_fr = DEMO_NAME_FR if name == DEMO_NAME else ""
        services.brand_draft_update(user=user, name=name, name_fr=name_fr, **TEXT)
        services.brand_logo_set(logo=logo_read(demo_logo_png()), user=user)
        services.brand_publish(user=user)
    return True


def demo_logo_png(size: int = LOGO_SIZE, colour: str = COLOUR) -> bytes:
    """A square PNG (RGBA, transparent corners): a rounded square of `colour` with a white envelope on it,
    its edges smoothed by sampling each pixel 4 x 4 times. Made with the standard library alone."""
    primary = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    rows = bytearray()
    samples = [(i + 0.5) / 4 for i in range(4)]
    for y in range(size):
        rows.append(0)  # the row's filter: none
        for x in range(size):
            covered = white = 0
            for dy in samples:
                for dx in samples:
                    u, v = (x + dx) / size, (y + dy) / size
                    if _in_rounded_square(u, v):
                        covered += 1
                        white += _on_envelope(u, v)
            red, green, blue = (round(c + (255 - c) * white / max(covered, 1)) for c in primary)
            rows += bytes((red, green, blue, round(255 * covered / 16)))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8 bits a channel, RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _in_rounded_square(u: float, v: float, radius: float = 0.22) -> bool:
    cx, cy = min(max(u, radius), 1 - radius), min(max(v, radius), 1 - radius)
    return (u - cx) ** 2 + (v - cy) ** 2 <= radius**2


def _on_envelope(u: float, v: float, stroke: float = 0.035) -> bool:
    left, right, top, bottom = 0.22, 0.78, 0.31, 0.69
    if not (left - stroke <= u <= right + stroke and top - stroke <= v <= bottom + stroke):
        return False
    on_edge = min(abs(u - left), abs(u - right), abs(v - top), abs(v - bottom)) <= stroke
    # The flap: from the top corners down to the middle.
    tip_u, tip_v = 0.5, 0.53
    on_flap = any(_near_segment(u, v, corner, top, tip_u, tip_v, stroke) for corner in (left, right))
    return on_edge or on_flap


def _near_segment(u, v, u1, v1, u2, v2, width) -> bool:
    du, dv = u2 - u1, v2 - v1
    t = min(max(((u - u1) * du + (v - v1) * dv) / (du * du + dv * dv), 0.0), 1.0)
    return (u - u1 - t * du) ** 2 + (v - v1 - t * dv) ** 2 <= width**2


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
