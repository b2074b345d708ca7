"""python manage.py check_updates [--json]: is a newer commit upstream for installed variants?"""


from downloads.updates import check_updates
from modelhub.commands import ModelHubCommand, print_json


class Command(ModelHubCommand):
    help = ("Ask the Hub where each installed variant's branch or tag points now and record it; variants "
            "pinned to a commit are skipped. Errors are reported per variant.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        results = check_updates()
        if opts["json"]:
            print_json(self.stdout, [r.as_dict() for r in results])
            return
        if not results:
            self.stdout.write("No installed variants.")
        for r in results:
            if r.skipped:
                line = f"skipped: {r.skipped}"
            elif r.error_code:
                line = f"ERROR {r.error_code}: {r.error_message}"
            elif r.update_available:
                line = f"UPDATE {r.commit[:12]} -> {r.upstream_commit[:12]}"
            else:
                line = f"up to date ({r.commit[:12]})"
            self.stdout.write(f"{r.variant_id:>4}  {r.variant}  {line}")
