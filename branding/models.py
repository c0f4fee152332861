from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from .colours import HEX_COLOUR

# What staff type on the brand's form, and what the logo upload sets.
TEXT_FIELDS = (
    "name",
    "name_fr",
    "primary_colour",
    "intro",
    "intro_fr",
    "contact_email",
    "privacy_url",
    "footer",
    "footer_fr",
)
LOGO_FIELDS = ("logo", "logo_content_type", "logo_sha256")


class Brand(models.Model):
    """The association's brand on the member pages and in the link email, set by staff.

    One row per state: staff edit the draft (previewed, never shown to members) and publish it, which copies
    it onto the published row, the only one members see. Without a published row the pages carry
    settings.ASSOCIATION_NAME and nothing else. Text fields `x_fr` hold the French of `x` (empty: `x`)."""

    class State(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    state = models.CharField(max_length=10, choices=State.choices, unique=True)
    name = models.CharField(
        "association name",
        max_length=200,
        blank=True,
        help_text="At the top of every member page and in the link email. Empty: the ASSOCIATION_NAME setting.",
    )
    name_fr = models.CharField("association name (French)", max_length=200, blank=True)
    # The logo lives in the database, not in media storage: every web host serves it without shared files.
    logo = models.BinaryField(null=True, blank=True, editable=False)
    logo_content_type = models.CharField(max_length=20, blank=True, editable=False)
    logo_sha256 = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    primary_colour = models.CharField(
        max_length=7,
        blank=True,
        validators=[RegexValidator(HEX_COLOUR, "Write the colour as #RRGGBB, e.g. #1f4e79.")],
        help_text="Buttons and links. White text must read on it (WCAG AA, 4.5:1). Empty: the default blue.",
    )
    intro = models.TextField(blank=True, help_text="A few words under the heading of the member's form.")
    intro_fr = models.TextField("intro (French)", blank=True)
    contact_email = models.EmailField("contact address", blank=True, help_text="In the footer of every page.")
    privacy_url = models.URLField("privacy policy link", blank=True)
    footer = models.TextField(blank=True, help_text="More footer text, e.g. the postal address.")
    footer_fr = models.TextField("footer (French)", blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "brand"

    def __str__(self):
        return f"Brand ({self.get_state_display()})"
