"""The admin side of /hub: tokens created (shown once) and revoked, the pull log with bytes served per
variant and per user, and the two Settings that open /hub further (anonymous pulls, on demand)."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from serving import audit, tokens
from serving.models import ApiToken, PullLog
from settings_app.models import Setting
from tests.settings_helpers import change_url, form_data, run_configure

pytestmark = pytest.mark.django_db

ADD = reverse("admin:serving_apitoken_add")
TOKENS = reverse("admin:serving_apitoken_changelist")
PULLS = reverse("admin:serving_pulllog_changelist")


def test_a_token_created_in_the_admin_is_shown_once_and_works(admin_client, admin_user, puller):
    page = admin_client.post(ADD, {"user": puller.pk, "name": "gpu-node-3"})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    plain = re.search(r'id="new-api-token"[^>]*value="(mh_[^"]+)"', page.content.decode()).group(1)
    row = ApiToken.objects.get()
    assert tokens.verify(plain) == row
    assert (row.user, row.name, row.created_by) == (puller, "gpu-node-3", admin_user)
    assert plain not in str(page.cookies) and plain not in page.get("Location", "")
    for url in (TOKENS, reverse("admin:serving_apitoken_change", args=[row.pk])):
        later = admin_client.get(url).content.decode()
        assert row.prefix in later and plain not in later


def test_the_created_page_warns_when_the_user_may_not_pull(admin_client, django_user_model):
    bob = django_user_model.objects.create_user("bob", password="bob-Secret-123")
    page = admin_client.post(ADD, {"user": bob.pk, "name": ""}).content.decode()
    assert "may not pull yet" in page


def test_staff_may_create_tokens_only_for_themselves_without_change_user(client, django_user_model, puller):
    staff = django_user_model.objects.create_user("sam", password="sam-Secret-123", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken"]))
    client.force_login(staff)
    refused = client.post(ADD, {"user": puller.pk, "name": "x"})
    assert refused.status_code == 200 and "only create tokens for yourself" in refused.content.decode()
    assert not ApiToken.objects.exists()
    assert client.post(ADD, {"user": staff.pk, "name": "mine"}).status_code == 200
    assert ApiToken.objects.get().user == staff


def test_revoke_action_and_no_delete(admin_client, puller):
    row, plain = tokens.create(puller)
    admin_client.post(TOKENS, {"action": "revoke_selected", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.revoked_at is not None and tokens.verify(plain) is None
    assert admin_client.get(reverse("admin:serving_apitoken_delete", args=[row.pk])).status_code == 403


def test_pull_log_shows_bytes_per_variant_and_per_user(admin_client, puller):
    from downloads.models import ModelVariant

    variant = ModelVariant.objects.create(repo_id="org/tiny", name="Q4")
    for n in (100, 200):
        PullLog.objects.create(user=puller, variant=variant, repo_type="model", repo_id="org/tiny",
                               path="m.gguf", status=200, bytes_served=n * 1_000_000)
    PullLog.objects.create(repo_type="model", repo_id="org/tiny", path="m.gguf", status=401)
    by_variant = audit.totals(PullLog.objects.all(), "variant")
    assert [(r["variant_id"], r["bytes"], r["pulls"]) for r in by_variant] == [(variant.pk, 300_000_000, 2)]
    page = admin_client.get(PULLS).content.decode()
    assert "Bytes served per variant" in page and "Bytes served per user" in page
    assert "300.0 MB" in page and "alice" in page
    assert admin_client.get(PULLS + f"?user__id__exact={puller.pk}").status_code == 200


def test_settings_page_and_configure_switch_anonymous_and_on_demand(admin_client, configured):
    page = admin_client.get(change_url()).content.decode()
    assert "Serve your team (/hub)" in page and "id_hub_on_demand" in page
    admin_client.post(change_url(), form_data(hub_allow_anonymous="on", hub_on_demand="on"))
    setting = Setting.load()
    assert setting.hub_allow_anonymous and setting.hub_on_demand
    status, out = run_configure("--hub-anonymous", "off", "--json")
    assert status == 0 and '"hub_allow_anonymous": false' in out and '"hub_on_demand": true' in out
    assert not Setting.load().hub_allow_anonymous
