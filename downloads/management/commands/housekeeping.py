"""python manage.py housekeeping [--json]: one pass of what the workers' schedule does every minute.

For cron and for tests: the django-q2 schedule is minute-grained, and a deployment whose workers are
all down still wants its lost jobs reaped. Reaps jobs whose worker stopped sending heartbeats, or whose
process on this host is gone (and queues their next attempt, which resumes the partial files), hands
tasks the broker lost to it again, and fills free download slots.
"""


from downloads import services
from modelhub.commands import ModelHubCommand, print_json


class Command(ModelHubCommand):
    help = ("Reap jobs whose worker died (and re-queue them), re-send tasks the broker lost, fill free "
            "download slots: once, now.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    def handle(self, *args, **opts):
        # Not services.worker_seen(): a cron run is not a worker, and /healthz must still notice when
        # no qcluster is running.
        result = services.housekeeping()
        if opts["json"]:
            print_json(self.stdout, result)
            return
        for key, label in (("reaped", "lost (worker died) and re-queued"),
                           ("redispatched", "re-sent to the broker"),
                           ("dispatched", "handed to the workers")):
            ids = result[key]
            self.stdout.write(f"{label}: {', '.join(map(str, ids)) if ids else 'none'}")
