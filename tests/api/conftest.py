"""The API's callers: users with the admin's permissions, reaching the API with an API token (Bearer) or
with the admin session (CSRF enforced), through Django's full HTTP stack."""

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from serving import tokens

VIEW = ("downloads.view_modelvariant", "downloads.view_downloadjob", "settings_app.view_setting")
OPERATE = VIEW + ("downloads.add_modelvariant", "downloads.download_modelvariant",
                  "downloads.delete_files_modelvariant", "settings_app.change_setting")


def make_user(username: str, *perms: str) -> User:
    user = User.objects.create_user(username, password="pw-Secret-123")
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return User.objects.get(pk=user.pk)  # a fresh object: no cached permissions


def bearer_client(user: User) -> tuple[APIClient, str]:
    plain = tokens.create(user, name="api test")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client, plain


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def nobody(db) -> APIClient:
    """Authenticated with a valid token, but without any permission."""
    return bearer_client(make_user("nobody"))[0]


@pytest.fixture
def viewer(db) -> APIClient:
    return bearer_client(make_user("viewer", *VIEW))[0]


@pytest.fixture
def operator(db) -> APIClient:
    return bearer_client(make_user("operator", *OPERATE))[0]


def assert_error(response, status: int, code: str) -> dict:
    """A JSON error body with the machine-readable code and some guidance."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert body["message"] and body["guidance"], body
    return body
