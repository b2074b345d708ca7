"""Webhook fixtures: a receiver on 127.0.0.1, Settings pointing at it with a secret, django-q in-process."""

import pytest

from settings_app.models import Setting
from tests.webhooks.receiver import Receiver
from webhooks import config

SECRET = "whsec-test-0123456789abcdefXY12"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def point_webhooks_at(*urls: str, secret: str = SECRET) -> Setting:
    setting = Setting.load()
    setting.webhook_urls = "\n".join(urls)
    config.set_secret(setting, secret)
    setting.save()
    return setting


@pytest.fixture
def sync_queue(monkeypatch):
    """django-q runs each async_task at once in this process (Q_CLUSTER sync), as a worker would."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def quick_webhooks(settings):
    settings.MODELHUB_WEBHOOK_RETRY_DELAY = 0.2
    settings.MODELHUB_WEBHOOK_TIMEOUT = 2.0
    settings.MODELHUB_WEBHOOK_ATTEMPTS = 3

from tests.downloads.admin.browser import browser, login, sized_page  # noqa: E402, F401 - browser fixtures
