"""Storage (summary, cleanup with a dry run) and Settings (read with the token never shown, change
validated as the Settings page validates) through the API."""

from django.contrib.admin.models import LogEntry

from settings_app.models import Setting
from tests.api.conftest import assert_error, bearer_client, make_user
from tests.jobs import run_download
from tests.storage_helpers import model_files, write_partial

HF_TOKEN = "hf_apiTestSecretToken9876"


def test_storage_summary_shows_used_and_free_space_and_partials(viewer, configured, hub, storage):
    hub.add_repo("org/model", model_files())
    run_download("org/model")
    partial = write_partial(storage, "models--org--old", 1234, hours=48)
    body = viewer.get("/api/v1/storage/").json()
    assert body["storage_dir"] == str(storage)
    here = body["locations"][0]
    assert here["role"] == "storage" and here["path"] == str(storage) and here["exists"]
    assert here["volume"]["free"] > 0 and here["volume"]["total"] >= here["volume"]["used"]
    assert here["blob_bytes"] > 0 and here["partial_bytes"] == 1234 and here["repos"] == 2
    assert [p["path"] for p in body["partials"]] == [str(partial)] and body["partial_bytes"] == 1234
    assert body["partials"][0]["age_seconds"] > 47 * 3600 and body["partials"][0]["job"] is None


def test_cleanup_lists_first_and_removes_only_when_asked(operator, configured, storage):
    old = write_partial(storage, "models--org--old", 100, hours=48)
    young = write_partial(storage, "models--org--young", 100, hours=1)
    dry = operator.post("/api/v1/storage/cleanup/", {}, format="json").json()
    assert dry["dry_run"] and [i["path"] for i in dry["removed"]] == [str(old)] and old.exists()
    assert str(young) in [i["path"] for i in dry["skipped"]] and dry["bytes_freed"] == 100
    done = operator.post("/api/v1/storage/cleanup/", {"dry_run": False, "only": [str(old)]},
                         format="json").json()
    assert not done["dry_run"] and [i["path"] for i in done["removed"]] == [str(old)]
    assert not old.exists() and young.exists()
    everything = operator.post("/api/v1/storage/cleanup/", {"dry_run": False, "older_than_hours": 0},
                               format="json").json()
    assert [i["path"] for i in everything["removed"]] == [str(young)] and not young.exists()
    for junk in ("abc", -1, None, [1], "nan", "inf"):
        response = operator.post("/api/v1/storage/cleanup/", {"older_than_hours": junk}, format="json")
        assert_error(response, 400, "invalid_input")


def test_settings_show_the_token_only_as_its_last_four_characters(viewer, configured):
    configured.set_hf_token(HF_TOKEN)
    configured.save()
    response = viewer.get("/api/v1/settings/")
    body = response.json()
    assert body["hf_token"] == {"set": True, "saved": True, "source": "settings",
                                "description": "Token ending in …9876 (saved in Settings)"}
    assert body["effective_hub_endpoint"] == configured.hub_endpoint
    assert HF_TOKEN not in response.content.decode() and "hf_token_encrypted" not in body


def test_settings_change_is_validated_like_the_settings_page(operator, configured):
    changed = operator.patch("/api/v1/settings/", {"reverify_interval_hours": 6, "min_free_space": "2GB",
                                                   "bandwidth_limit": 5_000_000, "hub_on_demand": True},
                             format="json")
    assert changed.status_code == 200, changed.content
    body = changed.json()["settings"]
    assert (body["reverify_interval_hours"], body["min_free_space"], body["bandwidth_limit"]) == (
        6, 2_000_000_000, 5_000_000)
    assert body["hub_on_demand"] and body["hub_endpoint"] == configured.hub_endpoint  # the rest unchanged
    setting = Setting.load()
    assert setting.reverify_interval_hours == 6 and setting.storage_dir == configured.storage_dir
    assert "reverify_interval_hours" in LogEntry.objects.get().change_message

    for bad, field in [({"hub_endpoint": "ftp://mirror"}, "hub_endpoint"),
                       ({"storage_dir": "/etc"}, "storage_dir"),
                       ({"bandwidth_limit": 0}, "bandwidth_limit"),
                       ({"min_free_space": "lots"}, "min_free_space"),
                       ({"max_parallel_files": 10_000}, "max_parallel_files"),
                       ({"completeness_rules": {"voice": "*.onnx"}}, "completeness_rules"),
                       ({"hf_token": "two words"}, "hf_token"),
                       ({"hf_token": "hf_x", "clear_token": True}, "non_field_errors")]:
        body = assert_error(operator.patch("/api/v1/settings/", bad, format="json"), 400, "invalid_input")
        assert field in body["errors"], (bad, body)
    assert Setting.load().reverify_interval_hours == 6


