"""python manage.py ensure_admin: make sure someone can log in, and say how.

Creates the superuser `admin` (or MODELHUB_ADMIN_USER) with a random password (or
MODELHUB_ADMIN_PASSWORD) when no superuser exists; the password is shown once and kept in
var/admin-password (mode 600) so a new user can find it again.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model

from modelhub.commands import ModelHubCommand


class Command(ModelHubCommand):
    help = "Create the first staff login if none exists, and print how to log in."

    def handle(self, *args, **opts):
        User = get_user_model()
        password_file = settings.VAR_DIR / "admin-password"
        existing = list(User.objects.filter(is_superuser=True, is_active=True)
                        .values_list("username", flat=True))
        if existing:
            hint = f" (first password in {password_file})" if password_file.exists() else ""
            self.stdout.write(f"Log in at /admin/ as {', '.join(existing)}{hint}. "
                              "Forgot it? python manage.py changepassword NAME")
            return
        username = os.environ.get("MODELHUB_ADMIN_USER", "admin")
        password = os.environ.get("MODELHUB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{username}:{password}\n")
        self.stdout.write(self.style.SUCCESS(
            f"Created staff login {username!r} with password {password}  (saved in {password_file})"))
