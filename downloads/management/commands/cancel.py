"""python manage.py cancel JOB_ID...: cancel jobs (queued ones at once, running ones within ~1 s)."""


from downloads import services
from downloads.admin.presenters import job_dict
from downloads.models import DownloadJob
from modelhub.commands import ModelHubCommand, print_json, rows_by_id


class Command(ModelHubCommand):
    help = ("Cancel jobs: a queued job (or one whose worker died) at once; a running one is asked to stop "
            "and does within about a second. Partial files are kept for a later resume.")

    def add_arguments(self, parser):
        parser.add_argument("job_ids", nargs="+", type=int, metavar="JOB_ID")
        parser.add_argument("--json", action="store_true", help="print a JSON list on stdout")

    def handle(self, *args, **opts):
        apply_to_jobs(self.stdout, opts, services.cancel)


def apply_to_jobs(stdout, opts: dict, action) -> None:
    """`cancel` and `pause`: `action(job)` on each job given, then one line (or JSON row) per job with
    the outcome the action returned."""
    rows = []
    for job in load_jobs(opts["job_ids"], as_json=opts["json"], stdout=stdout):
        outcome = action(job)
        job.refresh_from_db()
        rows.append({**job_dict(job, verification=False), "result": outcome})
        if not opts["json"]:
            stdout.write(f"job {job.pk} ({job.variant}): {outcome}")
    if opts["json"]:
        print_json(stdout, rows)


def load_jobs(ids: list[int], *, as_json: bool, stdout) -> list[DownloadJob]:
    """The jobs in the order given; unknown ids are an input error (exit status 2) before anything changes."""
    return rows_by_id(DownloadJob.objects.select_related("variant"), ids, "job", as_json=as_json,
                      stdout=stdout)
