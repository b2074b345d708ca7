"""python manage.py ensure_admin: make sure someone can log in, and say how.

Creates the superuser `admin` (or MODELHUB_ADMIN_USER) with a random password (or
MODELHUB_ADMIN_PASSWORD) when no superuser exists; the login is kept in var/admin-password (mode 600),
one line `user:password`, so a new user can find it again. run.sh calls it with `--url`: the address
and the login then stand in a box, the one thing to read in the start-up output.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model

from modelhub.commands import ModelHubCommand


def boxed(lines: list[str]) -> str:
    width = max(len(line) for line in lines)
    rule = "─" * (width + 2)
    return "\n".join([f"┌{rule}┐", *(f"│ {line.ljust(width)} │" for line in lines), f"└{rule}┘"])


class Command(ModelHubCommand):
    help = "Create the first staff login if none exists, and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="the admin's address, printed in a box with the login")

    def handle(self, *args, **opts):
        User = get_user_model()
        password_file = settings.VAR_DIR / "admin-password"
        url = opts["url"]
        existing = list(User.objects.filter(is_superuser=True, is_active=True)
                        .values_list("username", flat=True))
        if existing:
            hint = (f"first password in {password_file} (user:password), unless changed since"
                    if password_file.exists() else "forgot it? python manage.py changepassword NAME")
            lines = [f"Log in as {', '.join(existing)}: {hint}."]
            self.stdout.write(boxed([f"ModelHub: open {url}", *lines]) if url else
                              f"Log in at /admin/ as {', '.join(existing)} ({hint}).")
            return
        username = os.environ.get("MODELHUB_ADMIN_USER", "admin")
        password = os.environ.get("MODELHUB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{username}:{password}\n")
        if url:
            self.stdout.write(self.style.SUCCESS(boxed([
                f"ModelHub: open {url}",
                f"First login:  user {username}  password {password}",
                f"Saved in {password_file} (as {username}:<password>, readable by you only).",
                "Change it in the admin: Change password (top right).",
            ])))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"Created staff login {username!r} with password {password}  (saved in {password_file})"))
