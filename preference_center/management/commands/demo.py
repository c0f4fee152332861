import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Prepare the embedded demo: an admin login, interests from the sandbox, members and their links."

    def handle(self, *args, **options):
        password = self._admin_password()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Preference center demo"))
        self.stdout.write(f"  Admin:    {settings.SITE_URL}/admin/   user {ADMIN_USERNAME}   password {password}")

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
