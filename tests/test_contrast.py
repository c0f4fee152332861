"""Colour contrast of the member pages, computed from the CSS they load (WCAG 2.1 relative luminance):
an empty checkbox's border against the page (1.4.11, 3:1), the language switcher's text on the header (1.4.3,
4.5:1)."""

import re
from pathlib import Path

from django.conf import settings

STATIC = Path(settings.BASE_DIR) / "static"
SITE_CSS = (STATIC / "subscribers" / "site.css").read_text()
BOOTSTRAP_CSS = (STATIC / "vendor" / "bootstrap" / "bootstrap.min.css").read_text()


def luminance(hex_colour: str) -> float:
    hex_colour = hex_colour.lstrip("#")
    if len(hex_colour) == 3:
        hex_colour = "".join(c * 2 for c in hex_colour)
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def bootstrap_variable(name: str) -> str:
    root = re.search(r":root,\[data-bs-theme=light\]\{([^}]*)\}", BOOTSTRAP_CSS).group(1)
    return re.search(rf"--bs-{name}:(#[0-9a-fA-F]{{3,6}})", root).group(1)


def site_declaration(selector: str, prop: str) -> str:
    """The last value site.css gives `prop` in a rule for exactly `selector` (what the browser applies,
    site.css loading after Bootstrap)."""
    values = re.findall(
        rf"(?:^|\}})\s*{re.escape(selector)}\s*\{{[^}}]*?{re.escape(prop)}:\s*(#[0-9a-fA-F]{{3,6}})", SITE_CSS, re.M
    )
    assert values, f"site.css sets no {prop} for {selector}"
    return values[-1]


def test_the_contrast_formula_matches_wcag():
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#dee2e6", "#fff"), 2) == 1.3  # Bootstrap's default checkbox border


def test_an_empty_checkbox_border_reaches_3_to_1_on_the_page():
    border = site_declaration(".form-check-input", "border-color")
    assert contrast(border, bootstrap_variable("body-bg")) >= 3.0


def test_the_language_switcher_reaches_4_5_to_1_on_the_header():
    text = site_declaration(".language-switcher .btn-link", "--bs-btn-color")
    assert contrast(text, bootstrap_variable("tertiary-bg")) >= 4.5
