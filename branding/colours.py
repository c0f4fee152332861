"""Colour contrast as WCAG 2.1 computes it (relative luminance), for the brand's primary colour: white text
sits on it in buttons, and it is the colour of links and outlined buttons on the white page."""

from __future__ import annotations

import re

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE = "#ffffff"
AA_NORMAL_TEXT = 4.5


def channels(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luminance(hex_colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in channels(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def shade(hex_colour: str, amount: float) -> str:
    """The colour mixed with `amount` of black (Bootstrap's hover and active buttons: 15 % and 20 %)."""
    return "#" + "".join(f"{round(c * (1 - amount)):02x}" for c in channels(hex_colour))


def colour_normalised(text: str) -> str:
    """'#1F4E79', '1f4e79' -> '#1f4e79' (anything else is returned stripped, for colour_problem to refuse)."""
    text = (text or "").strip().lower()
    return f"#{text}" if re.fullmatch(r"[0-9a-f]{6}", text) else text


def colour_problem(colour: str) -> str | None:
    """Why `colour` cannot be the primary colour, for staff, or None: it must be #rrggbb, and white button
    text on it must reach WCAG AA's 4.5:1 (so do links in it on the white page)."""
    if not HEX_COLOUR.match(colour):
        return "Write the colour as #RRGGBB, e.g. #1f4e79."
    ratio = contrast(WHITE, colour)
    if ratio < AA_NORMAL_TEXT:
        shown = int(ratio * 100) / 100  # never rounded up to the threshold it misses
        return (
            f"White button text on {colour} has a contrast of {shown:.2f}:1; WCAG AA needs at least "
            f"{AA_NORMAL_TEXT}:1 for text. Choose a darker colour."
        )
    return None
