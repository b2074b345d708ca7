"""Signals for in-process consumers (webhooks, metrics, a project's own code). Both are sent by
downloads.jobs.lifecycle, where every transition happens, once the transition's transaction commits
(a receiver that reads the database sees the new state; a rolled back transition sends nothing).

    from downloads.signals import download_finished

    @receiver(download_finished)
    def load_model(sender, job, **kwargs):
        if job.state == "succeeded": ...
"""

import django.dispatch

# A job reached an end state (succeeded, failed, cancelled). kwargs: job (the DownloadJob, refreshed).
download_finished = django.dispatch.Signal()

# A variant's status changed. kwargs: variant, previous (the old status), status (the new one).
variant_status_changed = django.dispatch.Signal()
