"""python manage.py delete_files VARIANT_ID... [--dry-run] [--json]: delete variants' files from disk."""

from django.core.management.base import CommandError

from downloads.models import ModelVariant
from downloads.storage import delete
from modelhub.commands import ModelHubCommand, print_json, rows_by_id
from modelhub.sizes import format_size


class Command(ModelHubCommand):
    help = ("Delete the files of variants from the storage folder, keeping whatever another variant or "
            "snapshot still uses; the variants become 'not downloaded'. Refused while a job is active.")

    def add_arguments(self, parser):
        parser.add_argument("variant_ids", nargs="+", type=int, metavar="VARIANT_ID")
        parser.add_argument("--dry-run", action="store_true", help="show what would be deleted")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        as_json = opts["json"]
        variants = rows_by_id(ModelVariant.objects.all(), opts["variant_ids"], "variant", as_json=as_json,
                              stdout=self.stdout)
        if opts["dry_run"]:
            plans = delete.plan_delete(variants).variants
        else:
            plans = [delete.delete_variant_files(v) for v in variants]
        if as_json:
            print_json(self.stdout, {"dry_run": opts["dry_run"],
                                     "bytes_freed": sum(p.bytes_freed for p in plans if not p.refused),
                                     "variants": [p.as_dict() for p in plans]})
        else:
            for plan in plans:
                self._print(plan, opts["dry_run"])
        if any(p.refused or p.errors for p in plans):
            raise CommandError("some files were not deleted", returncode=1)

    def _print(self, plan, dry_run: bool) -> None:
        if plan.refused:
            self.stdout.write(f"REFUSED {plan.variant}: {plan.refused}")
            return
        verb = "would free" if dry_run else "freed"
        self.stdout.write(f"{plan.variant}: {verb} {format_size(plan.bytes_freed)}")
        for r in plan.removals:
            self.stdout.write(f"  {'would remove' if dry_run else 'removed'} {r.kind:<6} {r.path}"
                              f"{'  ' + format_size(r.size) if r.size else ''}")
        for why in plan.kept:
            self.stdout.write(f"  kept {why}")
        for error in plan.errors:
            self.stdout.write(f"  ERROR {error}")