def test_a_new_token_is_saved_but_never_echoed_or_logged(operator, configured, hub):
    hub.add_token(HF_TOKEN)  # the Settings form may ask the Hub about a new token before saving it
    response = operator.patch("/api/v1/settings/", {"hf_token": HF_TOKEN}, format="json")
    assert response.status_code == 200 and HF_TOKEN not in response.content.decode()
    assert response.json()["settings"]["hf_token"]["description"].startswith("Token ending in …9876")
    assert Setting.load().saved_hf_token() == HF_TOKEN
    assert all(HF_TOKEN not in e.change_message for e in LogEntry.objects.all())
    assert any("…9876" in m for m in response.json()["messages"]), response.json()["messages"]
    cleared = operator.patch("/api/v1/settings/", {"clear_token": True}, format="json").json()
    assert cleared["settings"]["hf_token"]["saved"] is False
    refused = operator.patch("/api/v1/settings/", {"hf_token": "hf_UnknownToTheHub0000"}, format="json")
    body = assert_error(refused, 400, "invalid_input")
    assert "rejected this token" in str(body["errors"]["hf_token"]) and not Setting.load().hf_token_encrypted


def test_confirming_the_token_for_a_new_endpoint_needs_its_own_permission(operator, configured):
    configured.set_hf_token(HF_TOKEN)
    configured.save()
    moved = operator.patch("/api/v1/settings/", {"hub_endpoint": "https://mirror.example"},
                           format="json").json()
    assert "not sent to https://mirror.example" in " ".join(moved["messages"])
    assert moved["settings"]["hf_token"]["source"] == "settings-unconfirmed"
    body = assert_error(operator.patch("/api/v1/settings/", {"confirm_token_endpoint": True}, format="json"),
                        403, "permission_denied")
    assert "confirm_token_endpoint" in body["message"]
    boss, _ = bearer_client(make_user("boss", "settings_app.change_setting",
                                      "settings_app.confirm_token_endpoint"))
    confirmed = boss.patch("/api/v1/settings/", {"confirm_token_endpoint": True}, format="json").json()
    assert confirmed["settings"]["hf_token"]["source"] == "settings"


def test_webhooks_are_set_through_the_api_and_the_secret_is_never_shown(operator, configured):
    secret = "whsec-" + "s3cr3t" * 4
    response = operator.patch("/api/v1/settings/", {"webhook_urls": ["http://127.0.0.1:9/hook",
                                                                     "https://ops.example/modelhub"],
                                                    "webhook_secret": secret}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()["settings"]
    assert body["webhook_urls"] == ["http://127.0.0.1:9/hook", "https://ops.example/modelhub"]
    assert body["webhook_secret"] == f"set, ending …{secret[-4:]}"
    assert secret not in response.content.decode()
    assert secret not in operator.get("/api/v1/settings/").content.decode()
    assert all(secret not in e.change_message for e in LogEntry.objects.all())

    for bad in ({"webhook_urls": ["ftp://ops.example/x"]}, {"webhook_urls": ["https://u:pw@ops.example/"]},
                {"webhook_urls": "https://ops.example/"}, {"webhook_secret": "short"}):
        body = assert_error(operator.patch("/api/v1/settings/", bad, format="json"), 400, "invalid_input")
        assert "pw" not in str(body["errors"]), body
    cleared = operator.patch("/api/v1/settings/", {"webhook_urls": [], "clear_webhook_secret": True},
                             format="json")
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["settings"]["webhook_urls"] == []
    assert cleared.json()["settings"]["webhook_secret"] == "not set"
