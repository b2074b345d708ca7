"""Issue 14, item 6 in Chromium at 1280 and 390 px: a quant the command line downloaded is shown as
already there in Add from Hub (and ticking it again makes no second variant); every row of the variant
list has a readable name, imported ones included."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from huggingface_hub import hf_hub_download

from downloads.models import ModelVariant
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.browser


def test_one_variant_per_file_set_and_every_name_readable(sized_page, live_server, configured, hub, tmp_path,
                                                          artifacts_dir):
    hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(metadata={"q": 8})})
    call_command("download", "org/gguf", "--include", "*Q4_K_M*", "--wait", "--json", stdout=StringIO())
    other = tmp_path / "other-cache"
    hf_hub_download("org/gguf", "m-Q8_0.gguf", cache_dir=other, endpoint=hub.url, token=False)
    out = StringIO()
    call_command("scan_cache", "--path", str(other), "--import", "--json", stdout=out)
    [imported] = [r for r in json.loads(out.getvalue()) if r["location"] == str(other)]
    assert imported["outcome"] == "imported", imported

    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/add-from-hub/?repo_id=org/gguf&repo_type=model")
    existing = page.locator("#mh-choices tr", has_text="Q4_K_M").locator(".mh-existing")
    assert seen_by_user(existing) and existing.inner_text() == "already a variant: Q4_K_M (installed)"
    save_shot(page, artifacts_dir, f"one-variant-add-from-hub-{page.mh_width}")
    page.check("input[name=choices][value='gguf:m-Q4_K_M']")
    page.uncheck("#id_download_now")
    page.click("input[value='Add selected']")
    assert seen_by_user(page.locator(".messagelist .info", has_text="1 already existed"))
    assert ModelVariant.objects.count() == 2

    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    names = page.locator("#result_list .mh-name").all_inner_texts()
    assert sorted(names) == ["Q4_K_M", "Q8_0"]  # the import is named after its quant, never "-"
    for name in page.locator("#result_list .mh-name").all():
        assert seen_by_user(name)
    save_shot(page, artifacts_dir, f"one-variant-list-{page.mh_width}")
