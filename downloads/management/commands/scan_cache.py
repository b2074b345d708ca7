"""python manage.py scan_cache [--path DIR]... [--import] [--copy|--move] [--json]: find and
register caches."""

from pathlib import Path

from django.core.management.base import CommandError

from downloads.storage import discovery, imports
from engine.selection import InvalidInput, require_utf8
from modelhub.commands import ModelHubCommand, invalid, print_json
from modelhub.sizes import format_size


class Command(ModelHubCommand):
    help = ("List the snapshots in the storage folder, the default Hugging Face caches and --path folders, "
            "and which are already registered as variants. --import registers the others (verified); "
            "--copy/--move also bring them into the storage folder. Exit status 1 when an import fails.")

    def add_arguments(self, parser):
        parser.add_argument("--path", action="append", default=[], metavar="DIR", help="another cache folder")
        parser.add_argument("--import", dest="do_import", action="store_true", help="register what was found")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--copy", action="store_true", help="copy into the storage folder (source kept)")
        mode.add_argument("--move", action="store_true", help="move into the storage folder (source removed "
                          "after the copy verified)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        as_json = opts["json"]
        mode = "move" if opts["move"] else "copy" if opts["copy"] else "register"
        if mode != "register" and not opts["do_import"]:
            raise invalid("--copy and --move need --import", as_json=as_json, stdout=self.stdout)
        try:
            for path in opts["path"]:
                # A non-UTF-8 folder name would be stored as the variant's path and break every page
                # and log line showing it.
                require_utf8(path, "--path",
                             "rename the folder, or point at it through a symlink with a UTF-8 name")
        except InvalidInput as exc:
            raise invalid(str(exc), as_json=as_json, stdout=self.stdout) from None
        missing = [p for p in opts["path"] if not Path(p).expanduser().is_dir()]
        if missing:
            raise invalid(f"no such folder: {', '.join(missing)}", as_json=as_json, stdout=self.stdout)
        found = discovery.find_snapshots(opts["path"])
        if not opts["do_import"]:
            if as_json:
                print_json(self.stdout, [f.as_dict() for f in found])
            else:
                self._list(found)
            return
        try:
            results = imports.import_snapshots(found, mode=mode)
        except InvalidInput as exc:
            raise invalid(str(exc), as_json=as_json, stdout=self.stdout) from None
        if as_json:
            print_json(self.stdout, [r.as_dict() for r in results])
        else:
            for r in results:
                variant = f" variant {r.variant_id} ({r.revision})" if r.variant_id else ""
                self.stdout.write(f"{r.outcome.upper():<9} {r.repo_id}@{r.commit[:12]}{variant} "
                                  f"from {r.location}: {r.message}")
        if any(r.outcome in ("failed", "corrupt") for r in results):
            raise CommandError("some snapshots were not imported as installed", returncode=1)

    def _list(self, found) -> None:
        if not found:
            self.stdout.write("No snapshots found.")
        for f in found:
            if f.registered is not None:
                state = f"registered as variant {f.registered.pk}"
            elif f.problems:
                state = "not importable: " + "; ".join(f.problems)
            else:
                state = "new"
            refs = f" ({', '.join(f.refs)})" if f.refs else ""
            self.stdout.write(f"{f.repo_type:<8} {f.repo_id}@{f.commit[:12]}{refs}  {len(f.files)} file(s) "
                              f"{format_size(f.size):>10}  {f.location}  {state}")
