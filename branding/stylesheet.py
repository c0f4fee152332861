"""The brand's stylesheet: Bootstrap's primary colour replaced by the association's. A route of ours serves
it (the member pages' Content-Security-Policy allows stylesheets from the site only, no inline style); its
URL carries the colour and a digest of this template, so it is cached for good and changes with either."""

from __future__ import annotations

import hashlib

from .colours import channels, shade

_TEMPLATE = """\
:root {
  --bs-primary: $c; --bs-primary-rgb: $rgb;
  --bs-link-color: $c; --bs-link-color-rgb: $rgb;
  --bs-link-hover-color: $hover; --bs-link-hover-color-rgb: $hover_rgb;
}
.btn-primary {
  --bs-btn-bg: $c; --bs-btn-border-color: $c;
  --bs-btn-hover-bg: $hover; --bs-btn-hover-border-color: $hover;
  --bs-btn-active-bg: $active; --bs-btn-active-border-color: $active;
  --bs-btn-disabled-bg: $c; --bs-btn-disabled-border-color: $c;
  --bs-btn-focus-shadow-rgb: $rgb;
}
.btn-outline-primary {
  --bs-btn-color: $c; --bs-btn-border-color: $c;
  --bs-btn-hover-bg: $c; --bs-btn-hover-border-color: $c;
  --bs-btn-active-bg: $active; --bs-btn-active-border-color: $active;
  --bs-btn-disabled-color: $c; --bs-btn-disabled-border-color: $c;
  --bs-btn-focus-shadow-rgb: $rgb;
}
.form-check-input:checked { background-color: $c; border-color: $c; }
.form-check-input:focus, .form-control:focus { border-color: $c; box-shadow: 0 0 0 .25rem rgba($rgb, .25); }
.site-header { border-top: .3rem solid $c; }
"""
VERSION = hashlib.sha256(_TEMPLATE.encode()).hexdigest()[:8]


def _rgb(hex_colour: str) -> str:
    return ", ".join(str(c) for c in channels(hex_colour))


def brand_css(colour: str) -> str:
    """The stylesheet for `colour` ("#rrggbb")."""
    hover, active = shade(colour, 0.15), shade(colour, 0.2)
    values = {"$hover_rgb": _rgb(hover), "$hover": hover, "$active": active, "$rgb": _rgb(colour), "$c": colour}
    css = _TEMPLATE
    for name, value in values.items():  # longest names first: "$hover_rgb" before "$hover"
        css = css.replace(name, value)
    return css
