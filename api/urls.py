"""/api/v1/: the resources, the OpenAPI schema (openapi.json) and its interactive docs (docs/)."""

from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from api.errors import not_found
from api.views import actions, job_actions, jobs, settings, storage, variants
from engine.selection import is_db_id


class DbId:
    """A path id a row could have: a larger number would overflow the database's integer (a 500); as
    this converter does not match it, the URL answers the API's JSON 404 instead."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not is_db_id(number):
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(DbId, "dbid")

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("variants/", variants.VariantList.as_view(), name="api-variants"),
    path("variants/<dbid:pk>/", variants.VariantDetail.as_view(), name="api-variant"),
    path("variants/<dbid:pk>/download/", actions.Download.as_view(), name="api-variant-download"),
    path("variants/<dbid:pk>/cancel/", actions.CancelVariant.as_view(), name="api-variant-cancel"),
    path("variants/<dbid:pk>/retry/", actions.RetryVariant.as_view(), name="api-variant-retry"),
    path("variants/<dbid:pk>/verify/", actions.Verify.as_view(), name="api-variant-verify"),
    path("variants/<dbid:pk>/repair/", actions.Repair.as_view(), name="api-variant-repair"),
    path("variants/<dbid:pk>/delete-files/", actions.DeleteFiles.as_view(), name="api-variant-delete-files"),
    path("lookup/", variants.Lookup.as_view(), name="api-lookup"),
    path("jobs/", jobs.JobList.as_view(), name="api-jobs"),
    path("jobs/<dbid:pk>/", jobs.JobDetail.as_view(), name="api-job"),
    path("jobs/<dbid:pk>/cancel/", job_actions.CancelJob.as_view(), name="api-job-cancel"),
    path("jobs/<dbid:pk>/retry/", job_actions.RetryJob.as_view(), name="api-job-retry"),
    path("jobs/<dbid:pk>/pause/", job_actions.PauseJob.as_view(), name="api-job-pause"),
    path("jobs/<dbid:pk>/resume/", job_actions.ResumeJob.as_view(), name="api-job-resume"),
    path("storage/", storage.Storage.as_view(), name="api-storage"),
    path("storage/cleanup/", storage.Cleanup.as_view(), name="api-storage-cleanup"),
    path("settings/", settings.Settings.as_view(), name="api-settings"),
    re_path(r"^.*$", not_found),
]
