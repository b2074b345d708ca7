"""python manage.py retry JOB_ID... [--wait]: a fresh attempt at finished jobs (failed or cancelled)."""

from django.core.management.base import CommandError

from downloads import services
from downloads.admin.presenters import job_dict
from downloads.management.commands.cancel import load_jobs
from downloads.management.progress import run_here
from downloads.models import JobOrigin, JobState
from modelhub.commands import ModelHubCommand, print_json


class Command(ModelHubCommand):
    help = ("Queue a new attempt of each job (resuming its partial files); an active job is joined, not "
            "duplicated. With --wait, run the attempts here (or follow the worker that took them).")

    def add_arguments(self, parser):
        parser.add_argument("job_ids", nargs="+", type=int, metavar="JOB_ID")
        parser.add_argument("--wait", action="store_true", help="run the new attempts here and wait for them")
        parser.add_argument("--json", action="store_true", help="print a JSON list on stdout")

    def handle(self, *args, **opts):
        as_json = opts["json"]
        rows, failed = [], False
        for old in load_jobs(opts["job_ids"], as_json=as_json, stdout=self.stdout):
            job, joined = services.retry(old, origin=JobOrigin.COMMAND)
            if opts["wait"]:
                job = run_here(job, as_json=as_json, stderr=self.stderr)
                failed |= job.state != JobState.SUCCEEDED
            job.refresh_from_db()
            rows.append({**job_dict(job, verification=False), "retry_of": old.pk, "joined": joined})
            if not as_json:
                how = f"joined active job {job.pk}" if joined else f"job {job.pk}"
                self.stdout.write(f"job {old.pk} ({old.variant}): {how}, {job.state}"
                                  + (f" ({job.error_code})" if job.error_code else ""))
        if as_json:
            print_json(self.stdout, rows)
        if failed:
            raise CommandError("some retried jobs did not succeed", returncode=1)
