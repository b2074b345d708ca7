"""What both model admins share: who may start downloads, and the live-progress script and styles."""

import time

from django import forms
from django.forms.widgets import Script
from django.urls import reverse

from downloads.admin import actions


class LiveProgressMixin:
    """Shared by both admins: who may start downloads, and the progress script + styles."""

    def has_download_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(actions.PERMISSION)

    @property
    def media(self):
        # defer: the script reads the page after parsing; the URL travels on the script tag, and so does
        # the moment the page was made: jobs created after it (anywhere) are news to this page.
        live = forms.Media(
            css={"all": ["downloads/admin.css", "downloads/jobs.css"]},
            js=[Script("downloads/progress.js", defer=True,
                       **{"data-progress-url": reverse("admin:downloads_downloadjob_progress"),
                          "data-since": f"{time.time():.3f}"})],
        )
        return super().media + live
