"""python manage.py resume JOB_ID... [--wait]: queue paused jobs again; they continue from their partials."""

from django.core.management.base import CommandError

from downloads.admin.presenters import job_dict
from downloads.jobs import control
from downloads.management.commands.cancel import load_jobs
from downloads.management.progress import run_here
from downloads.models import JobState
from modelhub.commands import ModelHubCommand, print_json


class Command(ModelHubCommand):
    help = ("Resume paused jobs: the same job is queued again and downloads only what its partial files "
            "lack. With --wait, run it here (after waiting for a free download slot).")

    def add_arguments(self, parser):
        parser.add_argument("job_ids", nargs="+", type=int, metavar="JOB_ID")
        parser.add_argument("--wait", action="store_true", help="run the resumed jobs here and wait for them")
        parser.add_argument("--json", action="store_true", help="print a JSON list on stdout")

    def handle(self, *args, **opts):
        as_json, rows, failed = opts["json"], [], False
        for job in load_jobs(opts["job_ids"], as_json=as_json, stdout=self.stdout):
            outcome = control.resume(job, run_here=opts["wait"])
            job.refresh_from_db()
            if opts["wait"] and job.state == JobState.QUEUED:
                job = run_here(job, as_json=as_json, stderr=self.stderr)
                failed |= job.state != JobState.SUCCEEDED
            failed |= outcome.startswith("not ")
            job.refresh_from_db()
            rows.append({**job_dict(job, verification=False), "result": outcome})
            if not as_json:
                self.stdout.write(f"job {job.pk} ({job.variant}): {outcome}, now {job.state}")
        if as_json:
            print_json(self.stdout, rows)
        if failed:
            raise CommandError("some jobs were not resumed or did not succeed", returncode=1)
