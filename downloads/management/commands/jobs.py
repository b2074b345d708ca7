"""python manage.py jobs [--active] [--json]: download, repair and verify jobs, newest first."""


from downloads.admin.presenters import job_dict
from downloads.jobs.queue import QueueSnapshot
from downloads.models import DownloadJob, JobState
from modelhub.commands import ModelHubCommand, check_count, print_json
from modelhub.sizes import format_size


class Command(ModelHubCommand):
    help = "List jobs, newest first: state, attempt, progress and the error of failed ones."

    def add_arguments(self, parser):
        parser.add_argument("--active", action="store_true", help="only queued, running and verifying jobs")
        parser.add_argument("--limit", type=int, default=0, metavar="N", help="at most N jobs (default: all)")
        parser.add_argument("--json", action="store_true", help="print a JSON list on stdout")

    def handle(self, *args, **opts):
        limit = check_count(opts["limit"], "--limit", as_json=opts["json"], stdout=self.stdout)
        jobs = DownloadJob.objects.select_related("variant").order_by("-created_at", "-id")
        if opts["active"]:
            jobs = jobs.active()
        if limit:
            jobs = jobs[:limit]
        queue = QueueSnapshot.take()
        rows = [{**job_dict(job, verification=False), "queue": queue.explain(job)} for job in jobs]
        if opts["json"]:
            print_json(self.stdout, rows)
            return
        if not rows:
            self.stdout.write("No active jobs." if opts["active"] else "No jobs yet.")
        for r in rows:
            error = f"  {r['error_code']}" if r["error_code"] else ""
            if r["state"] == JobState.QUEUED and r["queue"]:  # why it waits, its place, its size
                error = f"  ({r['queue']['text']})"
            self.stdout.write(
                f"{r['job_id']:>5}  {r['state']:<9} {r['kind']:<8} #{r['attempt']} {r['percent']:5.1f}% "
                f"{format_size(r['bytes_done']):>10}  {r['repo_id']}@{r['revision']}{error}")
