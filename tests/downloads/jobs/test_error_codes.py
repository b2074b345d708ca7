"""Every failure gets a stable code and a specific fix, produced for real against the test Hub."""

import json
import os
import subprocess
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus
from engine.cache.layout import RepoCache
from settings_app.models import Setting
from tests import workers
from tests.jobs import run_download as run
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.django_db

GOOD_TOKEN = "hf_GoodTokenForTests0001"




def set_token(token: str | None) -> None:
    setting = Setting.load()
    if token:
        setting.set_hf_token(token)
    else:
        setting.clear_hf_token()
    setting.save()


def test_gated_repo_without_token_explains_license(configured, hub):
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    job = run("org/gated")
    assert job.error_code == "gated_no_token"
    assert f"{hub.url}/org/gated" in job.guidance
    assert f"{hub.url}/settings/tokens" in job.guidance
    assert "/admin/settings_app/setting/" in job.guidance
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.FAILED


def test_gated_repo_with_token_lacking_access_says_accept_license(configured, hub):
    hub.add_token(GOOD_TOKEN, user="bob")
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="auto")
    set_token(GOOD_TOKEN)
    job = run("org/gated")
    assert job.error_code == "gated_no_access"
    assert "bob" in job.guidance and f"{hub.url}/org/gated" in job.guidance


def test_gated_repo_with_access_downloads(configured, hub):
    hub.add_token(GOOD_TOKEN, can_access=["org/gated"])
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    set_token(GOOD_TOKEN)
    assert run("org/gated").state == JobState.SUCCEEDED


def test_invalid_token_is_told_apart_from_missing_access(configured, hub):
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    set_token("hf_RevokedTokenXYZ12345")
    job = run("org/gated")
    assert job.error_code == "token_invalid"
    assert f"{hub.url}/settings/tokens" in job.guidance


def test_invalid_token_on_public_repo_is_token_invalid(configured, hub):
    hub.add_repo("org/public", {"model.gguf": make_gguf()})
    set_token("hf_RevokedTokenXYZ12345")
    assert run("org/public").error_code == "token_invalid"


def test_missing_repo(configured, hub):
    job = run("org/does-not-exist")
    assert job.error_code == "repo_not_found"
    assert "org/does-not-exist" in job.guidance and "dataset" in job.guidance


def test_missing_revision_names_the_revision(configured, hub):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    job = run("org/tiny", revision="v9.9")
    assert job.error_code == "revision_not_found"
    assert "'v9.9'" in job.guidance


def test_include_pattern_matching_nothing(configured, hub):
    hub.add_repo("org/tiny", {"model-Q4_K_M.gguf": make_gguf()})
    job = run("org/tiny", include=["*Q5_K_M*.gguf"])
    assert job.error_code == "file_not_found"
    assert "*Q5_K_M*.gguf" in job.guidance
    assert hub.bytes_sent() == 0


def test_persistent_server_error_after_retries(configured, hub):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    hub.fail_next("model.gguf", 500, count=100)
    job = run("org/tiny")
    assert job.error_code == "server_error"
    assert "HTTP 500" in job.guidance
    assert len([r for r in hub.file_requests("model.gguf") if r.method == "GET"]) == 4  # 1 + 3 retries


def test_rate_limited_past_retries(configured, hub):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    hub.fail_next("model.gguf", 429, count=100, retry_after=0)
    job = run("org/tiny")
    assert job.error_code == "rate_limited"
    assert "rate-limiting" in job.guidance


def test_dropped_connections_past_retry_budget_is_network(configured, hub, storage):
    data = os.urandom(200_000)
    repo = hub.add_repo("org/net", {"weights.bin": data})
    hub.drop_after("weights.bin", 0, count=100)
    job = run("org/net", kind="files")
    assert job.error_code == "network"
    assert "Retry resumes" in job.guidance
    assert not RepoCache(storage, "org/net").blob_path(repo.files["weights.bin"].etag).exists()


def test_unreachable_endpoint_is_network(configured, hub):
    setting = Setting.load()
    setting.hub_endpoint = "http://127.0.0.1:9"  # discard port: nothing listens
    setting.save()
    job = run("org/tiny")
    assert job.error_code == "network"
    assert "127.0.0.1:9" in job.guidance


