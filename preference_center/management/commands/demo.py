import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from interests.models import RemoteInterest
from interests.services import interests_regroup
from subscribers.selectors import mailable_subscribers
from subscribers.tokens import one_click_url, preference_url
from sync.services.discovery import interests_discover
from sync.services.roster import roster_pull

ADMIN_USERNAME = "admin"
# How the demo's interests read on the form the first time (staff change all of it in the admin).
DEMO_FORM = {
    ("ud_EmailPrefs", "NEWSLETTER"): ("News", "The monthly newsletter"),
    ("ud_EmailPrefs", "EVENTS"): ("Events", "Events, meetings and the annual conference"),
    ("ud_EmailPrefs", "ADVOCACY_ALERT"): ("News", "Advocacy alerts"),
    ("UD_Topics", "Research_Digest"): ("Professional topics", "Research digest"),
    ("UD_Topics", "CE_Credits"): ("Professional topics", "Continuing education"),
    ("UD_Topics", "Volunteering"): ("Professional topics", "Volunteer opportunities"),
}


class Command(BaseCommand):
    help = "Prepare the embedded demo: an admin login, interests from the sandbox, members and their links."

    def add_arguments(self, parser):
        parser.add_argument("--links", type=int, default=3, help="how many personal links to print")

    def handle(self, *args, links, **options):
        password = self._admin_password()
        first_run = not RemoteInterest.objects.exists()
        run = interests_discover()
        if not run.ok:
            self.stderr.write(f"Discovery failed: {run.error}")
        if first_run:
            self._show_demo_interests()
        pull = roster_pull()
        if not pull.ok:
            self.stderr.write(f"Roster pull failed: {pull.error}")

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Preference center demo"))
        self.stdout.write(f"  Admin:    {settings.SITE_URL}/admin/   user {ADMIN_USERNAME}   password {password}")
        self.stdout.write("  Personal links (what a mailing would carry for these demo members):")
        for subscriber in mailable_subscribers()[:links]:
            self.stdout.write(f"    {subscriber.imis_id}  {subscriber.email}")
            self.stdout.write(f"      form:      {preference_url(subscriber)}")
            self.stdout.write(f"      one-click: {one_click_url(subscriber)}")
        self.stdout.write("  Mail (lost-link requests) is printed on this console.")
        self.stdout.write("")

    def _show_demo_interests(self):
        for position, ((table, field), (group, label)) in enumerate(DEMO_FORM.items(), start=1):
            RemoteInterest.objects.filter(table_name=table, field_name=field).update(
                visible=True, group=group, label=label, position=position
            )
        interests_regroup()  # each group's interests together, as the form shows them

    def _admin_password(self):
        """One password per installation, kept in var/ so that every run prints the same login."""
        path = settings.VAR_DIR / "admin-password.txt"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(12))
            path.chmod(0o600)
        password = path.read_text().strip()
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=ADMIN_USERNAME, defaults={"email": "admin@localhost"})
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        return password
