"""python manage.py verify [VARIANT_ID ...] [--all] [--full] [--json]: re-check installed variants."""

from django.core.management.base import CommandError

from downloads import services
from downloads.admin.presenters import job_dict
from downloads.jobs import inline
from downloads.management.progress import ProgressBar
from downloads.models import JobOrigin, JobState, ModelVariant
from engine.errors import ErrorCode
from engine.selection import InvalidInput
from modelhub.commands import ModelHubCommand, invalid, print_json, rows_by_id


class Command(ModelHubCommand):
    help = ("Verify installed variants: fast (presence, size, format, size+mtime fingerprint) or --full "
            "(re-hash every file). Exit status 1 when anything fails.")

    def add_arguments(self, parser):
        parser.add_argument("variant_ids", nargs="*", type=int, metavar="VARIANT_ID")
        parser.add_argument("--all", action="store_true", help="every variant that has been installed")
        parser.add_argument("--full", action="store_true", help="re-hash every file (sha256 / git-sha1)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        as_json = opts["json"]
        if opts["all"]:
            variants = [v for v in ModelVariant.objects.all() if v.installed_files]
        elif opts["variant_ids"]:
            variants = rows_by_id(ModelVariant.objects.all(), opts["variant_ids"], "variant", as_json=as_json,
                                  stdout=self.stdout)
        else:
            raise invalid("name VARIANT_IDs or use --all", as_json=as_json, stdout=self.stdout)

        results, failed = [], False
        for variant in variants:
            try:
                job, joined = services.verify(variant, full=opts["full"], origin=JobOrigin.COMMAND,
                                              run_here=True)
            except InvalidInput as exc:
                results.append({"variant_id": variant.pk, "repo_id": variant.repo_id, "state": "failed",
                                "error_code": ErrorCode.INVALID_INPUT, "error_message": str(exc)})
                failed = True
                continue
            if joined:
                self.stderr.write(f"{variant}: busy with job {job.pk} ({job.kind}, {job.state}); "
                                  "waiting for it")
            job = inline.run_and_follow(job, reporter=None if as_json else ProgressBar(self.stderr._out))
            failed |= job.state != JobState.SUCCEEDED
            results.append(job_dict(job))
            if not as_json:
                self._print(job)
        if as_json:
            print_json(self.stdout, results)
        if failed:
            raise CommandError("verification failed", returncode=1)

    def _print(self, job) -> None:
        report = job.verification or {}
        mark = "OK  " if job.state == JobState.SUCCEEDED else "FAIL"
        self.stdout.write(f"{mark} {job.variant}: {report.get('summary') or job.error_message}")
        for f in report.get("files", []):
            if not f["ok"]:
                self.stdout.write(f"     {f['path']}: {f['reason']}")
