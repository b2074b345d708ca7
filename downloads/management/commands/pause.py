"""python manage.py pause JOB_ID...: stop downloads keeping their partial files, to resume later."""

from downloads.jobs import control
from downloads.management.commands.cancel import apply_to_jobs
from modelhub.commands import ModelHubCommand


class Command(ModelHubCommand):
    help = ("Pause jobs: a queued job at once, a running one within about a second. The partial files stay "
            "on disk and `manage.py resume JOB_ID` continues from them (cancel, by contrast, ends the job).")

    def add_arguments(self, parser):
        parser.add_argument("job_ids", nargs="+", type=int, metavar="JOB_ID")
        parser.add_argument("--json", action="store_true", help="print a JSON list on stdout")

    def handle(self, *args, **opts):
        apply_to_jobs(self.stdout, opts, control.pause)
