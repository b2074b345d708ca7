"""Issue 14, item 5 in Chromium at 1280 and 390 px: a file link pasted into Add from Hub (the most common
copy from the Hub's pages) looks the repo up with that quant ticked; `hf.co/org/name:QUANT` too."""

import pytest

from downloads.models import ModelVariant
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.browser


@pytest.fixture
def gguf(configured, hub):
    return hub.add_repo("TheOrg/Some-Model-GGUF", {
        "some-model.Q4_K_M.gguf": make_gguf(), "some-model.Q8_0.gguf": make_gguf(metadata={"q": "8"}),
        "README.md": b"# card"})


@pytest.mark.parametrize("pasted, quant", [
    ("https://huggingface.co/TheOrg/Some-Model-GGUF/blob/main/some-model.Q4_K_M.gguf", "Q4_K_M"),
    ("hf.co/TheOrg/Some-Model-GGUF:Q8_0", "Q8_0"),
])
def test_a_pasted_hub_reference_preselects_its_quant(sized_page, live_server, gguf, pasted, quant,
                                                     artifacts_dir):
    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/add-from-hub/")
    page.fill("#id_repo_id", pasted)
    page.click("input[value='Look up']")
    note = page.locator("#mh-preselected")
    assert seen_by_user(note) and f"Preselected from your link: {quant}" in note.inner_text()
    box = page.locator(f"input[name=choices][value='gguf:some-model.{quant}']")
    assert box.is_checked() and seen_by_user(box)
    assert [c.get_attribute("value") for c in page.locator("input[name=choices]:checked").all()] == [
        f"gguf:some-model.{quant}"]
    save_shot(page, artifacts_dir, f"references-{quant}-{page.mh_width}")
    page.uncheck("#id_download_now")
    page.click("input[value='Add selected']")
    assert seen_by_user(page.locator(".messagelist .success", has_text="Created 1 variant(s)"))
    variant = ModelVariant.objects.get()
    assert (variant.repo_id, variant.name, variant.include) == (
        "TheOrg/Some-Model-GGUF", quant, [f"some-model.{quant}.gguf"])
