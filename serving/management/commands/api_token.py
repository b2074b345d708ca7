"""python manage.py api_token create USERNAME [--name NAME] [--grant-pull] [--grant-metrics]
                            | list [USERNAME] [--json] | revoke ID_OR_PREFIX

`create` prints the new token as the last line of its output, so a script can take it with `tail -n 1`.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import CommandError

from metrics.models import VIEW_PERMISSION as METRICS_PERMISSION
from modelhub.commands import EXIT_INVALID, ModelHubCommand, print_json
from serving import tokens
from serving.models import PULL_PERMISSION, ApiToken


class Command(ModelHubCommand):
    help = "Create, list and revoke the API tokens other machines use to pull models from /hub."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a user; prints it once, as the last line")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what the token is for, e.g. gpu-node-3")
        create.add_argument("--grant-pull", action="store_true",
                            help="also give the user the permission to pull models")
        create.add_argument("--grant-metrics", action="store_true",
                            help="also give the user the permission to scrape /metrics (for Prometheus)")
        listing = sub.add_parser("list", help="list tokens (never the secret, only its prefix)")
        listing.add_argument("username", nargs="?")
        listing.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="revoke a token by id or by the prefix shown in lists")
        revoke.add_argument("token")

    def handle(self, *args, **o):
        return getattr(self, f"_{o['action']}")(o)

    def _create(self, o) -> None:
        user = _user(o["username"])
        granted = [perm for perm, wanted in ((PULL_PERMISSION, o["grant_pull"]),
                                             (METRICS_PERMISSION, o["grant_metrics"])) if wanted]
        for perm in granted:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                             codename=codename))
        if granted:
            user = _user(o["username"])  # permissions are cached on the instance
        row, plain = tokens.create(user, name=o["name"])
        self.stdout.write(f"Created API token {row.pk} ({row.prefix}…) for {user.get_username()}. "
                          "It is shown once, below; it is not stored.")
        if not user.has_perm(PULL_PERMISSION) and not o["grant_metrics"]:
            self.stdout.write(f"Note: {user.get_username()} may not pull yet: give them 'Can pull models "
                              "through the Hub endpoint' in the admin, or run this again with --grant-pull.")
        self.stdout.write(plain)

    def _list(self, o) -> None:
        rows = ApiToken.objects.select_related("user")
        if o["username"]:
            rows = rows.filter(user=_user(o["username"]))
        data = [{"id": r.pk, "prefix": r.prefix, "user": r.user.get_username(), "name": r.name,
                 "created_at": r.created_at, "last_used_at": r.last_used_at, "revoked_at": r.revoked_at}
                for r in rows]
        if o["json"]:
            print_json(self.stdout, data)
            return
        if not data:
            self.stdout.write("No API tokens yet: python manage.py api_token create USERNAME")
        for d in data:
            state = f"revoked {d['revoked_at']:%Y-%m-%d %H:%M}" if d["revoked_at"] else "active"
            used = f"last used {d['last_used_at']:%Y-%m-%d %H:%M}" if d["last_used_at"] else "never used"
            self.stdout.write(f"{d['id']:>4}  {d['prefix']}…  {d['user']:<16} {state:<24} {used:<28} "
                              f"{d['name']}")

    def _revoke(self, o) -> None:
        key = o["token"].strip()
        if key.isdigit() and len(key) < 18:
            rows = ApiToken.objects.filter(pk=int(key))
        elif len(key.rstrip("…")) >= 5:  # a prefix as lists show it; a shorter one would match too much
            rows = ApiToken.objects.filter(prefix__startswith=key.rstrip("…"))
        else:
            rows = ApiToken.objects.none()
        found = list(rows[:2])
        if len(found) != 1:
            why = "no token" if not found else "more than one token"
            raise CommandError(f"{why} matches {key!r}: give its id or its prefix (api_token list)",
                               returncode=EXIT_INVALID)
        if tokens.revoke(found[0]):
            self.stdout.write(f"Revoked API token {found[0].pk} ({found[0].prefix}…) of {found[0].user}.")
        else:
            self.stdout.write(f"API token {found[0].pk} was already revoked.")


def _user(username: str):
    try:
        return get_user_model().objects.get(**{get_user_model().USERNAME_FIELD: username})
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user {username!r}", returncode=EXIT_INVALID) from None
