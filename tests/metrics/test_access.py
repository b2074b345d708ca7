"""/metrics is refused without a token, with a wrong one, with a token lacking the permission and from an
address outside MODELHUB_METRICS_ALLOW; accepted with a permitted token, an allowed address or as staff."""

import ipaddress
import logging

import pytest

from serving import tokens
from tests.metrics.conftest import samples

pytestmark = pytest.mark.django_db


def get(client, token: str | None = None, address: str = "127.0.0.1"):
    extra = {"REMOTE_ADDR": address}
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get("/metrics", **extra)


@pytest.fixture
def allow(settings):
    settings.MODELHUB_METRICS_ALLOW = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


def test_refused_without_token_or_with_a_wrong_one(client, allow, caplog):
    caplog.set_level(logging.DEBUG)
    response = get(client)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    text = response.content.decode()
    assert "MODELHUB_METRICS_ALLOW" in text and "modelhub_jobs" not in text
    wrong = "mh_not-a-real-token-at-all-0000000000000"
    response = get(client, wrong)
    assert response.status_code == 401 and "refused" in response.content.decode()
    assert wrong not in response.content.decode() and wrong not in caplog.text
    assert get(client, "hf_AHuggingFaceToken").status_code == 401


def test_a_token_without_the_permission_is_forbidden(client, django_user_model):
    user = django_user_model.objects.create_user("bob", password="bob-Secret-123")
    response = get(client, tokens.create(user)[1])
    assert response.status_code == 403 and "Can read /metrics" in response.content.decode()


def test_a_revoked_token_is_refused(client, scraper):
    from serving.models import ApiToken

    tokens.revoke(ApiToken.objects.get())
    assert get(client, scraper).status_code == 401


def test_accepted_with_a_permitted_token(client, scraper):
    assert samples(get(client, scraper, address="192.0.2.7"))


def test_the_allowlist_is_by_the_connections_address(client, allow):
    assert samples(get(client, address="10.1.2.3"))
    assert samples(get(client, address="::ffff:10.9.9.9"))  # dual-stack socket
    assert samples(get(client, address="fd12::5"))
    assert get(client, address="192.168.1.5").status_code == 401
    assert get(client, address="11.0.0.1").status_code == 401
    # X-Forwarded-For is written by the client: it opens nothing.
    forged = client.get("/metrics", REMOTE_ADDR="192.168.1.5", HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert forged.status_code == 401


def test_staff_session_may_read_others_may_not(client, admin_user, django_user_model):
    plain = django_user_model.objects.create_user("carol", password="carol-Secret-123")
    client.force_login(plain)
    assert get(client, address="192.0.2.1").status_code == 401
    client.force_login(admin_user)
    assert samples(get(client, address="192.0.2.1"))


def test_only_reads(client, scraper):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {scraper}")
    assert response.status_code == 405


def test_the_allowlist_variable_is_checked_at_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from modelhub import env

    monkeypatch.setenv("MODELHUB_METRICS_ALLOW", " 10.0.0.0/8, ::1 ,")
    assert env.networks("MODELHUB_METRICS_ALLOW") == (ipaddress.ip_network("10.0.0.0/8"),
                                                      ipaddress.ip_network("::1"))
    for bad in ("10.0.0.1/8", "prometheus.local", "10.0.0.0/33"):
        monkeypatch.setenv("MODELHUB_METRICS_ALLOW", bad)
        with pytest.raises(ImproperlyConfigured, match="MODELHUB_METRICS_ALLOW"):
            env.networks("MODELHUB_METRICS_ALLOW")
