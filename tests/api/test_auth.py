"""Who may call what: API tokens (Bearer) and the admin session, each endpoint against the admin's
permissions. Anonymous callers get 401, callers without the permission 403, both as JSON."""

import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.middleware.csrf import _get_new_csrf_string
from rest_framework.test import APIClient

from downloads import services
from downloads.models import ModelVariant
from serving import tokens
from tests.api.conftest import OPERATE, VIEW, assert_error, bearer_client, make_user

# (method, path, body, permission needed). {v} is a variant id, {j} a job id.
ENDPOINTS = [
    ("get", "/api/v1/variants/", None, "downloads.view_modelvariant"),
    ("get", "/api/v1/variants/{v}/", None, "downloads.view_modelvariant"),
    ("get", "/api/v1/lookup/?reference=org/x", None, "downloads.add_modelvariant"),
    ("post", "/api/v1/variants/", {"reference": "org/x"}, "downloads.add_modelvariant"),
    ("post", "/api/v1/variants/{v}/download/", {}, "downloads.download_modelvariant"),
    ("post", "/api/v1/variants/{v}/cancel/", {}, "downloads.download_modelvariant"),
    ("post", "/api/v1/variants/{v}/retry/", {}, "downloads.download_modelvariant"),
    ("post", "/api/v1/variants/{v}/verify/", {"mode": "full"}, "downloads.download_modelvariant"),
    ("post", "/api/v1/variants/{v}/repair/", {}, "downloads.download_modelvariant"),
    ("post", "/api/v1/variants/{v}/delete-files/", {}, "downloads.delete_files_modelvariant"),
    ("get", "/api/v1/jobs/", None, "downloads.view_downloadjob"),
    ("get", "/api/v1/jobs/{j}/", None, "downloads.view_downloadjob"),
    ("post", "/api/v1/jobs/{j}/cancel/", {}, "downloads.download_modelvariant"),
    ("post", "/api/v1/jobs/{j}/retry/", {}, "downloads.download_modelvariant"),
    ("post", "/api/v1/jobs/{j}/pause/", {}, "downloads.download_modelvariant"),
    ("post", "/api/v1/jobs/{j}/resume/", {}, "downloads.download_modelvariant"),
    ("get", "/api/v1/storage/", None, "downloads.view_modelvariant"),
    ("post", "/api/v1/storage/cleanup/", {}, "downloads.delete_files_modelvariant"),
    ("get", "/api/v1/settings/", None, "settings_app.view_setting"),
    ("patch", "/api/v1/settings/", {"reverify_interval_hours": 12}, "settings_app.change_setting"),
]
IDS = [f"{m} {p}" for m, p, _, _ in ENDPOINTS]


@pytest.fixture
def ids(db) -> dict:
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    job, _ = services.enqueue(variant, run_here=True)
    return {"v": variant.pk, "j": job.pk}


def call(client, method, path, body, ids):
    url = path.format(**ids)
    return getattr(client, method)(url, body, format="json") if body is not None else client.get(url)


@pytest.mark.parametrize(("method", "path", "body", "perm"), ENDPOINTS, ids=IDS)
def test_anonymous_callers_get_401_with_a_json_body(anonymous, ids, method, path, body, perm):
    response = call(anonymous, method, path, body, ids)
    body = assert_error(response, 401, "not_authenticated")
    assert "api_token create" in body["guidance"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body", "perm"), ENDPOINTS, ids=IDS)
def test_a_token_without_the_permission_gets_403_naming_it(ids, method, path, body, perm):
    everything_else = [p for p in OPERATE + ("settings_app.confirm_token_endpoint",) if p != perm]
    client, _ = bearer_client(make_user("almost", *everything_else))
    body = assert_error(call(client, method, path, body, ids), 403, "permission_denied")
    assert perm in body["message"]
    assert ModelVariant.objects.count() == 1 and not LogEntry.objects.exists()  # nothing was done


@pytest.mark.parametrize(("method", "path", "body", "perm"), ENDPOINTS, ids=IDS)
def test_a_token_with_the_permission_gets_past_the_check(ids, configured, method, path, body, perm):
    client, _ = bearer_client(make_user("allowed", perm))
    response = call(client, method, path, body, ids)
    # Past authentication and the permission check: an answer about the request itself.
    assert response.status_code not in (401, 403, 500), response.content[:300]
    assert response["Content-Type"].startswith("application/json")


def test_viewing_permissions_read_but_do_not_act(viewer, ids):
    assert viewer.get(f"/api/v1/variants/{ids['v']}/").json()["repo_id"] == "org/x"
    assert viewer.get("/api/v1/jobs/").json()["count"] == 1
    assert_error(viewer.post(f"/api/v1/variants/{ids['v']}/download/", {}, format="json"), 403,
                 "permission_denied")
    assert_error(viewer.patch("/api/v1/settings/", {"hub_on_demand": True}, format="json"), 403,
                 "permission_denied")


def test_revoked_unknown_and_hugging_face_tokens_are_refused_with_401(db, caplog):
    user = make_user("alice", *VIEW)
    row, plain = tokens.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.get("/api/v1/variants/").status_code == 200
    tokens.revoke(row)
    with caplog.at_level(logging.DEBUG):
        body = assert_error(client.get("/api/v1/variants/"), 401, "authentication_failed")
    assert plain not in str(body) and plain not in caplog.text and "Unauthorized" in caplog.text
    client.credentials(HTTP_AUTHORIZATION="Bearer mh_" + "x" * 40)
    assert_error(client.get("/api/v1/variants/"), 401, "authentication_failed")
    client.credentials(HTTP_AUTHORIZATION="Bearer hf_abcdefghijklmnopqrstuvwxyz")
    body = assert_error(client.get("/api/v1/variants/"), 401, "authentication_failed")
    assert "Hugging Face token" in body["message"] and "hf_abcdefghijklmnopqrstuvwxyz" not in str(body)


def test_a_token_of_an_inactive_user_is_refused(db):
    user = make_user("gone", *VIEW)
    client, _ = bearer_client(user)
    user.is_active = False
    user.save()
    assert_error(client.get("/api/v1/variants/"), 401, "authentication_failed")


def test_the_admin_session_reads_and_acts_with_its_csrf_token(db, configured):
    user = make_user("browser", *OPERATE)
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(f"/api/v1/variants/{variant.pk}/").status_code == 200
    # A cross-site form post rides on the session cookie, but has no CSRF token: refused.
    body = assert_error(client.post(f"/api/v1/variants/{variant.pk}/download/", {}, format="json"), 403,
                        "permission_denied")
    assert "CSRF" in body["message"] and not variant.jobs.exists()
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    response = client.post(f"/api/v1/variants/{variant.pk}/download/", {}, format="json",
                           HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 202 and response.json()["job"]["origin"] == "api"
    assert response.json()["job"]["requested_by"] == "browser"


def test_the_session_of_a_user_without_permission_gets_403(db):
    client = APIClient()
    client.force_login(make_user("plain"))
    assert_error(client.get("/api/v1/variants/"), 403, "permission_denied")
