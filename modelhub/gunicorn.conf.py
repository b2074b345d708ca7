"""How run.sh (and the serving benchmark) run gunicorn: `gunicorn -c modelhub/gunicorn.conf.py`.

Threaded workers, because a file transfer holds its thread for as long as it lasts (a sync worker would
be killed by `timeout` in the middle of a long pull); /hub requests get a pool of their own at a lower
CPU priority (modelhub.webserver), so pulls do not take the admin's threads or CPU. Files go out with
sendfile(2). Environment: MODELHUB_WEB_WORKERS (processes, default 2), MODELHUB_WEB_THREADS (threads for
the admin and everything but /hub, default 8), MODELHUB_HUB_THREADS (threads for /hub per process,
default 32: the pulls each process serves at once), MODELHUB_HUB_NICE (how much lower the /hub threads'
priority is, 0-19, default 10).
"""

from modelhub import env

wsgi_app = "modelhub.wsgi"
worker_class = "modelhub.webserver.HubThreadWorker"
workers = env.integer("MODELHUB_WEB_WORKERS", 2, minimum=1, maximum=64)
threads = env.integer("MODELHUB_WEB_THREADS", 8, minimum=1, maximum=256)
# No `sendfile` here: gunicorn reads any value of that setting, True included, as "disabled" (it exists as
# --no-sendfile); left unset, files go out with sendfile(2). tests/serving/test_webserver.py checks it.
graceful_timeout = 10
