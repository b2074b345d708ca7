"""/hub: what huggingface_hub and the `hf` CLI call when HF_ENDPOINT points here."""

from django.urls import path, re_path

from serving.views import api, files

app_name = "serving"

urlpatterns = [
    path("api/whoami-v2", api.whoami, name="whoami"),
    path("api/agent-harnesses", api.agent_harnesses, name="agent-harnesses"),
    re_path(r"^api/(?P<kind>models|datasets|spaces)/(?P<rest>.+)$", api.api, name="api"),
    # Everything else is a file: [datasets/]org/name/resolve/revision/path (paths may hold anything).
    re_path(r"^(?P<rest>.+)$", files.resolve, name="resolve"),
]
