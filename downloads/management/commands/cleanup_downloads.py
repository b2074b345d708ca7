"""python manage.py cleanup_downloads [--dry-run] [--older-than HOURS] [--json]: free leftover space."""

from django.core.management.base import CommandError

from downloads.storage.cleanup import DEFAULT_OLDER_THAN_HOURS, clean_older_than, cleanup_storage
from modelhub.commands import ModelHubCommand, invalid, print_json
from modelhub.sizes import format_size


class Command(ModelHubCommand):
    help = ("Remove stale partial downloads (no active job, older than --older-than hours), blobs nothing "
            "links to or uses, snapshot links to missing blobs and stale lock files, in the storage "
            "folder only.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="list what would be removed, remove nothing")
        # A string, checked in handle(): argparse's float() takes 'nan' and 'inf', and its own error would
        # bypass the --json answer.
        parser.add_argument("--older-than", default=str(DEFAULT_OLDER_THAN_HOURS), metavar="HOURS",
                            help="partials younger than this are kept "
                                 f"(default {DEFAULT_OLDER_THAN_HOURS:g})")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        as_json = opts["json"]
        try:
            hours = clean_older_than(opts["older_than"])
        except ValueError as exc:
            raise invalid(f"--older-than: {exc}", as_json=as_json, stdout=self.stdout) from None
        report = cleanup_storage(older_than_hours=hours, dry_run=opts["dry_run"])
        if as_json:
            print_json(self.stdout, report.as_dict())
        else:
            verb = "would remove" if report.dry_run else "removed"
            for item in report.removed:
                size = f" {format_size(item.size)}" if item.size else ""
                self.stdout.write(f"{verb} {item.kind:<13} {item.path}{size}  ({item.detail})")
            for item in report.skipped:
                self.stdout.write(f"kept {item.kind:<13} {item.path}  ({item.detail})")
            for error in report.errors:
                self.stdout.write(f"ERROR {error}")
            total = "would free" if report.dry_run else "freed"
            self.stdout.write(f"{len(report.removed)} item(s), {total} {format_size(report.bytes_freed)} "
                              f"in {report.storage_dir}")
        if report.errors:
            raise CommandError("some files could not be removed", returncode=1)
