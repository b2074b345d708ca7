"""Reading /metrics: the page parsed with prometheus-client's own parser."""

import pytest
from django.contrib.auth.models import Permission
from prometheus_client.parser import text_string_to_metric_families

from serving import tokens


def samples(response) -> dict:
    """{(sample name, frozenset of labels): value} from a /metrics response."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(parsed: dict, name: str, **labels) -> float:
    return parsed[(name, frozenset(labels.items()))]


@pytest.fixture
def scraper(django_user_model):
    """A user (not staff) allowed to read /metrics, and their API token."""
    user = django_user_model.objects.create_user("prometheus", password="scraper-Secret-123")
    user.user_permissions.add(Permission.objects.get(codename="view_metrics"))
    return tokens.create(user, name="prometheus")[1]
