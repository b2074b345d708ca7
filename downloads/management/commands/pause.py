"""python manage.py pause JOB_ID...: stop downloads keeping their partial files, to resume later."""

from downloads.admin.presenters import job_dict
from downloads.jobs import control
from downloads.management.commands.cancel import load_jobs
from modelhub.commands import ModelHubCommand, print_json


class Command(ModelHubCommand):
    help = ("Pause jobs: a queued job at once, a running one within about a second. The partial files stay "
            "on disk and `manage.py resume JOB_ID` continues from them (cancel, by contrast, ends the job).")

    def add_arguments(self, parser):
        parser.add_argument("job_ids", nargs="+", type=int, metavar="JOB_ID")
        parser.add_argument("--json", action="store_true", help="print a JSON list on stdout")

    def handle(self, *args, **opts):
        rows = []
        for job in load_jobs(opts["job_ids"], as_json=opts["json"], stdout=self.stdout):
            outcome = control.pause(job)
            job.refresh_from_db()
            rows.append({**job_dict(job, verification=False), "result": outcome})
            if not opts["json"]:
                self.stdout.write(f"job {job.pk} ({job.variant}): {outcome}")
        if opts["json"]:
            print_json(self.stdout, rows)
