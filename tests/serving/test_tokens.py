"""Who may pull: ModelHub API tokens (refused, accepted, revoked), the pull permission, anonymous pulls,
and the upstream HF token, which no answer ever carries."""

from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.db import connection

from serving import tokens
from serving.models import ApiToken, PullLog
from settings_app.models import Setting
from tests.serving.conftest import assert_same_as_origin, hf_env, install, run_hf, tiny_files

UPSTREAM = "hf_UpstreamSecretToken0000000000000000"


@pytest.fixture
def tiny(configured, hub):
    repo = hub.add_repo("org/tiny", tiny_files())
    install("org/tiny")
    return repo


def get(endpoint: str, token: str | None = None, path: str = "org/tiny/resolve/main/config.json"):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{endpoint}/{path}", headers=headers, timeout=10)


def test_hf_download_without_a_token_is_refused_with_how_to_get_one(tiny, endpoint, client_home,
                                                                     session_reset):
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import GatedRepoError

    done = run_hf("download", "--quiet", "org/tiny", "config.json", env=hf_env(endpoint, client_home))
    assert done.returncode != 0
    assert "Access denied" in done.stderr  # the CLI's own words for GatedRepoError
    # Libraries (transformers, vLLM) show the exception, which carries ModelHub's explanation.
    with pytest.raises(GatedRepoError, match="needs an API token"):
        hf_hub_download("org/tiny", "config.json", endpoint=endpoint, token=False,
                        cache_dir=client_home / "lib")
    answer = get(endpoint)
    assert (answer.status_code, answer.headers["X-Error-Code"]) == (401, "GatedRepo")
    assert PullLog.objects.filter(status=401, repo_id="org/tiny").exists()


def test_token_accepted_then_revoked_then_refused(tiny, hub, endpoint, token, client_home, tmp_path):
    env = hf_env(endpoint, client_home, token)
    done = run_hf("download", "--quiet", "org/tiny", "config.json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_same_as_origin(hub, "org/tiny", Path(done.stdout.strip().splitlines()[-1]).parent, ["config.json"])
    row = ApiToken.objects.get()
    assert row.last_used_at is not None
    assert PullLog.objects.filter(status=200, token=row, user=row.user).count() == 1

    call_command("api_token", "revoke", row.prefix)
    elsewhere = hf_env(endpoint, tmp_path / "another-machine", token)
    again = run_hf("download", "--quiet", "org/tiny", "config.json", env=elsewhere)
    assert again.returncode != 0 and "Access denied" in again.stderr
    refused = get(endpoint, token)
    assert (refused.status_code, refused.headers["X-Error-Code"]) == (401, "GatedRepo")
    assert "token was refused" in refused.json()["error"]


def test_an_hf_token_gets_a_hint_and_a_wrong_token_is_refused_even_with_anonymous_pulls(tiny, endpoint):
    assert "ModelHub API token instead" in get(endpoint, "hf_" + "x" * 34).json()["error"]
    Setting.objects.filter(pk=1).update(hub_allow_anonymous=True)
    assert get(endpoint, "mh_not-a-real-token").status_code == 401
    assert get(endpoint).status_code == 200  # no token at all: anonymous
    assert PullLog.objects.filter(status=200, user=None, token=None).count() == 1


def test_a_user_without_the_pull_permission_gets_403(tiny, endpoint, django_user_model):
    bob = django_user_model.objects.create_user("bob", password="bob-Secret-123")
    _, plain = tokens.create(bob)
    answer = get(endpoint, plain)
    assert (answer.status_code, answer.headers["X-Error-Code"]) == (403, "GatedRepo")
    assert "Can pull models" in answer.json()["error"]


def test_an_inactive_user_token_is_refused(tiny, endpoint, token, puller):
    puller.is_active = False
    puller.save()
    assert get(endpoint, token).status_code == 401


def test_whoami_v2(tiny, endpoint, token, client_home):
    done = run_hf("auth", "whoami", env=hf_env(endpoint, client_home, token))
    assert done.returncode == 0 and "alice" in done.stdout, done.stdout + done.stderr
    assert get(endpoint, "mh_wrong", "api/whoami-v2").status_code == 401
    assert get(endpoint, None, "api/whoami-v2").status_code == 401


def test_api_token_command_prints_the_token_last_and_stores_only_its_hash(db, puller, capsys):
    call_command("api_token", "create", "alice", "--name", "gpu-1")
    out = capsys.readouterr().out.strip().splitlines()
    plain = out[-1]
    assert plain.startswith("mh_") and len(plain) > 40
    row = ApiToken.objects.get()
    assert row.prefix == plain[:10] and row.token_hash != plain and row.name == "gpu-1"
    with connection.cursor() as cursor:  # the secret is in no column of the table
        cursor.execute("SELECT * FROM serving_apitoken")
        assert not any(plain in str(value) for record in cursor.fetchall() for value in record)
    assert tokens.verify(plain) == row
    call_command("api_token", "list", "--json")
    listed = capsys.readouterr().out
    assert row.prefix in listed and plain not in listed
    call_command("api_token", "revoke", str(row.pk))
    assert tokens.verify(plain) is None


def test_api_token_create_can_grant_the_pull_permission(db, django_user_model, capsys):
    django_user_model.objects.create_user("carol", password="carol-Secret-123")
    call_command("api_token", "create", "carol")
    assert "may not pull yet" in capsys.readouterr().out
    call_command("api_token", "create", "carol", "--grant-pull")
    out = capsys.readouterr().out
    assert "may not pull yet" not in out
    assert django_user_model.objects.get(username="carol").has_perm("serving.pull_models")


def test_api_token_create_can_grant_the_metrics_permission_and_the_token_scrapes(db, django_user_model,
                                                                                 capsys, client):
    django_user_model.objects.create_user("prometheus")
    call_command("api_token", "create", "prometheus", "--name", "scrape", "--grant-metrics")
    out = capsys.readouterr().out
    plain = out.strip().splitlines()[-1]
    assert plain.startswith("mh_") and "may not pull yet" not in out
    user = django_user_model.objects.get(username="prometheus")
    assert user.has_perm("metrics.view_metrics") and not user.has_perm("serving.pull_models")
    scraped = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert scraped.status_code == 200 and b"modelhub_" in scraped.content


@pytest.mark.parametrize("args", [["create", "nobody"], ["revoke", "mh_nothing"], ["revoke", "mh"]])
def test_api_token_command_bad_input_exits_2(db, puller, args):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as raised:
        call_command("api_token", *args)
    assert raised.value.returncode == 2


def test_the_upstream_hf_token_is_never_in_an_answer(tiny, endpoint, token, monkeypatch):
    setting = Setting.load()
    setting.set_hf_token(UPSTREAM)
    setting.save()
    answers = [get(endpoint, token, path) for path in (
        "org/tiny/resolve/main/config.json", "api/models/org/tiny?blobs=true",
        "api/models/org/tiny/tree/main", "api/whoami-v2", "org/tiny/resolve/main/nothing",
        "org/nothing/resolve/main/x")]
    for answer in answers:
        text = answer.text + repr(dict(answer.headers))
        assert UPSTREAM not in text and UPSTREAM[-8:] not in text
    assert not any(UPSTREAM in str(v) for v in PullLog.objects.values_list())