def test_unsafe_paths_are_refused_before_any_write(configured, hub, storage):
    hub.add_repo("org/evil", {"ok.json": b"{}", "../../escape.txt": b"pwned", "model.gguf": make_gguf()})
    job = run("org/evil", kind="files")
    assert job.error_code == "unsafe_path"
    assert "../../escape.txt" in job.error_message
    assert hub.bytes_sent() == 0
    assert not (storage.parent / "escape.txt").exists()
    assert not (storage / "models--org--evil" / "blobs").exists() or not any((storage / "models--org--evil" / "blobs").iterdir())


def test_insufficient_space_precheck_reports_bytes(configured, hub):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    setting = Setting.load()
    setting.min_free_space = 10**18
    setting.save()
    job = run("org/tiny")
    assert job.error_code == "insufficient_space"
    assert "still to download" in job.guidance and "is free" in job.guidance
    assert hub.bytes_sent() == 0


@pytest.fixture
def small_fs(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a small tmpfs for the disk-full test: {done.stderr.decode()}")
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_mid_write_keeps_partial_and_damages_nothing(configured, hub, small_fs):
    setting = Setting.load()
    setting.storage_dir = str(small_fs)
    setting.save()
    # an installed small model must survive the later disk-full failure
    hub.add_repo("org/small", {"model.gguf": make_gguf()})
    assert run("org/small").state == JobState.SUCCEEDED
    small_blobs = {p: p.read_bytes() for p in (small_fs / "models--org--small" / "blobs").iterdir()}
    big = os.urandom(600_000)  # fits when the job starts: the pre-check passes
    repo = hub.add_repo("org/big", {"weights.bin": big})
    cache = RepoCache(small_fs, "org/big")
    partial = cache.partial_path(repo.files["weights.bin"].etag)
    hub.throttle(400_000)

    def fill_disk_once_streaming():  # another program eats the space mid-download
        workers.wait_for(lambda: partial.exists() and partial.stat().st_size > 0, timeout=20, message="partial")
        with open(small_fs / "filler", "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass

    filler = threading.Thread(target=fill_disk_once_streaming)
    filler.start()
    job = run("org/big", kind="files")
    filler.join()
    assert job.error_code == "disk_full"
    assert "partial file was kept" in job.guidance
    assert partial.exists() and partial.stat().st_size > 0
    assert not cache.blob_path(repo.files["weights.bin"].etag).exists()
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.FAILED
    assert {p: p.read_bytes() for p in small_blobs} == small_blobs


def test_disk_full_with_buffered_small_pieces_stays_disk_full_and_retry_resumes(configured, small_fs):
    """A body arriving in small pieces sits in the file's write buffer: after the first ENOSPC,
    flushing and closing fail the same way, and that second error must not replace disk_full."""
    from huggingface_hub.utils import close_session

    from fakehub.hostile import HostileHub

    data = os.urandom(700_000)

    def in_pieces(handler):
        start = handler.range_start
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Length", str(len(data) - start))
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.end_headers()
        for pos in range(start, len(data), 700):
            handler.wfile.write(data[pos:pos + 700])
            time.sleep(0.0005)

    with HostileHub() as mirror:
        mirror.repo("org/big", files={"weights.bin": data}, resolve={"weights.bin": in_pieces})
        setting = Setting.load()
        setting.hub_endpoint = mirror.url
        setting.storage_dir = str(small_fs)
        setting.save()
        filler = small_fs / "filler"
        partial = RepoCache(small_fs, "org/big").partial_path(_sha256(data))

        def fill_disk_once_streaming():
            workers.wait_for(lambda: partial.exists() and partial.stat().st_size > 50_000, timeout=20,
                             message="partial")
            with open(filler, "wb", buffering=0) as fh:
                try:
                    while True:
                        fh.write(b"\0" * 4096)
                except OSError:
                    pass

        thread = threading.Thread(target=fill_disk_once_streaming)
        thread.start()
        job = run("org/big", kind="files")
        thread.join()
        assert job.error_code == "disk_full", job.error_message
        kept = partial.stat().st_size
        assert 0 < kept < len(data)
        filler.unlink()  # space is freed; Retry resumes the partial
        job = run("org/big", kind="files")
        assert job.state == JobState.SUCCEEDED, job.error_message
        assert job.bytes_resumed >= kept - 65536
    close_session()


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_download_json_carries_code_and_guidance(configured, hub, capsys):
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    with pytest.raises(CommandError) as exc:
        call_command("download", "org/gated", "--wait", "--json")
    assert exc.value.returncode == 1
    out = json.loads(capsys.readouterr().out)
    job = DownloadJob.objects.get(pk=out["job_id"])
    assert out["error_code"] == "gated_no_token" == job.error_code
    assert out["guidance"] == job.guidance


@pytest.mark.parametrize("args, fragment", [
    (["not a repo"], "not a repo id"),
    (["org/ok", "--revision", "bad..rev"], "not a valid branch"),
    (["org/ok", "--include", "../x"], "relative glob"),
    (["org/ok", "--limit-rate", "fast"], "is not a size"),
    (["org/ok", "--include", "[abc"], "unbalanced"),
])
def test_bad_input_is_refused_before_anything_is_queued(configured, capsys, args, fragment):
    with pytest.raises(CommandError) as exc:
        call_command("download", *args, "--json")
    assert exc.value.returncode == 2
    out = json.loads(capsys.readouterr().out)
    assert out["error_code"] == "invalid_input" and fragment in out["error_message"]
    assert DownloadJob.objects.count() == 0


def test_endpoint_is_validated_by_configure(configured):
    with pytest.raises(CommandError) as exc:
        call_command("configure", "--hub-endpoint", "ftp://nope")
    assert "http(s) URL" in str(exc.value)
    with pytest.raises(CommandError):
        call_command("configure", "--min-free-space", "lots")
    assert Setting.load().hub_endpoint.startswith("http://127.0.0.1")


def test_unusable_storage_folder_is_storage_error(configured, hub, tmp_path):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("I am a file, not a folder")
    Setting.objects.filter(pk=1).update(storage_dir=str(not_a_dir / "hub"))
    job = run("org/tiny")
    assert job.error_code == "storage_error"
    assert "a-file" in job.guidance and "writable" in job.guidance


def test_unusable_lock_folder_is_storage_error(configured, hub, storage):
    """The blob locks live in <storage>/.locks: a file in its place fails the job as storage_error,
    naming the path, not as a crash."""
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    storage.mkdir(parents=True, exist_ok=True)
    (storage / ".locks").write_text("not a folder")
    job = run("org/tiny")
    assert job.error_code == "storage_error", job.error_message
    assert ".locks" in job.error_message


def test_configure_check_token_reports_user_and_role_or_why_not(configured, hub, capsys):
    hub.add_token(GOOD_TOKEN, user="carol", role="write")
    set_token(GOOD_TOKEN)
    call_command("configure", "--check-token", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["token_check"]["ok"] and out["token_check"]["user"] == "carol" and out["token_check"]["role"] == "write"
    assert out["token"].endswith("(saved in Settings)") and GOOD_TOKEN[-4:] in out["token"]
    set_token("hf_NotKnownAnywhere9999")
    with pytest.raises(CommandError):
        call_command("configure", "--check-token", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["token_check"]["ok"] is False and out["token_check"]["code"] == "token_invalid"


def test_token_sources_in_order_settings_env_file(configured, monkeypatch, tmp_path):
    from settings_app.tokens import resolve_token

    hf_home = tmp_path / "hf"
    hf_home.mkdir()
    (hf_home / "token").write_text("hf_FromTokenFile0001\n")
    monkeypatch.setenv("HF_HOME", str(hf_home))
    assert resolve_token().source == f"file:{hf_home / 'token'}"
    monkeypatch.setenv("HF_TOKEN", "hf_FromEnvironment0002")
    assert resolve_token().source == "env:HF_TOKEN"
    set_token("hf_FromSettings00003")
    resolved = resolve_token()
    assert resolved.source == "settings" and resolved.last4 == "0003"
    assert "hf_FromSettings00003" not in repr(resolved) and "0003" in resolved.describe()
    set_token(None)
    monkeypatch.delenv("HF_TOKEN")
    (hf_home / "token").unlink()
    assert resolve_token().source == "none"


def test_token_saved_with_another_key_is_reported_not_used(configured, hub, settings):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    set_token("hf_SavedUnderOldKey0001")
    settings.MODELHUB_TOKEN_KEYS = ["a-different-key"]
    job = run("org/tiny")
    assert job.error_code == "token_invalid"
    assert "cannot be decrypted" in job.error_message
