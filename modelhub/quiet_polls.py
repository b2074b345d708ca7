"""No access-log line per progress poll.

Every open admin page asks the progress endpoint every 1.5 s while something downloads (5 s when idle):
one access-log line each would bury everything else in gunicorn's and runserver's logs. Successful polls
are dropped; a poll that fails (403, 500, a redirect to the login page) is still logged, since that is
worth seeing. Installed on gunicorn's access logger by modelhub/wsgi.py, and on runserver's
`django.server` logger by settings.LOGGING.
"""

import logging

# The end of the progress endpoint's path (downloads.admin.jobs: admin:downloads_downloadjob_progress);
# a suffix, so a SCRIPT_NAME prefix in front of the admin does not matter.
POLL_SUFFIX = "/downloads/downloadjob/progress/"


def is_quiet(path: str, status) -> bool:
    """A successful progress poll: not worth a log line."""
    path = (path or "").split("?", 1)[0]
    return path.endswith(POLL_SUFFIX) and str(status).strip()[:3] in ("200", "304")


class QuietPolls(logging.Filter):
    """Drops the log records of successful polls, from gunicorn (`record.args` is its dict of access-log
    atoms: U path, s status) and from runserver (`'"%s" %s %s'` with the request line and status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict):
            return not is_quiet(str(args.get("U", "")), args.get("s", ""))
        if isinstance(args, tuple) and len(args) >= 2:
            words = str(args[0]).split()
            return not (len(words) >= 2 and is_quiet(words[1], args[1]))
        return True


def install() -> None:
    """On gunicorn's access logger (harmless where gunicorn does not run)."""
    access = logging.getLogger("gunicorn.access")
    if not any(isinstance(f, QuietPolls) for f in access.filters):
        access.addFilter(QuietPolls())
