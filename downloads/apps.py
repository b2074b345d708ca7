import gc

from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "downloads"
    verbose_name = "Downloads"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        post_spawn.connect(_worker_spawned, dispatch_uid="modelhub-worker-spawned")
        # Start-up is over (this app is the last one in INSTALLED_APPS). What it built lives for good:
        # freeze it, so the collector skips it from now on, and resume the GC manage.py paused.
        gc.freeze()
        gc.enable()


def _worker_spawned(sender, proc_name=None, **kwargs) -> None:
    # A new worker reports at once, so /healthz doesn't wait for the first housekeeping run.
    from downloads import services

    try:
        services.worker_seen("spawn")
    except Exception:  # noqa: BLE001 - a failed beat must never stop a worker from starting
        import logging

        logging.getLogger(__name__).warning("could not record worker heartbeat", exc_info=True)
