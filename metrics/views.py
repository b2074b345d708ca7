"""GET /metrics: the Prometheus text format, read from the database at scrape time (metrics.collector)."""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from metrics import access
from metrics.collector import ModelHubCollector

# A registry of our own: the default one carries this process's own counters (and process_* metrics),
# which differ from one gunicorn worker to the next.
REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(ModelHubCollector())


@never_cache
@require_safe
def metrics(request):
    if (refused := access.refusal(request)) is not None:
        return refused
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
